"""Coverage panels of the dashboard (工作覆盖): how much of this term's work is done, per unit
one level down (per school at the town level, per class below).

Each number comes from the feature's own function over the same children the dashboard counts
(`services.rows(bare=True)`, i.e. `Child.objects.visible_to(user)`), so that it equals what the
feature's page shows the same user today:

- 摸底排查: this term's campaign of each school, `screening.services.progress_of` over
  `screening_children` and the campaign's records (what `campaign_progress` counts);
- 核实: this term's verification round of each school (the latest, when a school has two),
  `progress_of` over `round_children` and its verifications (what `round_progress` counts);
- 普访: what `contacts.rules.coverage` counts for the left-behind children from the term's first
  day to today (the 普访 page for that date range, "只看留守儿童"), counted per unit in SQL;
- 待联系: the children due today under the user's rules (`contacts.due.DueList`, the due page's
  "N 名学生"), counted per unit in SQL;
- 结对: left-behind children who are the child of an active pair (`Pair.objects.active()`, the
  pair list filtered to 进行中);
- 代理家长: left-behind children with a proxy parent today (`pairing.proxies.current_assignments`).

A place is left for other features' panels (`EXTRA_PANELS`, e.g. the activities' publicity
count): each is a function (user, children, units) -> Panel | None.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from guanai.children.models import Enrolment
from guanai.contacts.access import due_rule_codes
from guanai.contacts.due import DueList
from guanai.contacts.models import Contact, ContactKind
from guanai.contacts.rules import LEFT_BEHIND, local_midnight
from guanai.lib.dates import current_term, term_start
from guanai.lib.grades import grade_name
from guanai.org.models import School, SchoolClass
from guanai.pairing.models import Pair
from guanai.pairing.proxies import current_assignments
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)
from guanai.screening.services import campaign_progress, progress_of
from guanai.screening.verification import round_children


@dataclass
class Line:
    """One unit's row: `done` of `total` (or, for a count, `done` alone)."""

    key: int  # the school's or class's id
    done: int = 0
    total: int = 0

    @property
    def missing(self) -> int:
        return self.total - self.done


@dataclass
class Panel:
    key: str
    title: str
    done_label: str  # 已排查
    total_label: str  # 应排查 ("" for a plain count)
    lines: dict[int, Line] = field(default_factory=dict)
    note: str = ""
    link: str = ""  # the feature's page

    def line(self, key: int) -> Line:
        return self.lines.setdefault(key, Line(key))

    @property
    def done(self) -> int:
        return sum(x.done for x in self.lines.values())

    @property
    def total(self) -> int:
        return sum(x.total for x in self.lines.values())


# Other features add their panels here (a function: (user, children, per_school) -> Panel | None).
EXTRA_PANELS: list[Callable] = []


@dataclass
class Units:
    """The rows of the panels: per school (the town level) or per class, with their names."""

    per_school: bool
    names: dict[int, str]
    order: list[int]
    school_ids: set[int] = field(default_factory=set)
    params: dict[int, dict] = field(default_factory=dict)  # the dashboard's query for the row

    def key_of(self, school_id: int, class_id: int) -> int:
        return school_id if self.per_school else class_id


def _units(children: QuerySet, per_school: bool) -> Units:
    field_ = "school_id" if per_school else "school_class_id"
    return units_of(set(children.order_by().values_list(field_, flat=True).distinct()), per_school)


def units_of(ids: set[int], per_school: bool) -> Units:
    """The units of these schools' (or classes') ids, named and in the dashboard's order."""
    if per_school:
        schools = list(School.objects.filter(pk__in=ids).order_by("-is_central", "code"))
        return Units(
            True,
            {s.pk: s.name for s in schools},
            [s.pk for s in schools],
            school_ids={s.pk for s in schools},
            params={s.pk: {"school": s.code} for s in schools},
        )
    classes = list(
        SchoolClass.objects.filter(pk__in=ids)
        .select_related("school")
        .order_by("school__code", "grade", "class_no")
    )
    return Units(
        False,
        {c.pk: f"{grade_name(c.grade)}({c.class_no})班" for c in classes},
        [c.pk for c in classes],
        school_ids={c.school_id for c in classes},
        params={
            c.pk: {"school": c.school.code, "grade": c.grade, "class_no": c.class_no}
            for c in classes
        },
    )


def _progress(panel: Panel, units: Units, school_id: int, progress: dict) -> None:
    for g in progress["grades"]:
        for c in g["classes"]:
            line = panel.line(units.key_of(school_id, c["id"]))
            line.done += c["done"]
            line.total += c["total"]


KEY = 1 << 32  # above any school's id: child id * KEY + school id names the pair


def school_keys(rows: QuerySet, school: str) -> QuerySet:
    """The (child, school) pairs of `rows` (screening records, verifications; `school` the
    path to their campaign's or round's school) as single numbers, child id * KEY + school
    id: one list the database builds once and looks each card's pair up in, instead of a
    probe of the records per card (bench/stats.py)."""
    return rows.annotate(k=F("child_id") * KEY + F(school)).values("k")


def _grouped(
    panel: Panel, children: QuerySet, units: Units, school_ids: set[int], done: QuerySet
) -> None:
    """Add to the panel the enrolled children of `school_ids`, and those of them whose
    (child, school) pair is in `done` (`school_keys`), per unit: one grouped pass (not a
    query per school)."""
    field_ = "school_id" if units.per_school else "school_class_id"
    grouped = (
        children.filter(school_id__in=school_ids, enrolment=Enrolment.ENROLLED)
        .annotate(child_school=F("id") * KEY + F("school_id"))
        .values(field_)
        .annotate(total=Count("id"), done=Count("id", filter=Q(child_school__in=done)))
        .order_by()
    )
    for r in grouped:
        line = panel.line(r[field_])
        line.done += r["done"]
        line.total += r["total"]


def screening_panel(children: QuerySet, units: Units, term: str) -> Panel:
    panel = Panel("cov_screening", "摸底排查完成情况", "已排查", "应排查")
    school_ids = units.school_ids
    campaigns = list(ScreeningCampaign.objects.filter(term=term, school_id__in=school_ids))
    # What `campaign_progress` counts for each campaign (a school holds one a term): the
    # school's enrolled children, screened when the campaign of their school has their record.
    records = ScreeningRecord.objects.filter(campaign_id__in=[c.pk for c in campaigns])
    screened = school_keys(records, "campaign__school_id")
    if campaigns:
        _grouped(panel, children, units, {c.school_id for c in campaigns}, screened)
    without = school_ids - {c.school_id for c in campaigns}
    if without:
        names = (
            School.objects.filter(pk__in=without).order_by("code").values_list("name", flat=True)
        )
        panel.note = "本学期还没有开展摸底排查：" + "、".join(names) + "。"
    return panel


def screening_panel_plain(children: QuerySet, units: Units, term: str) -> Panel:
    """screening_panel as the feature counts it, a campaign at a time (the tests' reference)."""
    panel = Panel("cov_screening", "摸底排查完成情况", "已排查", "应排查")
    for c in ScreeningCampaign.objects.filter(term=term, school_id__in=units.school_ids):
        _progress(panel, units, c.school_id, campaign_progress(c, children))
    return panel


def _latest_rounds(school_ids: set[int], term: str) -> dict[int, VerificationRound]:
    rounds: dict[int, VerificationRound] = {}
    for r in VerificationRound.objects.filter(term=term, school_id__in=school_ids).order_by("pk"):
        rounds[r.school_id] = r  # the latest round of each school
    return rounds


def verification_panel(children: QuerySet, units: Units, term: str) -> Panel:
    panel = Panel("cov_verification", "假期前核实完成情况", "已核实", "应核实")
    school_ids = units.school_ids
    rounds = _latest_rounds(school_ids, term)
    # What `round_progress` counts for each school's latest round, in one grouped pass.
    checks = CardVerification.objects.filter(round_id__in=[r.pk for r in rounds.values()])
    verified = school_keys(checks, "round__school_id")
    if rounds:
        _grouped(panel, children, units, set(rounds), verified)
    if school_ids - set(rounds):
        panel.note = "本学期还没有开始核实的学校不计入。"
    return panel


def verification_panel_plain(children: QuerySet, units: Units, term: str) -> Panel:
    """verification_panel a round at a time, as the feature counts it (the tests' reference)."""
    panel = Panel("cov_verification", "假期前核实完成情况", "已核实", "应核实")
    for r in _latest_rounds(units.school_ids, term).values():
        done = r.verifications.values("child_id")
        _progress(panel, units, r.school_id, progress_of(round_children(r, children), done))
    return panel


def visit_panel(children: QuerySet, units: Units, today: dt.date) -> Panel:
    since = term_start(today)
    panel = Panel("cov_visits", "普访（本学期家访）覆盖", "已家访", "留守儿童")
    panel.note = f"{since:%Y-%m-%d} 至 {today:%Y-%m-%d} 有家访记录的留守儿童（单留守、双留守）。"
    # What `contacts.rules.coverage` counts (the 普访 page), counted per unit in SQL: one
    # indexed probe per child, no row per child in Python.
    visited = Exists(
        Contact.objects.filter(
            child=OuterRef("pk"),
            kind=ContactKind.HOME_VISIT,
            at__gte=local_midnight(since),
            at__lt=local_midnight(today + dt.timedelta(days=1)),
        )
    )
    field_ = "school_id" if units.per_school else "school_class_id"
    grouped = (
        children.filter(enrolment=Enrolment.ENROLLED, category__in=LEFT_BEHIND)
        .values(field_)
        .annotate(total=Count("id"), done=Count("id", filter=Q(visited)))
        .order_by()
    )
    for r in grouped:
        line = panel.line(r[field_])
        line.done += r["done"]
        line.total += r["total"]
    return panel


def due_panel(user, children: QuerySet, units: Units, today: dt.date) -> Panel:
    return due_panel_of(due_rule_codes(user), children, units, today)


def due_panel_of(
    codes: list[str] | None,
    children: QuerySet,
    units: Units,
    today: dt.date,
    due: DueList | None = None,
):
    """due_panel under the due rules `codes` (`contacts.access.due_rule_codes`); `due`: the
    due list of these children, day and rules, when the caller has it already."""
    panel = Panel("cov_due", "待联系、待家访的学生", "待联系", "")
    panel.note = "按联系频次规则，今天已到期或逾期、尚未联系的学生人数（与“待联系”页面一致）。"
    if codes == [] or children.query.is_empty():
        return panel
    # the due page's "N 名学生", counted per unit by the database
    due = due or DueList(children, as_of=today, rule_codes=codes)
    for key, n in due.children_per("school_id" if units.per_school else "school_class_id").items():
        panel.line(key).done += n
    return panel


def _share(panel: Panel, children: QuerySet, units: Units, having: Q) -> Panel:
    field_ = "school_id" if units.per_school else "school_class_id"
    grouped = (
        children.filter(category__in=LEFT_BEHIND)
        .values(field_)
        .annotate(total=Count("id"), done=Count("id", filter=having))
        .order_by()
    )
    for r in grouped:
        line = panel.line(r[field_])
        line.done, line.total = r["done"], r["total"]
    return panel


def _having(rows: QuerySet, units: Units) -> Q:
    """Children with a row in `rows` (pairs, assignments; by `child_id`): one list of the
    rows the pass looks each card up in — except for a school or below on SQLite, where a
    probe of the few cards' rows is cheaper than the town's list (3–4 against 13 ms; on
    PostgreSQL the list stays cheaper: 14–18 against 21–49 ms, bench/stats.py)."""
    if units.per_school or connection.vendor != "sqlite":
        return Q(pk__in=rows.values("child_id"))
    return Q(Exists(rows.filter(child_id=OuterRef("pk"))))


def pairing_panel(children: QuerySet, units: Units) -> Panel:
    panel = Panel("cov_pairing", "留守儿童结对帮扶", "已结对", "留守儿童")
    panel.note = "有进行中结对的留守儿童（单留守、双留守）。"
    return _share(panel, children, units, _having(Pair.objects.active(), units))


def proxy_panel(children: QuerySet, units: Units, today: dt.date) -> Panel:
    panel = Panel("cov_proxy", "留守儿童的代理家长", "有代理家长", "留守儿童")
    panel.note = "今天有代理家长的留守儿童（单留守、双留守）。"
    return _share(panel, children, units, _having(current_assignments(today), units))


def count_panels(
    codes: list[str] | None,
    children: QuerySet,
    units: Units,
    today: dt.date,
    term: str,
    due: DueList | None = None,
) -> list[Panel]:
    """The six panels of `children` (enrolled) per unit, 待联系 under the due rules `codes`
    (`due`: their due list, when the caller has it)."""
    return [
        screening_panel(children, units, term),
        verification_panel(children, units, term),
        visit_panel(children, units, today),
        due_panel_of(codes, children, units, today, due),
        pairing_panel(children, units),
        proxy_panel(children, units, today),
    ]


def panels(user, children: QuerySet, *, per_school: bool) -> tuple[Units, list[Panel]]:
    """The coverage panels of `children` (the dashboard's enrolled children in scope, today),
    counted now (the reference of `stored_panels`)."""
    today = timezone.localdate()
    units = _units(children, per_school)
    out = count_panels(due_rule_codes(user), children, units, today, current_term(today))
    return units, out + _extras(user, children, units)


def _extras(user, children: QuerySet, units: Units) -> list[Panel]:
    found = (extra(user, children, units) for extra in EXTRA_PANELS)
    return [panel for panel in found if panel is not None]


def stored_panels(
    user,
    children: QuerySet,
    *,
    per_school: bool,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
) -> tuple[Units, list[Panel]]:
    """`panels` of the dashboard's children (`services.rows` with these filters), summed from
    the lines stored per class (covstore.py) when the user's scope is whole classes; else (a
    user following children one by one outside their classes, a village's director) counted
    now."""
    from . import covstore

    today = timezone.localdate()
    mine = covstore.for_user(user, school=school, grade=grade, class_no=class_no)
    if mine is None:
        return panels(user, children, per_school=per_school)
    lines, school_of, codes = mine
    summed = covstore.per_unit(lines, school_of, per_school)
    units = units_of(set(summed.get("n", {})), per_school)
    # every card has a class: the panels' titles and notes, and the lines summed into them
    out = count_panels(codes, children.none(), units, today, current_term(today))
    for panel in out:
        for unit, (done, total) in summed.get(panel.key, {}).items():
            line = panel.line(unit)
            line.done += done
            line.total += total
    return units, out + _extras(user, children, units)
