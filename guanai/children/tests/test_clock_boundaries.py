"""Classification as time passes, driven by the suite's clock at Shanghai midnight (16:00 UTC):
three months away, turning 16, a 29 February birthday."""

import datetime as dt

import pytest

from guanai.children.classification import birthday, change_dates
from guanai.children.models import Child
from guanai.children.services import refresh_classifications
from guanai.testing import make_child

D = dt.date
UTC = dt.UTC


def _refreshed(child: Child) -> Child:
    refresh_classifications()
    return Child.objects.get(pk=child.pk)


@pytest.mark.clock("2026-11-29T15:59:00+00:00")  # 23:59 on 29 November in Shanghai
def test_three_months_away_start_at_shanghai_midnight_not_utc_midnight(db, clock):
    child = make_child(**{"father.away_since": "2026-08-31", "mother.status": "home"}, name="王五")
    assert child.category == "none"  # away 2 months 29 days
    assert _refreshed(child).category == "none"
    clock.move_to(dt.datetime(2026, 11, 29, 16, 0, tzinfo=UTC))  # 00:00 on 30 November
    after = _refreshed(child)
    assert after.category == "single"
    assert after.history.first().history_change_reason == "按日期重新认定"


@pytest.mark.clock("2026-11-29T15:59:00+00:00")
def test_turning_16_leaves_the_civil_affairs_count_at_midnight_but_keeps_the_card(db, clock):
    child = make_child(birth=D(2010, 11, 30), name="刘八")
    assert (child.category, child.civil_affairs) == ("double", True)
    assert _refreshed(child).civil_affairs is True
    clock.move_to(dt.datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
    after = _refreshed(child)
    assert (after.category, after.civil_affairs, after.is_active) == ("double", False, True)


@pytest.mark.clock("2028-02-28T12:00:00+08:00")
def test_a_29_february_child_turns_16_on_29_february_of_a_leap_year(db, clock):
    child = make_child(birth=D(2012, 2, 29), name="闰日")
    assert child.civil_affairs is True
    clock.move_to(dt.datetime(2028, 2, 29, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert _refreshed(child).civil_affairs is False


def test_birthdays_of_29_february_children():
    assert birthday(D(2012, 2, 29), 16) == D(2028, 2, 29)
    assert birthday(D(2012, 2, 29), 1) == D(2013, 3, 1)
    assert birthday(D(2010, 11, 30), 16) == D(2026, 11, 30)
    dates = change_dates(
        facts_dates=[], away_since=[], birth_date=D(2012, 2, 29), away_months=3, civil_age=16
    )
    assert dates == [D(2028, 2, 29)]


def test_three_months_from_the_end_of_a_month_end_at_its_last_day():
    dates = change_dates(
        facts_dates=[], away_since=[D(2027, 11, 30)], birth_date=None, away_months=3, civil_age=16
    )
    assert dates == [D(2028, 2, 29)]
