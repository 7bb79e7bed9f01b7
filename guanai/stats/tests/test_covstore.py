"""Today's coverage panels stored per class (stats/covstore.py): the same numbers as counting
them now, after every kind of write by any path and for every role; only the classes a write
touched are counted again (issue #14)."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.utils import timezone

from guanai.children.models import AssignmentKind, Child, ChildAssignment
from guanai.contacts.models import Contact, ContactRule
from guanai.lib.dates import current_term
from guanai.org.models import SchoolClass
from guanai.pairing.models import Pair
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)
from guanai.stats import coverage, covstore, services, tasks, trends
from guanai.stats.models import CoverageChange, CoverageLine
from guanai.stats.tests.test_coverage_fast import random_work
from guanai.stats.tests.test_daycounts import ROLES, shuffle_cards
from guanai.testing import make_class

WHERE = ({}, {"school": "HS-ZX"}, {"school": "HS-ZX", "grade": 3}, {"school": "HS-BQ"})


def shown(units: coverage.Units, panels: list[coverage.Panel]) -> list:
    """What the dashboard shows of the panels: the units in order with their names, and each
    panel's title, note and non-empty lines."""
    lines = [
        (
            p.key,
            p.title,
            p.note,
            {k: (x.done, x.total) for k, x in p.lines.items() if x.done or x.total},
        )
        for p in panels
    ]
    return [units.order, units.names, lines]


def running_term(user, **where) -> tuple[dict, dict]:
    """Today's point of the trends: summed from the lines where it can be, and counted."""
    today = timezone.localdate()
    term = current_term(today)
    return (
        trends.term_point(user, term, today, **where),
        trends.term_point_plain(user, term, today, **where),
    )


def assert_stored_equal_counted(users) -> None:
    for role in ROLES:
        user = users[role]
        for where in WHERE:
            children = services.rows(user, bare=True, **where)
            for per_school in (True, False):
                stored = coverage.stored_panels(user, children, per_school=per_school, **where)
                counted = coverage.panels(user, children, per_school=per_school)
                assert shown(*stored) == shown(*counted), (role, where, per_school)
            summed, counted_point = running_term(user, **where)
            assert summed == counted_point, (role, where)


def counting(monkeypatch) -> list[list[int]]:
    """The classes each count of lines was asked for."""
    asked: list[list[int]] = []
    real = covstore.count

    def spy(class_ids, *args, **kwargs):
        asked.append(sorted(class_ids))
        return real(class_ids, *args, **kwargs)

    monkeypatch.setattr(covstore, "count", spy)
    return asked


def town_panels(users):
    user = users["town"]
    return coverage.stored_panels(user, services.rows(user, bare=True), per_school=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_lines_equal_counting_now_after_every_kind_of_write(users, kids, cast, seed):
    rng = random.Random(seed)
    random_work(rng, cast)
    classes = [*cast["classes"].values(), make_class(cast["schools"]["gt"], 6, 1)]
    teacher = users["zx_teacher31"]
    assert_stored_equal_counted(users)
    for _ in range(2):
        shuffle_cards(rng, kids, classes, users)  # forms' paths: cards, moves, proxy parents
        cards = list(Child.objects.all())
        # paths below the ORM's signals: queryset updates and deletions, bulk inserts
        for child in rng.sample(cards, 3):
            Contact.objects.create(child=child, by=teacher, kind="home_visit", at=timezone.now())
        Contact.objects.filter(pk=Contact.objects.order_by("?").values("pk")[:1]).update(
            child=rng.choice(cards)
        )
        Contact.objects.filter(pk=Contact.objects.order_by("?").values("pk")[:1]).delete()
        ScreeningRecord.objects.filter(
            pk=ScreeningRecord.objects.order_by("?").values("pk")[:1]
        ).delete()
        check = CardVerification.objects.order_by("?").first()
        if check is not None:  # moved to a card not yet verified in its round
            done = set(check.round.verifications.values_list("child_id", flat=True))
            others = [c for c in cards if c.pk not in done]
            if others:
                CardVerification.objects.filter(pk=check.pk).update(child=rng.choice(others))
        pair = rng.sample(cards, 2)
        Pair.objects.bulk_create(
            [
                Pair(
                    child=pair[0],
                    buddy=pair[1],
                    school_id=pair[0].school_id,
                    status="active",
                    cost=1.0,
                    age_gap_days=1,
                    accepted_at=timezone.now(),
                )
            ]
        )
        ChildAssignment.objects.filter(kind=AssignmentKind.PROXY_PARENT).update(
            valid_to=timezone.localdate() - dt.timedelta(days=rng.choice((0, 1)))
        )
        Child.objects.filter(pk=rng.choice(cards).pk).update(
            category=rng.choice(("single", "double", "none"))
        )
        moved = rng.choice(cards)
        klass = rng.choice(classes)
        Child.objects.filter(pk=moved.pk).update(school_id=klass.school_id, school_class=klass)
        assert_stored_equal_counted(users)


def test_a_second_read_counts_nothing_and_a_write_counts_its_class_only(
    users, kids, cast, monkeypatch
):
    asked = counting(monkeypatch)
    town_panels(users)
    every = sorted(SchoolClass.objects.values_list("pk", flat=True))
    assert asked == [every]
    town_panels(users)
    assert len(asked) == 1  # all stored
    Contact.objects.create(
        child=kids["c31a"], by=users["zx_teacher31"], kind="phone", at=timezone.now()
    )
    town_panels(users)
    assert asked[-1] == [kids["c31a"].school_class_id]
    # a card moved: both its classes
    old, new = kids["c31b"].school_class_id, kids["c41a"].school_class_id
    Child.objects.filter(pk=kids["c31b"].pk).update(school_class_id=new)
    town_panels(users)
    assert asked[-1] == sorted({old, new})


def test_a_school_wide_write_counts_its_classes_and_a_towns_rule_every_class(
    users, cast, monkeypatch
):
    town_panels(users)
    asked = counting(monkeypatch)
    zx = cast["schools"]["zx"]
    ScreeningCampaign.objects.create(school=zx, term=current_term(timezone.localdate()))
    town_panels(users)
    assert asked == [sorted(zx.classes.values_list("pk", flat=True))]
    VerificationRound.objects.create(
        school=zx,
        term=current_term(timezone.localdate()),
        vacation="winter",
        deadline=dt.date(2027, 1, 20),
    )
    town_panels(users)
    assert asked[-1] == asked[0]
    ContactRule.objects.create(
        town=zx.town, code="visit", name="家访", period="term", kinds=["home_visit"]
    )
    town_panels(users)
    assert asked[-1] == sorted(SchoolClass.objects.values_list("pk", flat=True))


def test_a_line_of_yesterday_or_of_other_rules_is_counted_again(users, cast, clock, monkeypatch):
    town_panels(users)
    asked = counting(monkeypatch)
    every = sorted(SchoolClass.objects.values_list("pk", flat=True))
    covstore.lines(None, ["proxy_visit"])  # a proxy parent's due rules: not a leader's lines
    assert asked == [every]
    clock.shift(dt.timedelta(days=1))
    town_panels(users)
    assert asked[-1] == every
    assert set(CoverageLine.objects.values_list("day", flat=True)) == {timezone.localdate()}


def test_a_write_committed_while_counting_is_counted_by_the_next_reader(users, kids, monkeypatch):
    """The marks are read before the count: a write that lands during it leaves a mark the
    stored line has not seen, so the next reader counts that class again."""
    real = covstore.count
    wrote = []

    def count_while_a_teacher_writes(class_ids, *args, **kwargs):
        out = real(class_ids, *args, **kwargs)
        if not wrote:
            wrote.append(
                Contact.objects.create(
                    child=kids["c31a"],
                    by=users["zx_teacher31"],
                    kind="home_visit",
                    at=timezone.now(),
                )
            )
        return out

    monkeypatch.setattr(covstore, "count", count_while_a_teacher_writes)
    user = users["town"]
    children = services.rows(user, bare=True)
    town_panels(users)
    monkeypatch.setattr(covstore, "count", real)
    asked = counting(monkeypatch)
    units, stored = town_panels(users)
    assert asked == [[kids["c31a"].school_class_id]]
    assert shown(units, stored) == shown(*coverage.panels(user, children, per_school=True))


def test_the_worker_counts_every_class_after_midnight_and_empties_the_log(
    users, kids, clock, monkeypatch
):
    Contact.objects.create(
        child=kids["c31a"], by=users["zx_teacher31"], kind="home_visit", at=timezone.now()
    )
    assert CoverageChange.objects.exists()
    clock.shift(dt.timedelta(days=1))
    tasks.refresh_coverage_lines()
    assert not CoverageChange.objects.exists()
    assert CoverageLine.objects.filter(day=timezone.localdate()).count() == (
        SchoolClass.objects.count()
    )
    asked = counting(monkeypatch)
    town_panels(users)
    tasks.refresh_coverage_lines()
    assert asked == []  # the morning's first leader reads stored lines, and so does the worker


def test_triggers_watch_every_table_the_panels_read(db):
    """A migration that makes SQLite rebuild one of these tables drops its triggers with the
    old table; this fails until that migration installs them again
    (covstore.install_triggers)."""
    names = covstore.trigger_names(connection)
    assert set(names) == set(covstore.TABLES)
    for table, present in names.items():
        if connection.vendor == "sqlite":
            ours = {n for n in present if n.startswith(f"coverage_{table}_")}
            assert "update" in {n.rpartition("_")[2] for n in ours}, table
            assert len(ours) == (1 if table in covstore.ORG else 3), table
        else:
            assert "coverage_line" in present, table


def test_a_proxy_parent_or_village_director_is_counted_now(users, cast, monkeypatch):
    """Users who follow children one by one, or reach them by their 村, have no class lines."""
    asked = counting(monkeypatch)
    for role in ("proxy_wang", "village_director"):
        user = users[role]
        children = services.rows(user, bare=True)
        stored = coverage.stored_panels(user, children, per_school=True)
        assert shown(*stored) == shown(*coverage.panels(user, children, per_school=True))
    assert asked == []


def _campaign(cast):
    term = current_term(timezone.localdate())
    return ScreeningCampaign.objects.create(school=cast["schools"]["bq"], term=term)


def _round(cast):
    term = current_term(timezone.localdate())
    return VerificationRound.objects.create(
        school=cast["schools"]["bq"], term=term, vacation="winter", deadline=dt.date(2027, 1, 20)
    )


def _visit(cast):
    kids, users = cast["children"], cast["users"]
    return Contact.objects.create(
        child=kids["bq31a"], by=users["bq_leader"], kind="home_visit", at=timezone.now()
    )


def _town_rule(cast):
    """The town turns every built-in rule off: nobody is due."""
    from guanai.contacts.rules import DEFAULT_RULES

    for rule in DEFAULT_RULES:
        ContactRule.objects.create(
            town=cast["town_obj"],
            code=rule.code,
            name=rule.name,
            period=rule.period,
            days=rule.days or 1,
            kinds=list(rule.kinds),
            categories=list(rule.categories),
            active=False,
        )


# each kind of write, by a path below the ORM's save() where there is one: (set-up, write)
WRITES = {
    "home visit": (None, _visit),
    "contact deleted": (_visit, lambda cast: Contact.objects.all().delete()),
    "screening record": (
        _campaign,
        lambda cast: ScreeningRecord.objects.bulk_create(
            [
                ScreeningRecord(
                    campaign=ScreeningCampaign.objects.get(),
                    child=cast["children"]["bq31a"],
                    outcome="marked",
                    category="double",
                )
            ]
        ),
    ),
    "verification": (
        _round,
        lambda cast: CardVerification.objects.create(
            round=VerificationRound.objects.get(),
            child=cast["children"]["bq31a"],
            result="confirmed",
        ),
    ),
    "pair": (
        None,
        lambda cast: Pair.objects.bulk_create(
            [
                Pair(
                    child=cast["children"]["bq31a"],
                    buddy=cast["children"]["c41a"],
                    school=cast["schools"]["bq"],
                    status="active",
                    cost=1.0,
                    age_gap_days=1,
                    accepted_at=timezone.now(),
                )
            ]
        ),
    ),
    "proxy parent": (
        None,
        lambda cast: ChildAssignment.objects.create(
            user=cast["users"]["proxy_wang"],
            child=cast["children"]["bq31a"],
            kind=AssignmentKind.PROXY_PARENT,
        ),
    ),
    "proxy parent ended": (
        None,
        lambda cast: ChildAssignment.objects.update(
            valid_to=timezone.localdate() - dt.timedelta(days=1)
        ),
    ),
    "category": (
        None,
        lambda cast: Child.objects.filter(pk=cast["children"]["c41a"].pk).update(category="single"),
    ),
    "leaver": (
        None,
        lambda cast: Child.objects.filter(pk=cast["children"]["bq31a"].pk).update(
            enrolment="transferred"
        ),
    ),
    "民政 flag": (
        None,
        lambda cast: Child.objects.filter(pk=cast["children"]["c41a"].pk).update(
            civil_affairs=True
        ),
    ),
    "campaign": (None, _campaign),
    "town's rule": (None, _town_rule),
}


@pytest.mark.parametrize("kind", list(WRITES))
def test_each_kind_of_write_changes_the_stored_numbers_as_it_changes_the_counted(users, cast, kind):
    setup, write = WRITES[kind]
    if setup:
        setup(cast)
    for role, per_school in (("town", True), ("bq_leader", False)):
        user = users[role]
        coverage.stored_panels(user, services.rows(user, bare=True), per_school=per_school)
    town = users["town"]
    before = (
        shown(*coverage.panels(town, services.rows(town, bare=True), per_school=True)),
        running_term(town)[1],
    )
    write(cast)
    for role, per_school in (("town", True), ("bq_leader", False)):
        user = users[role]
        children = services.rows(user, bare=True)
        counted = shown(*coverage.panels(user, children, per_school=per_school))
        assert shown(*coverage.stored_panels(user, children, per_school=per_school)) == counted
        summed, counted_point = running_term(user)
        assert summed == counted_point, role
    after = (
        shown(*coverage.panels(town, services.rows(town, bare=True), per_school=True)),
        running_term(town)[1],
    )
    assert after != before  # the write changed what is counted


@pytest.mark.django_db(transaction=True)
def test_the_worker_leaves_no_dead_rows_of_the_log_behind():
    """On PostgreSQL the rows the first round of a day removes would stay as dead rows, which
    every reader's marks scan until autovacuum comes by: the round vacuums the log (its file
    is then empty). On SQLite the rows are simply gone."""
    # a transactional test finds what the suite's earlier ones left: counted, not assumed
    CoverageLine.objects.all().delete()  # the day's first round
    CoverageChange.objects.bulk_create(CoverageChange() for _ in range(500))
    there = CoverageChange.objects.count()
    assert there >= 500
    assert covstore.refresh() == (SchoolClass.objects.count(), there)
    assert not CoverageChange.objects.exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_relation_size(%s)", [covstore.LOG])
            assert cursor.fetchone()[0] == 0
