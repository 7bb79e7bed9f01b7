"""Trends per term (学期趋势): the counts by category and the coverage rates at the end of each
of the last four terms, from history.

Each term is counted "as of" its last day (lib.dates.term_bounds; the running term as of the
date looked at) with `services.rows(as_of=…)` — each card as its history stood that day, the
same machinery as the dashboard's "统计日期" — so a past term's numbers do not move when cards
change today. The rates, for that day:

- 摸底排查: of the enrolled children of the schools that held the term's campaign, those
  screened in it by that day;
- 核实: likewise for the term's verification rounds (a card verified by that day);
- 普访: of the left-behind children, those with a home visit from the term's first day to that
  day (`contacts.rules` counts a visit by its local date);
- 结对: of the left-behind children, those who were the child of a pair in force that day
  (accepted before its end, not ended by then — as the term report counts);
- 代理家长: of the left-behind children, those with a proxy-parent assignment valid that day.

For the running term on today these are the coverage panels' numbers (stats/coverage.py).
Due contacts are a "now" list and have no trend.
"""

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from guanai.children.models import AssignmentKind, ChildAssignment
from guanai.contacts.models import Contact, ContactKind
from guanai.contacts.rules import LEFT_BEHIND, local_midnight
from guanai.lib.dates import current_term, term_bounds, term_label
from guanai.pairing.models import Pair, PairStatus
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)

from . import services, termstore
from .coverage import KEY, school_keys

RATES = {
    "screening": "摸底排查完成率",
    "verification": "核实完成率",
    "visits": "普访覆盖率",
    "pairing": "结对率",
    "proxy": "代理家长覆盖率",
}


def last_terms(on: dt.date, count: int = 4) -> list[tuple[str, dt.date]]:
    """The `count` terms up to the one `on` falls in, oldest first, each with the day it is
    counted on: its last day, or `on` for the running term."""
    out = []
    day = on
    for _ in range(count):
        term = current_term(day)
        start, end = term_bounds(term)
        out.append((term, min(end, on)))
        day = start - dt.timedelta(days=1)
    return out[::-1]


def term_point(user, term: str, day: dt.date, **where: Any) -> dict[str, Any]:
    """The counts and rates of one term as of `day`: one grouped pass over the cards. For the
    whole scope (no school asked for) the term's records, verifications, pairs and proxy
    assignments are each one list the pass looks each card up in, not a probe per card: 6.3
    → 3.6 s for a town of 100,000 (bench/stats.py); for a school or below, whose cards are
    a few of the lists' rows, a probe per card stays cheaper (0.25 against 0.8 s), and the
    school's campaigns and rounds of the term are a list of ids the probes look in. The
    running term's point today, for a scope of whole classes, is the sum of the class lines
    the coverage panels keep (covstore.py), counted with the lists."""
    school = where.get("school")
    if day == timezone.localdate() and term == current_term(day):
        from . import covstore

        row = covstore.point(user, **where)  # summed from the class lines
        if row is not None:
            return _out(term, day, row)
    return _point(user, term, day, lists=not school, one_school=bool(school), **where)


def term_point_plain(user, term: str, day: dt.date, **where: Any) -> dict[str, Any]:
    """term_point with a probe per card for every rate (the tests' reference)."""
    return _point(user, term, day, lists=False, **where)


def _point(
    user, term: str, day: dt.date, *, lists: bool, one_school: bool = False, **where: Any
) -> dict[str, Any]:
    bare = services.rows(user, as_of=day, bare=True, **where)
    school = where.get("school") if one_school else None
    bare, counts = _counts(bare, term, day, lists=lists, school=school)
    return _out(term, day, bare.order_by().aggregate(**counts))


def _counts(
    bare: QuerySet, term: str, day: dt.date, *, lists: bool, school: str | None = None
) -> tuple[QuerySet, dict[str, Count]]:
    """The cards `bare` (annotated as the counts need) and the counts of a point: lists to
    look each card up in (`lists`), the term's records and verifications of one school's
    campaigns and rounds probed per card (`school`), or a probe per card for every rate."""
    start, _ = term_bounds(term)
    end = local_midnight(day + dt.timedelta(days=1))
    lb = Q(category__in=LEFT_BEHIND)
    campaign_schools = ScreeningCampaign.objects.filter(term=term).values("school_id")
    round_schools = VerificationRound.objects.filter(term=term).values("school_id")
    records = ScreeningRecord.objects.filter(campaign__term=term, screened_at__lt=end)
    checks = CardVerification.objects.filter(round__term=term, verified_at__lt=end)
    visited = Exists(
        Contact.objects.filter(
            child_id=OuterRef("id"),
            kind=ContactKind.HOME_VISIT,
            at__gte=local_midnight(start),
            at__lt=end,
        )
    )
    pairs = Pair.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=end),
        status__in=(PairStatus.ACTIVE, PairStatus.ENDED),
        accepted_at__lt=end,
    )
    proxies = ChildAssignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        kind=AssignmentKind.PROXY_PARENT,
        valid_from__lte=day,
    )
    if lists:
        # (child, school) pairs as one number: the records of the campaign (or the rounds) of
        # the school the card was in that day, a list built once instead of a probe per card
        bare = bare.annotate(child_school=F("id") * KEY + F("school_id"))
        screened = Q(child_school__in=school_keys(records, "campaign__school_id"))
        verified = Q(child_school__in=school_keys(checks, "round__school_id"))
        paired = Q(id__in=pairs.values("child_id"))
        proxied = Q(id__in=proxies.values("child_id"))
    elif school:
        # Every card of the pass was in that school that day: the records of its campaigns (its
        # rounds) of the term, by their ids, instead of a join to the campaign per card (a
        # school's running term on PostgreSQL, bench/stats.py).
        mine = {"term": term, "school__code": school}
        campaigns = ScreeningCampaign.objects.filter(**mine).values("pk")
        rounds = VerificationRound.objects.filter(**mine).values("pk")
        screened = Q(Exists(records.filter(child_id=OuterRef("id"), campaign_id__in=campaigns)))
        verified = Q(Exists(checks.filter(child_id=OuterRef("id"), round_id__in=rounds)))
    else:
        screened = Q(
            Exists(
                records.filter(child_id=OuterRef("id"), campaign__school_id=OuterRef("school_id"))
            )
        )
        verified = Q(
            Exists(checks.filter(child_id=OuterRef("id"), round__school_id=OuterRef("school_id")))
        )
    if not lists:
        paired = Q(Exists(pairs.filter(child_id=OuterRef("id"))))
        proxied = Q(Exists(proxies.filter(child_id=OuterRef("id"))))
    in_campaign = Q(school_id__in=campaign_schools)
    in_round = Q(school_id__in=round_schools)
    counts = {f"c_{c}": Count("id", filter=Q(category=c)) for c in services.CATEGORIES}
    return bare, {
        "n": Count("id"),
        "civil": Count("id", filter=Q(civil_affairs=True)),
        "lb": Count("id", filter=lb),
        "screening_of": Count("id", filter=in_campaign),
        "screening": Count("id", filter=in_campaign & screened),
        "verification_of": Count("id", filter=in_round),
        "verification": Count("id", filter=in_round & verified),
        "visits": Count("id", filter=lb & Q(visited)),
        "pairing": Count("id", filter=lb & paired),
        "proxy": Count("id", filter=lb & proxied),
        **counts,
    }


def _out(term: str, day: dt.date, row: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "term": term,
        "label": term_label(term),
        "as_of": day,
        "children": row["n"],
        "by_category": {c: row[f"c_{c}"] for c in services.CATEGORIES},
        "civil_affairs": row["civil"],
        "rates": {},
    }
    for key in RATES:
        of = row.get(f"{key}_of", row["lb"])
        out["rates"][key] = {"done": row[key], "of": of}
    return out


def point_per_class(
    children: QuerySet, term: str, day: dt.date, *, lists: bool
) -> dict[int, dict[str, int]]:
    """The counts of a point (`term` as of `day`, today) per class of the cards `children`:
    the class lines of the coverage store (covstore.py), summed by `term_point`. `lists` for
    many classes; a few classes' cards are cheaper probed one by one than looked up in the
    town's lists of records (bench/stats.py)."""
    bare, counts = _counts(children, term, day, lists=lists)
    grouped = bare.order_by().values("school_class_id").annotate(**counts)
    return {r.pop("school_class_id"): r for r in grouped}


def trends(user, *, on: dt.date | None = None, **where: Any) -> list[dict[str, Any]]:
    """The last four terms up to `on` (default today), oldest first (`term_point` each, a
    past day's stored: termstore.py); `where`: school, grade, class_no as the dashboard's."""
    on = on or timezone.localdate()
    return termstore.points(user, last_terms(on), term_point, **where)
