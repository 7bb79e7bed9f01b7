"""Frequency rules (联系频次), the due/overdue list and 普访 coverage.

What "due" means, exactly (the help page and the rules page say the same in Chinese):

* Dates are local dates in Asia/Shanghai. A contact counts for a rule when its kind is one of
  the rule's kinds; only enrolled children of the rule's categories are concerned.
* Terms: the autumn term runs from 1 September to 31 January, the spring term from 1 February
  to 31 August (the summer vacation belongs to the spring term's window).
* `term` rule ("at least once a term"): a child is due while no counting contact has been made
  since the start of the current term (00:00 on 1 September or 1 February). It has been due
  since the term's start, or since the card was created when that is later, and
  `days_overdue` = today − that date (0 on the first day of the term).
* `days` rule with N days ("monthly" = 30 days, rolling, not the calendar month): a contact
  covers its own day and the N − 1 days after it. The child becomes due on day N after the last
  counting contact (a phone call on 1 March with N = 30 covers 1–30 March; on 31 March the
  child is due, `days_overdue` 0; on 2 April it is 2).
* A child never contacted under a rule is due with `last_at` null. Under a `term` rule it has
  been due since the term's start (or the card's creation, if later); under a `days` rule since
  the card's creation: a registered left-behind family should be contacted promptly.
* `as_of` (default today) evaluates the rules on another day: contacts after that day are
  ignored, so next Monday's list shows who will be due by then.
* Proxy-parent rules (audience `proxy`, built-in `proxy_contact`: every 7 days) concern the
  children who have a proxy parent on `as_of`, whatever their category, and count only the
  contacts made by one of their current proxy parents. Never contacted: due since the
  assignment began (the earliest current one). The item names the proxy parent
  (`proxy_user_id`), so a proxy parent's own list is their overdue list.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from guanai.children.models import AssignmentKind, Child, ChildAssignment, Enrolment
from guanai.lib.dates import term_start  # noqa: F401 (callers import it from here)

from .models import Contact, ContactKind, ContactRule, RuleAudience, RulePeriod

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Shanghai has kept UTC+8 without daylight saving since 1991: the hot loops use the fixed
# offset, which converts several times faster than the zone database.
CHINA = dt.timezone(dt.timedelta(hours=8))
LEFT_BEHIND = ("single", "double")


@dataclass(frozen=True)
class Rule:
    """One rule as it applies to a school (built-in, town or school level)."""

    code: str
    name: str
    kinds: tuple[str, ...]
    period: str  # RulePeriod
    days: int
    categories: tuple[str, ...]
    active: bool = True
    audience: str = RuleAudience.CATEGORY
    level: str = field(default="default", compare=False)  # default / town / school
    row_id: int | None = field(default=None, compare=False)

    @property
    def description(self) -> str:
        kinds = "、".join(str(ContactKind(k).label) for k in self.kinds)
        if self.period == RulePeriod.TERM:
            return f"每学期至少一次（{kinds}）"
        return f"每 {self.days} 天至少一次（{kinds}）"

    @property
    def for_proxies(self) -> bool:
        return self.audience == RuleAudience.PROXY

    @property
    def usable(self) -> bool:
        return bool(self.active and self.kinds and (self.categories or self.for_proxies))


DEFAULT_RULES: list[Rule] = [
    Rule("home_visit", "每学期家访", ("home_visit",), RulePeriod.TERM, 0, LEFT_BEHIND),
    Rule(
        "guardian_contact",
        "每月联系监护人",
        ("home_visit", "phone", "video", "message", "meeting"),
        RulePeriod.DAYS,
        30,
        LEFT_BEHIND,
    ),
    Rule("family_call", "每月亲情电话", ("family_call",), RulePeriod.DAYS, 30, LEFT_BEHIND),
    Rule(
        "proxy_contact",
        "代理家长每周联系",
        ("home_visit", "phone", "video", "meeting"),
        RulePeriod.DAYS,
        7,
        (),
        audience=RuleAudience.PROXY,
    ),
]
DEFAULTS_BY_CODE = {r.code: r for r in DEFAULT_RULES}
RULE_CODES = [r.code for r in DEFAULT_RULES]
RULE_ORDER = {code: i for i, code in enumerate(RULE_CODES)}


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def _parse_utc(text: str | dt.datetime) -> dt.datetime:
    """A stored timestamp read as text ('2026-11-20 02:00:00[.ffffff][+00]', UTC)."""
    if isinstance(text, dt.datetime):
        return text if text.tzinfo else text.replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def rule_from_row(row: ContactRule) -> Rule:
    # The audience belongs to the rule's code: a proxy-parent rule stays one when edited.
    default = DEFAULTS_BY_CODE.get(row.code)
    return Rule(
        code=row.code,
        name=row.name,
        kinds=tuple(row.kinds),
        period=row.period,
        days=row.days if row.period == RulePeriod.DAYS else 0,
        categories=tuple(row.categories),
        active=row.active,
        audience=default.audience if default else row.audience,
        level="school" if row.school_id else "town",
        row_id=row.pk,
    )


def rules_for_schools(school_ids: Iterable[int] | None) -> dict[int, list[Rule]]:
    """The effective rules of each school (None: of every school): built-in defaults, replaced
    code by code by the town's rows, then by the school's own rows. Inactive rules are kept
    (the page shows them); callers skip them."""
    from guanai.org.models import School

    found = School.objects.all()
    if school_ids is not None:
        found = found.filter(pk__in=list(school_ids))
    schools = dict(found.values_list("pk", "town_id"))
    school_ids = list(schools)
    rows = list(
        ContactRule.objects.filter(town_id__in=set(schools.values()))
        | ContactRule.objects.filter(school_id__in=school_ids)
    )
    town_rules: dict[int, dict[str, Rule]] = defaultdict(dict)
    school_rules: dict[int, dict[str, Rule]] = defaultdict(dict)
    for row in rows:
        if row.school_id:
            school_rules[row.school_id][row.code] = rule_from_row(row)
        else:
            town_rules[row.town_id][row.code] = rule_from_row(row)
    out: dict[int, list[Rule]] = {}
    for school_id, town_id in schools.items():
        merged = {r.code: r for r in DEFAULT_RULES}
        merged.update(town_rules.get(town_id, {}))
        merged.update(school_rules.get(school_id, {}))
        out[school_id] = sorted(merged.values(), key=lambda r: RULE_ORDER.get(r.code, 99))
    return out


@dataclass
class DueItem:
    """One child due under one rule."""

    child: int
    child_name: str
    school: str
    grade: int
    class_no: int
    class_id: int
    rule: str
    rule_name: str
    last_at: dt.datetime | None
    due_since: dt.date
    days_overdue: int
    responsible_teacher_id: int | None
    proxy_user_id: int | None = None


def due_items(
    children: QuerySet[Child],
    *,
    as_of: dt.date,
    rule_codes: Iterable[str] | None = None,
) -> list[DueItem]:
    """Children due or overdue under their school's rules on `as_of`, one item per child and
    rule, most overdue first (then by rule and child id). `children` is already scoped. The
    database computes it (`contacts.due.DueList`, which also counts, groups and pages)."""
    from .due import DueList

    return DueList(children, as_of=as_of, rule_codes=rule_codes).items()


def _proxies_on(day: dt.date) -> QuerySet[ChildAssignment]:
    """Proxy-parent assignments valid on `day`."""
    return ChildAssignment.objects.filter(
        kind=AssignmentKind.PROXY_PARENT, valid_from__lte=day
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


@dataclass
class ClassCoverage:
    class_id: int
    label: str
    grade: int
    class_no: int
    total: int = 0
    visited: int = 0
    not_visited: list[tuple[int, str]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(self.visited * 100 / self.total) if self.total else 0


@dataclass
class SchoolCoverage:
    school_id: int
    code: str
    name: str
    total: int = 0
    visited: int = 0
    classes: list[ClassCoverage] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(self.visited * 100 / self.total) if self.total else 0


def coverage(
    children: QuerySet[Child], *, since: dt.date, until: dt.date, left_behind_only: bool = False
) -> list[SchoolCoverage]:
    """普访 coverage: per school and class, how many enrolled children had a home visit between
    `since` and `until` (local dates, both included), and who has not. One query."""
    from guanai.lib.grades import grade_name

    children = children.filter(enrolment=Enrolment.ENROLLED)
    if left_behind_only:
        children = children.filter(category__in=LEFT_BEHIND)
    visited = Exists(
        Contact.objects.filter(
            child=OuterRef("pk"),
            kind=ContactKind.HOME_VISIT,
            at__gte=local_midnight(since),
            at__lt=local_midnight(until + dt.timedelta(days=1)),
        )
    )
    rows = (
        children.annotate(visited=visited)
        .order_by("school_id", "school_class__grade", "school_class__class_no", "name", "pk")
        .values_list(
            "pk",
            "name",
            "school_id",
            "school__code",
            "school__name",
            "school_class_id",
            "school_class__grade",
            "school_class__class_no",
            "visited",
        )
    )
    schools: dict[int, SchoolCoverage] = {}
    classes: dict[int, ClassCoverage] = {}
    for pk, name, sid, code, sname, cid, grade, class_no, was_visited in rows:
        school = schools.get(sid)
        if school is None:
            school = schools[sid] = SchoolCoverage(sid, code, sname)
        klass = classes.get(cid)
        if klass is None:
            klass = classes[cid] = ClassCoverage(
                cid, f"{grade_name(grade)}({class_no})班", grade, class_no
            )
            school.classes.append(klass)
        school.total += 1
        klass.total += 1
        if was_visited:
            school.visited += 1
            klass.visited += 1
        else:
            klass.not_visited.append((pk, name))
    return list(schools.values())
