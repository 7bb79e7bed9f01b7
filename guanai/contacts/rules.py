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

from django.db.models import CharField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast

from guanai.children.models import AssignmentKind, Child, ChildAssignment, Enrolment
from guanai.lib.dates import term_start

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


def _local_day(text: str | dt.datetime) -> dt.date:
    """The Shanghai date of a UTC timestamp read as text, without building a datetime."""
    if isinstance(text, dt.datetime):
        return _parse_utc(text).astimezone(CHINA).date()
    day = dt.date.fromisoformat(text[:10])
    return day + dt.timedelta(days=1) if text[11:13] >= "16" else day


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


def rules_for_schools(school_ids: Iterable[int]) -> dict[int, list[Rule]]:
    """The effective rules of each school: built-in defaults, replaced code by code by the
    town's rows, then by the school's own rows. Inactive rules are kept (the page shows them);
    callers skip them."""
    from guanai.org.models import School

    school_ids = list(school_ids)
    schools = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "town_id"))
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
    rule, most overdue first (then by rule and child id). `children` is already scoped."""
    wanted = set(rule_codes) if rule_codes else None
    children = children.filter(enrolment=Enrolment.ENROLLED)
    school_ids = set(children.order_by().values_list("school_id", flat=True).distinct())
    groups: dict[Rule, list[int]] = defaultdict(list)
    for school_id, rules in rules_for_schools(school_ids).items():
        for rule in rules:
            if rule.usable and (wanted is None or rule.code in wanted):
                groups[rule].append(school_id)
    end = local_midnight(as_of + dt.timedelta(days=1))
    start_of_term = term_start(as_of)
    # Rules over the same children (same categories and schools: the usual case) share one
    # query with one "last contact" column per rule.
    combos: dict[tuple, list[Rule]] = defaultdict(list)
    for rule, school_list in groups.items():
        concerned = () if rule.for_proxies else rule.categories
        combos[(rule.for_proxies, concerned, tuple(sorted(school_list)))].append(rule)
    items: list[DueItem] = []
    for (for_proxies, categories, school_list), rules in combos.items():
        base = children.filter(school_id__in=school_list, created_at__lt=end)
        contacts = Contact.objects.filter(child=OuterRef("pk"), at__lt=end)
        if for_proxies:
            proxies = _proxies_on(as_of)
            mine = proxies.filter(child=OuterRef("pk")).order_by("valid_from", "pk")
            # IN over the (few) assignments: the database starts from them, not from every card
            base = base.filter(pk__in=proxies.values("child_id")).annotate(
                proxy_from=Subquery(mine.values("valid_from")[:1]),
                proxy_user=Subquery(mine.values("user_id")[:1]),
            )
            contacts = contacts.filter(
                by_id__in=proxies.filter(child=OuterRef(OuterRef("pk"))).values("user_id")
            )
        else:
            base = base.filter(category__in=categories).annotate(
                proxy_from=Value(None, output_field=CharField()),
                proxy_user=Value(None, output_field=IntegerField()),
            )
        # Timestamps are read as text and parsed here: Django's per-value datetime converters
        # cost more than the query itself on a county-sized list (see bench/contacts.py).
        lasts = {
            f"last_{i}": Cast(
                Subquery(contacts.filter(kind__in=rule.kinds).order_by("-at").values("at")[:1]),
                CharField(),
            )
            for i, rule in enumerate(rules)
        }
        rows = (
            base.annotate(created_s=Cast("created_at", CharField()), **lasts)
            .order_by()
            .values_list(
                "pk",
                "name",
                "school__code",
                "school_class__grade",
                "school_class__class_no",
                "school_class_id",
                "responsible_teacher_id",
                "created_s",
                "proxy_from",
                "proxy_user",
                *lasts,
            )
        )
        for row in rows:
            created_on: dt.date | None = None
            for rule, last_s in zip(rules, row[10:], strict=True):
                last_day = _local_day(last_s) if last_s else None
                if last_day is None or rule.period == RulePeriod.TERM:
                    # never contacted (or a term rule): due since the card was created, or the
                    # proxy assignment began, when that is later than the term's start
                    created_on = created_on or _local_day(row[7])
                    began = max(created_on, _as_date(row[8])) if row[8] else created_on
                if rule.period == RulePeriod.TERM:
                    if last_day is not None and last_day >= start_of_term:
                        continue
                    since = max(start_of_term, began)
                elif last_day is None:
                    since = began
                else:
                    since = last_day + dt.timedelta(days=rule.days)
                    if since > as_of:
                        continue
                items.append(
                    DueItem(
                        child=row[0],
                        child_name=row[1],
                        school=row[2],
                        grade=row[3],
                        class_no=row[4],
                        class_id=row[5],
                        rule=rule.code,
                        rule_name=rule.name,
                        last_at=_parse_utc(last_s).astimezone(CHINA) if last_s else None,
                        due_since=since,
                        days_overdue=(as_of - since).days,
                        responsible_teacher_id=row[6],
                        proxy_user_id=row[9],
                    )
                )
    items.sort(key=lambda i: (-i.days_overdue, RULE_ORDER.get(i.rule, 99), i.child))
    return items


def _proxies_on(day: dt.date) -> QuerySet[ChildAssignment]:
    """Proxy-parent assignments valid on `day`."""
    return ChildAssignment.objects.filter(
        kind=AssignmentKind.PROXY_PARENT, valid_from__lte=day
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


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
