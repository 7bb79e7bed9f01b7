"""The due list as Python computed it before issue #19: one query with a correlated "last
contact" subquery per rule, then one `DueItem` per child and rule built and sorted here. Kept as
the reference the SQL (`contacts.due.DueList`) must agree with (`test_due_sql.py`)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import CharField, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast

from guanai.children.models import Child, Enrolment
from guanai.contacts.models import Contact, RulePeriod
from guanai.contacts.rules import (
    CHINA,
    RULE_ORDER,
    DueItem,
    Rule,
    _parse_utc,
    _proxies_on,
    local_midnight,
    rules_for_schools,
    term_start,
)


def _local_day(text: str | dt.datetime) -> dt.date:
    if isinstance(text, dt.datetime):
        return _parse_utc(text).astimezone(CHINA).date()
    day = dt.date.fromisoformat(text[:10])
    return day + dt.timedelta(days=1) if text[11:13] >= "16" else day


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def reference_due_items(
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
