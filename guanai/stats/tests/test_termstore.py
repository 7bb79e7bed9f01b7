"""Stored points of the trends per term (stats/termstore.py): a past day's point is counted once,
read back while nothing it reads changes, and deleted by the database when something does."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from guanai.children.models import ChildAssignment
from guanai.contacts.models import Contact
from guanai.org.models import SchoolClass
from guanai.pairing.models import Pair
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)
from guanai.stats import termstore, trends
from guanai.stats.models import TermPoint

SH = ZoneInfo("Asia/Shanghai")
SPRING = dt.datetime(2026, 5, 20, 10, tzinfo=SH)  # in the term 2025-2026-2 (ends 31 August)
LAST_SPRING_DAY = dt.date(2026, 8, 31)


def fresh(user, **where):
    """The four points counted now, none read back (the reference)."""
    return [
        trends.term_point_plain(user, term, day, **where)
        for term, day in trends.last_terms(dt.date(2026, 11, 29))
    ]


def stored_days() -> set[dt.date]:
    return set(TermPoint.objects.filter(data__isnull=False).values_list("day", flat=True))


def test_past_terms_are_stored_and_read_back(users, cast, monkeypatch):
    user = users["zx_leader"]
    first = trends.trends(user)
    assert first == fresh(user)
    # the three finished terms are stored; the running term (counted on today) never is
    assert stored_days() == {dt.date(2025, 8, 31), dt.date(2026, 1, 31), LAST_SPRING_DAY}
    counted = []
    real = trends.term_point
    monkeypatch.setattr(trends, "term_point", lambda *a, **k: counted.append(a) or real(*a, **k))
    assert trends.trends(user) == first
    assert [a[1] for a in counted] == ["2026-2027-1"]  # only the running term was counted


def test_each_scope_and_filter_has_its_own_points(users, cast):
    town, leader = users["town"], users["zx_leader"]
    assert trends.trends(town) == fresh(town)
    assert trends.trends(leader) == fresh(leader)
    assert trends.trends(town, school="HS-ZX", grade=3) == fresh(town, school="HS-ZX", grade=3)
    assert TermPoint.objects.count() == 9
    # a new role for the leader: another scope, counted again
    leader.role_assignments.create(role="school_leader", school=cast["schools"]["bq"])
    leader = type(leader).objects.get(pk=leader.pk)  # the next request's user
    assert trends.trends(leader) == fresh(leader)
    assert TermPoint.objects.count() == 12


def _spring_stored(user):
    trends.trends(user)
    assert LAST_SPRING_DAY in stored_days()


@pytest.mark.parametrize(
    "write",
    [
        "visit in spring",
        "visit moved into spring",
        "visit deleted",
        "record in spring",
        "verification in spring",
        "pair accepted in spring",
        "assignment from spring",
        "campaign of spring",
        "round of spring",
        "class renumbered",
    ],
)
def test_a_write_that_changes_a_past_term_deletes_its_points(users, cast, write):
    kids, user = cast["children"], users["zx_leader"]
    zx = cast["schools"]["zx"]
    visit = Contact.objects.create(
        child=kids["c31a"], by=users["zx_teacher31"], kind="home_visit", at=SPRING
    )
    _spring_stored(user)
    if write == "visit in spring":
        Contact.objects.create(
            child=kids["c31b"], by=users["zx_teacher31"], kind="home_visit", at=SPRING
        )
    elif write == "visit moved into spring":  # a phone call becomes a visit (QuerySet.update)
        call = Contact.objects.create(
            child=kids["c32a"], by=users["zx_teacher31"], kind="phone", at=SPRING
        )
        _spring_stored(user)
        Contact.objects.filter(pk=call.pk).update(kind="home_visit")
    elif write == "visit deleted":  # raw SQL: the triggers see it too
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM contacts_contact WHERE id = %s", [visit.pk])
    elif write == "record in spring":
        campaign = ScreeningCampaign.objects.create(school=zx, term="2025-2026-2")
        _spring_stored(user)
        record = ScreeningRecord.objects.create(
            campaign=campaign, child=kids["c31a"], outcome="marked", category="double"
        )
        ScreeningRecord.objects.filter(pk=record.pk).update(screened_at=SPRING)
    elif write == "verification in spring":
        round_ = VerificationRound.objects.create(
            school=zx, term="2025-2026-2", vacation="summer", deadline=dt.date(2026, 7, 1)
        )
        _spring_stored(user)
        check = CardVerification.objects.create(
            round=round_, child=kids["c31a"], result="confirmed"
        )
        CardVerification.objects.filter(pk=check.pk).update(verified_at=SPRING)
    elif write == "pair accepted in spring":
        pair = Pair.objects.create(
            child=kids["c32a"],
            buddy=kids["c41a"],
            school=zx,
            status="draft",
            cost=1.0,
            age_gap_days=300,
        )
        _spring_stored(user)
        Pair.objects.filter(pk=pair.pk).update(status="active", accepted_at=SPRING)
    elif write == "assignment from spring":
        ChildAssignment.objects.create(
            user=users["zx_teacher31"],
            child=kids["c41a"],
            kind="proxy_parent",
            valid_from=dt.date(2026, 5, 1),
        )
    elif write == "campaign of spring":
        ScreeningCampaign.objects.create(school=zx, term="2025-2026-2")
    elif write == "round of spring":
        VerificationRound.objects.create(
            school=zx, term="2025-2026-2", vacation="summer", deadline=dt.date(2026, 7, 1)
        )
    elif write == "class renumbered":
        SchoolClass.objects.filter(school=zx, grade=3, class_no=1).update(class_no=9)
    assert LAST_SPRING_DAY not in stored_days()
    assert trends.trends(user) == fresh(user)


def test_writes_of_today_leave_past_terms_stored(users, cast, clock):
    kids, user = cast["children"], users["zx_leader"]
    zx = cast["schools"]["zx"]
    pair = Pair.objects.create(
        child=kids["c32a"],
        buddy=kids["c41a"],
        school=zx,
        status="active",
        cost=1.0,
        age_gap_days=300,
        accepted_at=SPRING,
    )
    proxy = ChildAssignment.objects.create(
        user=users["zx_teacher31"], child=kids["c41a"], kind="proxy_parent", valid_from=SPRING
    )
    visit = Contact.objects.create(
        child=kids["c31a"], by=users["zx_teacher31"], kind="home_visit", at=SPRING
    )
    trends.trends(user)
    before = stored_days()
    assert len(before) == 3
    # today's work, and edits that move no date a past day reads
    Contact.objects.create(
        child=kids["c31b"], by=users["zx_teacher31"], kind="home_visit", at=timezone.now()
    )
    Contact.objects.create(
        child=kids["c31b"], by=users["zx_teacher31"], kind="phone", at=SPRING
    )  # not a visit
    visit.notes = "补记"
    visit.save()  # every column written again, none changed
    pair.status, pair.ended_at = "ended", timezone.now()
    pair.save()  # ended today: in force on every past day still
    proxy.valid_to = dt.date(2026, 11, 29)
    proxy.save()
    ScreeningCampaign.objects.create(school=zx, term="2026-2027-1")  # this term's campaign
    assert stored_days() == before
    assert trends.trends(user) == fresh(user)


def test_random_writes_keep_the_stored_points_true(users, cast, clock):
    """Random writes of every watched kind, dated in any term, through the ORM and
    QuerySet.update; after each, the points read equal the points counted afresh."""
    rng = random.Random(7)
    kids = list(cast["children"].values())
    zx = cast["schools"]["zx"]
    staff = users["zx_teacher31"]
    user = users["town"]
    campaign = ScreeningCampaign.objects.create(school=zx, term="2025-2026-1")

    def moment() -> dt.datetime:
        day = dt.date(2025, 3, 1) + dt.timedelta(days=rng.randrange(600))
        return dt.datetime.combine(day, dt.time(rng.choice([0, 7, 16, 23])), tzinfo=SH)

    for _ in range(12):
        kind = rng.choice(["visit", "move visit", "record", "pair", "end pair", "proxy"])
        if kind == "visit":
            Contact.objects.create(child=rng.choice(kids), by=staff, kind="home_visit", at=moment())
        elif kind == "move visit" and Contact.objects.exists():
            Contact.objects.filter(pk=Contact.objects.order_by("?").first().pk).update(at=moment())
        elif kind == "record":
            r = ScreeningRecord.objects.create(
                campaign=campaign, child=rng.choice(kids), outcome="marked", category="single"
            )
            ScreeningRecord.objects.filter(pk=r.pk).update(screened_at=moment())
        elif kind == "pair":
            child, buddy = rng.sample(kids, 2)
            if Pair.objects.filter(status="active", child__in=[child, buddy]).exists():
                continue
            if Pair.objects.filter(status="active", buddy__in=[child, buddy]).exists():
                continue
            Pair.objects.create(
                child=child,
                buddy=buddy,
                school=zx,
                status="active",
                cost=1,
                age_gap_days=300,
                accepted_at=moment(),
            )
        elif kind == "end pair" and Pair.objects.filter(status="active").exists():
            Pair.objects.filter(status="active").order_by("?")[:1].update(
                status="ended", ended_at=moment()
            )
        elif kind == "proxy":
            ChildAssignment.objects.create(
                user=staff,
                child=rng.choice(kids),
                kind="proxy_parent",
                valid_from=moment().date(),
            )
        assert trends.trends(user) == fresh(user), kind


def test_a_point_being_counted_is_not_stored_when_a_write_lands(users, cast, monkeypatch):
    """A write while the first reader counts deletes its empty row: nothing stale is kept."""
    user, kids = users["zx_leader"], cast["children"]
    real = trends.term_point

    def count_while_a_visit_lands(u, term, day, **where):
        out = real(u, term, day, **where)
        if term == "2025-2026-2":
            Contact.objects.create(
                child=kids["c31b"], by=users["zx_teacher31"], kind="home_visit", at=SPRING
            )
        return out

    monkeypatch.setattr(trends, "term_point", count_while_a_visit_lands)
    trends.trends(user)
    assert LAST_SPRING_DAY not in stored_days()
    monkeypatch.setattr(trends, "term_point", real)
    assert trends.trends(user) == fresh(user)
    assert LAST_SPRING_DAY in stored_days()


def test_the_triggers_are_present_on_every_watched_table(db):
    """A later migration that makes SQLite rebuild a watched table drops its triggers: this
    fails until that migration installs them again (termstore.install_triggers)."""
    names = termstore.trigger_names(connection)
    assert set(names) == set(termstore.TABLES)
    for table, present in names.items():
        if connection.vendor == "sqlite":
            assert {f"term_point_{table}_{op}" for op in ("insert", "delete", "update")} <= (
                present
            ), table
        else:
            assert "term_point" in present, table


def test_a_writer_in_flight_keeps_the_point_from_being_stored(users, cast):
    """PostgreSQL: a write whose transaction was open before the empty row appeared holds the
    shared lock; the reader waits SETTLE_MS for it, then counts without storing. (SQLite:
    such a writer holds the database's write lock, so the empty row itself waits for its
    commit and there is nothing left to wait for.)"""
    user = users["zx_leader"]
    if connection.vendor == "sqlite":
        assert termstore._settle("default") is True
        assert trends.trends(user) == fresh(user)
        assert len(stored_days()) == 3
        return
    import psycopg

    s = connection.settings_dict
    other = psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"] or 5432
    )
    try:
        other.execute("SELECT pg_advisory_xact_lock_shared(%s)", [termstore.LOCK])
        assert trends.trends(user) == fresh(user)
        assert stored_days() == set()  # counted, not stored: the writer might change them
    finally:
        other.rollback()
        other.close()
    assert trends.trends(user) == fresh(user)
    assert len(stored_days()) == 3


def test_the_worker_forgets_points_stored_long_ago(users, cast):
    from guanai.stats import tasks

    user = users["zx_leader"]
    trends.trends(user)
    old = TermPoint.objects.filter(day=LAST_SPRING_DAY)
    old.update(created_at=timezone.now() - dt.timedelta(days=tasks.KEEP_POINTS_DAYS + 1))
    tasks.forget_old_term_points()
    assert stored_days() == {dt.date(2025, 8, 31), dt.date(2026, 1, 31)}
    assert trends.trends(user) == fresh(user)  # counted and stored again
    assert LAST_SPRING_DAY in stored_days()
