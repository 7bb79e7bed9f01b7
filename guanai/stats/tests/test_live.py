"""Today's counts per class (stats/live.py): the same numbers as counting the cards now, after
any write by any path, kept by triggers, recounted after midnight and by the worker."""

import datetime as dt
import random

import pytest
from django.db import connection

from guanai.children.models import Child, Guardian, Parent
from guanai.stats import daycounts, live, services, tasks
from guanai.stats.models import LiveCount
from guanai.stats.tests.test_daycounts import ROLES, shuffle_cards
from guanai.testing import make_child, make_class

WHERE = ({}, {"school": "HS-ZX"}, {"school": "HS-ZX", "grade": 3}, {"school": "HS-BQ"})


def assert_live_equals_the_cards() -> None:
    from guanai.accounts.models import User

    for user in [None, *User.objects.filter(username__in=ROLES)]:
        for where in WHERE:
            fast = services.summary(user, **where)
            slow = services.summary(user, stored=False, **where)
            assert fast == slow, (user, where)
            fast = services.dashboard_counts(user, **where)
            slow = services.dashboard_counts(user, stored=False, **where)
            assert fast == slow, (user, where)


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_todays_rows_equal_counting_the_cards_after_every_kind_of_write(users, kids, cast, seed):
    rng = random.Random(seed)
    classes = [*cast["classes"].values(), make_class(cast["schools"]["gt"], 5, 1)]
    assert_live_equals_the_cards()
    assert LiveCount.objects.filter(counts__isnull=False).count() == len(classes)
    for _ in range(3):
        shuffle_cards(rng, kids, classes, users)  # forms' paths: save() on cards and families
        assert_live_equals_the_cards()
        # paths below the ORM's signals: a queryset update, raw SQL, a bulk insert, deletions
        child = rng.choice(list(Child.objects.all()))
        Child.objects.filter(pk=child.pk).update(
            category=rng.choice(("single", "double", "none")), birth_date=dt.date(2020, 11, 29)
        )
        raw("UPDATE children_guardian SET relation = %s WHERE child_id = %s", ["外婆", child.pk])
        raw("UPDATE children_parent SET status = '' WHERE child_id = %s", [child.pk])
        raw("UPDATE children_child SET category = 'unknown' WHERE id = %s", [child.pk])
        other = rng.choice(list(Child.objects.exclude(pk=child.pk)))
        Guardian.objects.filter(child=other).delete()
        Parent.objects.filter(child=other, relation="father").update(status="home")
        klass = rng.choice(classes)
        Child.objects.bulk_create(
            [
                Child(school_id=klass.school_id, school_class=klass, name=f"批量{i}", gender="")
                for i in range(2)
            ]
        )
        assert_live_equals_the_cards()


def test_a_class_is_counted_once_until_it_is_written(users, kids):
    services.summary(users["town"])
    klass = kids["c31a"].school_class
    row = LiveCount.objects.get(pk=klass.pk)
    assert row.counts is not None and row.day == dt.date(2026, 11, 29)
    # a column the counts do not read: the row stays
    Child.objects.filter(pk=kids["c31a"].pk).update(responsible_teacher=users["zx_teacher31"])
    assert LiveCount.objects.get(pk=klass.pk).gen == row.gen
    # one that they read: cleared, counted again by the next reader
    Guardian.objects.filter(child=kids["c31a"]).update(phone="")
    cleared = LiveCount.objects.get(pk=klass.pk)
    assert cleared.counts is None and cleared.gen > row.gen
    before = services.summary(users["town"])["missing"]["guardian_phone"]
    assert before == services.summary(users["town"], stored=False)["missing"]["guardian_phone"]
    assert LiveCount.objects.get(pk=klass.pk).counts is not None


def test_a_moved_card_clears_both_classes(users, kids, cast):
    services.summary(users["town"])
    child = kids["c31a"]
    old, new = child.school_class, cast["classes"]["c32"]
    child.school_class = new
    child.save()
    assert LiveCount.objects.get(pk=old.pk).counts is None
    assert LiveCount.objects.get(pk=new.pk).counts is None
    assert services.summary(users["town"]) == services.summary(users["town"], stored=False)


def test_a_write_while_counting_is_not_stored(users, kids, monkeypatch):
    """The reader counted the class before a write landed: it answers what it counted, but
    does not store it (the gen moved), so the next reader sees the write."""
    klass = kids["c31a"].school_class
    counting = daycounts.count_classes

    def count_then_write(*args, **kwargs):
        out = counting(*args, **kwargs)
        make_child(klass, name="数完之后才来")
        return out

    monkeypatch.setattr(daycounts, "count_classes", count_then_write)
    first = services.summary(users["town"])
    monkeypatch.setattr(daycounts, "count_classes", counting)
    assert LiveCount.objects.get(pk=klass.pk).counts is None
    assert services.summary(users["town"])["children"] == first["children"] + 1


@pytest.mark.clock("2026-11-29 23:59")
def test_age_bands_move_at_midnight_and_the_worker_recounts(users, kids, clock):
    child = kids["c31a"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(2020, 11, 30))
    assert services.summary(users["town"])["by_age_band"]["0-5"] == 1
    clock.move_to("2026-11-30 00:01")
    assert LiveCount.objects.filter(day=dt.date(2026, 11, 29)).exists()
    n, _seconds = live.refresh()  # the worker's hourly round after midnight
    assert n == LiveCount.objects.count() and not LiveCount.objects.exclude(day="2026-11-30")
    assert live.refresh()[0] == 0
    bands = services.summary(users["town"])["by_age_band"]
    assert (
        bands["0-5"] == 0 and bands == services.summary(users["town"], stored=False)["by_age_band"]
    )
    tasks.refresh_live_counts()  # the task runs the same and finds nothing to do


def test_the_triggers_are_on_the_three_tables(db):
    names = live.trigger_names(connection)
    if connection.vendor == "sqlite":
        ops = {"insert", "delete", "update"}
        assert names["children_child"] >= {f"live_child_{op}" for op in ops}
        assert names["children_parent"] >= {f"live_parent_{op}" for op in ops}
        assert names["children_guardian"] >= {f"live_guardian_{op}" for op in ops}
    else:
        assert all("live_count" in found for found in names.values()), names


def test_a_new_class_gets_its_row(users, cast):
    services.summary(users["town"])
    klass = make_class(cast["schools"]["gt"], 6, 2)
    make_child(klass, name="新班的学生")
    assert live.refresh()[0] == 1  # the worker counts a class without a row too
    assert LiveCount.objects.get(pk=klass.pk).counts[0] == 1
    out = services.summary(users["town"], school="HS-GT", grade=6)
    assert out["children"] == 1
