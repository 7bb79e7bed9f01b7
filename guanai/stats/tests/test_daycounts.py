"""Counts stored per class for a finished day (stats/daycounts.py): the same numbers as the
history pass, never for today, filled by the worker and the command line."""

import datetime as dt
import random

import pytest
from django.core.management import call_command

from guanai.children.models import Child, ChildAssignment, Enrolment
from guanai.stats import daycounts, services, tasks
from guanai.stats.models import CountedDay, DayCount
from guanai.testing import make_child, make_class

ROLES = ["town", "zx_leader", "zx_grade3", "zx_teacher31", "bq_leader", "proxy_wang"]
ROLES += ["village_director"]
RELATIONS = ["祖父", "外婆", "伯父", "母亲", "", "姥姥"]
STATUSES = ["away", "home", "", "deceased"]


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def shuffle_cards(rng: random.Random, kids: dict, classes: list, users: dict) -> None:
    """A day's worth of random changes: new cards, moves, leavers, parents, guardians, blank
    fields, responsible teachers and proxy parents."""
    cards = list(Child.objects.all())
    for _ in range(3):
        klass = rng.choice(classes)
        birth = dt.date(rng.choice((2010, 2012, 2016, 2020)), rng.randint(1, 12), 28)
        make_child(
            klass,
            name="新生",
            birth=birth,
            gender=rng.choice(("male", "female")),
            village=rng.choice(("虎山村", "")),
            **{
                "father.status": rng.choice(STATUSES),
                "mother.status": rng.choice(STATUSES),
                "guardian.relation": rng.choice(RELATIONS),
                "guardian.phone": rng.choice(("13912345678", "")),
            },
        )
    for child in rng.sample(cards, min(4, len(cards))):
        action = rng.randrange(6)
        if action == 0:  # moves class (and maybe school)
            klass = rng.choice(classes)
            child.school_id, child.school_class = klass.school_id, klass
        elif action == 1:
            child.enrolment = rng.choice((Enrolment.TRANSFERRED, Enrolment.ENROLLED))
        elif action == 2:
            child.category = rng.choice(("single", "double", "none", "unknown", "migrant"))
            child.civil_affairs = rng.random() < 0.5
        elif action == 3:
            child.boarding = rng.choice((True, False, None))
            child.birth_date = rng.choice((None, dt.date(2010, 11, 30), dt.date(2018, 2, 1)))
            child.hukou = rng.choice(("rural", ""))
        elif action == 4:
            child.responsible_teacher = rng.choice((users["zx_teacher31"], None))
        else:
            guardian = getattr(child, "guardian", None)
            if guardian is not None:
                guardian.relation = rng.choice(RELATIONS)
                guardian.phone = rng.choice(("13912345678", ""))
                guardian.name = rng.choice(("奶奶", ""))
                guardian.save()
            parent = child.parents.filter(relation=rng.choice(("father", "mother"))).first()
            if parent is not None:
                parent.status = rng.choice(STATUSES)
                parent.save()
        child._change_reason = "测试"
        child.save()
    if rng.random() < 0.5:
        ChildAssignment.objects.create(
            user=users["proxy_wang"], child=rng.choice(cards), kind="proxy_parent"
        )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.clock("2026-10-08 09:00")
def test_stored_counts_equal_the_history_pass(users, kids, cast, clock, seed):
    rng = random.Random(seed)
    classes = [*cast["classes"].values(), make_class(cast["schools"]["gt"], 5, 1)]
    days = [dt.date(2026, 10, 8) + dt.timedelta(days=d) for d in (0, 3, 9, 20, 40)]
    for day in days:
        clock.move_to(at(day, 2))
        shuffle_cards(rng, kids, classes, users)
    clock.move_to(at(dt.date(2026, 11, 29), 2))
    for day in days:
        for role in ROLES:
            user = users[role]
            for where in ({}, {"school": "HS-ZX"}, {"school": "HS-ZX", "grade": 3}):
                fast = services.summary(user, as_of=day, **where)
                slow = services.summary(user, as_of=day, stored=False, **where)
                assert fast == slow, (day, role, where)
                fast = services.dashboard_counts(user, as_of=day, **where)
                slow = services.dashboard_counts(user, as_of=day, stored=False, **where)
                assert fast == slow, (day, role, where)
        assert CountedDay.objects.filter(day=day).exists()  # the stored path was taken
    assert services.summary(None, as_of=days[-1]) == services.summary(
        None, as_of=days[-1], stored=False
    )


@pytest.mark.clock("2026-11-20 09:00")
def test_a_write_after_the_day_leaves_its_counts_and_today_is_live(users, kids, clock):
    day = dt.date(2026, 11, 20)
    clock.move_to(at(dt.date(2026, 11, 22), 2))
    before = services.summary(users["town"], as_of=day)
    stored_at = CountedDay.objects.get(day=day).created_at
    child = kids["c31a"]
    child.category, child.civil_affairs = "none", False
    child.save()
    make_child(kids["c31a"].school_class, name="今天的新生")
    assert services.summary(users["town"], as_of=day) == before
    assert CountedDay.objects.get(day=day).created_at == stored_at
    today = services.summary(users["town"])  # live: the write shows at once
    assert today["children"] == before["children"] + 1
    assert today["by_category"]["none"] == before["by_category"]["none"] + 1
    assert today["by_category"]["double"] == before["by_category"]["double"]
    assert not CountedDay.objects.filter(day=dt.date(2026, 11, 22)).exists()
    with pytest.raises(ValueError):
        daycounts.fill_day(dt.date(2026, 11, 22))


@pytest.mark.clock("2026-11-20 09:00")
def test_the_worker_stores_yesterday_once(users, kids, clock):
    clock.move_to(at(dt.date(2026, 11, 29), 2))
    tasks.store_yesterdays_counts()
    yesterday = CountedDay.objects.get(day=dt.date(2026, 11, 28))
    assert yesterday.children == 6 and yesterday.classes == 5
    rows = DayCount.objects.filter(day=yesterday.day).count()
    assert CountedDay.objects.count() == 1  # one day a round: the heartbeat goes on
    for _ in range(8):  # the next hours: the six days before, then nothing to do
        tasks.store_yesterdays_counts()
    assert DayCount.objects.filter(day=yesterday.day).count() == rows == 5
    assert CountedDay.objects.filter(day=yesterday.day).count() == 1
    assert CountedDay.objects.filter(day__gte=dt.date(2026, 11, 22)).count() == 7
    assert CountedDay.objects.count() == 7


@pytest.mark.clock("2026-11-20 09:00")
def test_the_command_fills_a_range_and_refuses_today(users, kids, clock, capsys):
    from django.core.management.base import CommandError

    clock.move_to(at(dt.date(2026, 11, 29), 2))
    call_command("fill_day_counts", "--from", "2026-11-19", "--to", "2026-11-21")
    assert list(CountedDay.objects.values_list("children", flat=True).order_by("day")) == [
        0,
        6,
        6,
    ]
    assert "2026-11-20：5 个班，6 名在读学生" in capsys.readouterr().out
    with pytest.raises(CommandError, match="只能保存已经过去的日期"):
        call_command("fill_day_counts", "--from", "2026-11-28", "--to", "2026-11-29")


@pytest.mark.clock("2026-11-20 09:00")
def test_the_town_dashboard_counts_each_schools_row_today_and_in_the_past(users, kids, clock):
    clock.move_to(at(dt.date(2026, 11, 29), 2))
    for as_of in (None, dt.date(2026, 11, 25)):
        units = services.dashboard_counts(users["town"], as_of=as_of)["units"]
        zx = units[("HS-ZX", "虎山镇中心小学")]
        assert zx["total"] == 4 and zx["double"] == 2 and zx["civil"] == 2, as_of
        assert units[("HS-BQ", "板桥小学")]["total"] == 1


def test_the_whole_towns_guardians_count_only_enrolled_children(users, kids):
    # the town administrator's whole town today counts the guardians as every guardian but
    # those of the children not enrolled: a leaver's blank guardian is not counted
    blank = make_child(kids["c31a"].school_class, name="无监护人电话", **{"guardian.phone": ""})
    gone = make_child(kids["c31a"].school_class, name="已转出", **{"guardian.name": ""})
    Child.objects.filter(pk=gone.pk).update(enrolment=Enrolment.TRANSFERRED)
    for as_of in (None, dt.date(2026, 11, 29)):
        whole = services.summary(users["town"], as_of=as_of)["missing"]
        assert whole["guardian"] == 0 and whole["guardian_phone"] == 1
        assert services.dashboard_counts(users["town"])["missing"] == whole
    parts = [services.summary(users["town"], school=s)["missing"] for s in ("HS-ZX", "HS-BQ")]
    parts.append(services.summary(users["town"], school="HS-GT")["missing"])
    assert sum(p["guardian_phone"] for p in parts) == 1 and blank.guardian.phone == ""
