"""One rule for periods (lib.dates.range_errors): both dates within 2000-01-01 … two years after
today, and the end not before the start, each error naming its field in Chinese."""

import datetime as dt

from guanai.lib.dates import EARLIEST, latest, plausible, range_errors

TODAY = dt.date(2026, 11, 29)
FIELDS = {"field_start": "valid_from", "field_end": "valid_to", "today": TODAY}


def test_a_period_in_order_within_the_window_is_fine():
    assert range_errors(dt.date(2026, 9, 1), dt.date(2027, 1, 31), **FIELDS) == {}
    assert range_errors(dt.date(2026, 9, 1), None, **FIELDS) == {}
    assert range_errors(None, None, **FIELDS) == {}


def test_the_end_before_the_start_names_the_end():
    errors = range_errors(dt.date(2026, 9, 1), dt.date(2026, 8, 31), **FIELDS)
    assert errors == {"valid_to": "截止日期不能早于起始日期"}


def test_a_mistyped_year_names_that_field_not_the_order():
    # The proxy assignment of issue #10: a start in 3626, an end in 2026.
    errors = range_errors(dt.date(3626, 9, 14), dt.date(2026, 12, 4), **FIELDS)
    assert set(errors) == {"valid_from"}
    assert "起始日期不能晚于 2028-11-29" in errors["valid_from"]
    errors = range_errors(dt.date(1999, 12, 31), None, **FIELDS)
    assert errors == {"valid_from": "起始日期不能早于 2000-01-01，请核对年份"}


def test_the_window_edges_are_included_and_labels_are_the_callers():
    assert range_errors(EARLIEST, latest(TODAY), **FIELDS) == {}
    errors = range_errors(
        dt.date(2026, 10, 1),
        latest(TODAY) + dt.timedelta(days=1),
        field_start="since",
        field_end="until",
        label_start="开始日期",
        label_end="结束日期",
        today=TODAY,
    )
    assert errors == {"until": "结束日期不能晚于 2028-11-29（两年以后），请核对年份"}
    assert latest(dt.date(2028, 2, 29)) == dt.date(2030, 2, 28)
    assert plausible(TODAY, TODAY) and not plausible(dt.date(9999, 12, 31), TODAY)
