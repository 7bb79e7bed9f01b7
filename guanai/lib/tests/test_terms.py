"""One definition of the school term (autumn 1 Sep – 31 Jan, spring 1 Feb – 31 Aug), tested at
its edges, and the suite's clock itself."""

import datetime as dt

import pytest
from django.utils import timezone

from guanai.lib.dates import (
    DateError,
    current_term,
    term_bounds,
    term_label,
    term_start,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (D(2026, 8, 31), "2025-2026-2"),  # the summer vacation ends the spring term
        (D(2026, 9, 1), "2026-2027-1"),  # the school year begins
        (D(2026, 12, 31), "2026-2027-1"),
        (D(2027, 1, 1), "2026-2027-1"),
        (D(2027, 1, 31), "2026-2027-1"),  # the winter vacation ends the autumn term
        (D(2027, 2, 1), "2026-2027-2"),
        (D(2028, 2, 29), "2027-2028-2"),
    ],
)
def test_every_day_belongs_to_one_term_and_its_bounds_hold_it(day, term):
    assert current_term(day) == term
    first, last = term_bounds(term)
    assert first <= day <= last
    assert term_start(day) == first


def test_terms_tile_the_calendar_without_gaps_or_overlaps():
    day = D(2025, 8, 1)
    while day < D(2029, 3, 1):
        first, last = term_bounds(current_term(day))
        assert first <= day <= last
        assert current_term(last + dt.timedelta(days=1)) != current_term(day)
        day = last + dt.timedelta(days=1)


def test_a_leap_year_does_not_move_the_spring_term():
    assert term_bounds("2027-2028-2") == (D(2028, 2, 1), D(2028, 8, 31))
    assert term_bounds("2027-2028-1") == (D(2027, 9, 1), D(2028, 1, 31))


def test_term_labels_and_bad_codes():
    assert term_label("2026-2027-1") == "2026—2027学年第一学期"
    assert term_label("2026-2027-2") == "2026—2027学年第二学期"
    for bad in ("2026-2028-1", "2026-2027-3", "", "秋季"):
        with pytest.raises(DateError):
            term_bounds(bad)


def test_the_suite_runs_at_its_fixed_instant_not_the_real_one():
    now = timezone.localtime()
    assert (now.year, now.month, now.day, now.hour) == (2026, 11, 29, 10)
    assert dt.date.today() == D(2026, 11, 29)


@pytest.mark.clock("2027-01-31T15:59:00+00:00")
def test_a_clock_marker_moves_every_clock_and_shanghai_midnight_is_16_utc(clock):
    assert timezone.localdate() == D(2027, 1, 31)
    assert current_term(timezone.localdate()) == "2026-2027-1"
    clock.move_to(dt.datetime(2027, 1, 31, 16, 0, tzinfo=dt.UTC))
    assert timezone.localdate() == D(2027, 2, 1)
    assert current_term(timezone.localdate()) == "2026-2027-2"


@pytest.mark.clock(D(2028, 2, 29))
def test_a_clock_marker_takes_a_plain_date_as_ten_in_the_morning_in_shanghai():
    assert timezone.localtime().replace(second=0, microsecond=0) == dt.datetime(
        2028, 2, 29, 10, 0, tzinfo=timezone.get_current_timezone()
    )
