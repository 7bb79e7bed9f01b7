"""Dates as they appear in Chinese sheets and forms, and the school term."""

import datetime as dt
import re

from .text import clean

EXCEL_EPOCH = dt.date(1899, 12, 30)
PATTERNS = [
    re.compile(r"^(\d{4})[./\-](\d{1,2})[./\-](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


class DateError(ValueError):
    """A date that cannot be read; Chinese message."""


def parse_date(value: object) -> dt.date | None:
    """Read a date cell or field. None for blank. Raises DateError."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = int(value)
        if 19000101 <= number <= 21001231:
            return parse_date(str(number))
        if 1 <= number < 80000:  # an Excel serial
            return EXCEL_EPOCH + dt.timedelta(days=number)
        raise DateError(f"日期“{value}”无法识别")
    text = clean(value)
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0]
    for pattern in PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise DateError(f"日期“{text}”不存在") from None
    raise DateError(f"日期“{text}”无法识别，请写成 2015-03-02 或 2015年3月2日")


def age_on(birth: dt.date, on: dt.date) -> int:
    """Completed years of age on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


TERM_RE = re.compile(r"^(\d{4})-(\d{4})-([12])$")


# One definition of the school term, used by every date rule (screening, rosters, contact rules,
# responsibility, letters, 普访 rounds). The school year begins on 1 September (9月1日开学, the
# 学籍 year); the autumn term runs to 31 January, the spring term from 1 February to 31 August, so
# a vacation belongs to the term it ends (寒假 → autumn, 暑假 → spring): the verification, the
# vacation plans and the summer visits of July and August count for the spring term.
AUTUMN_START = (9, 1)
SPRING_START = (2, 1)


def current_term(today: dt.date | None = None) -> str:
    """'2026-2027-1' (autumn: 1 Sep – 31 Jan) or '2026-2027-2' (spring: 1 Feb – 31 Aug)."""
    today = today or dt.date.today()
    if today.month >= AUTUMN_START[0]:
        return f"{today.year}-{today.year + 1}-1"
    if today.month < SPRING_START[0]:
        return f"{today.year - 1}-{today.year}-1"
    return f"{today.year - 1}-{today.year}-2"


def term_bounds(term: str) -> tuple[dt.date, dt.date]:
    """First and last day of a term code. Raises DateError for a malformed code."""
    first, second, half = (int(p) for p in parse_term(term).split("-"))
    if half == 1:
        return dt.date(first, *AUTUMN_START), dt.date(second, *SPRING_START) - dt.timedelta(1)
    return dt.date(second, *SPRING_START), dt.date(second, *AUTUMN_START) - dt.timedelta(1)


def term_start(day: dt.date) -> dt.date:
    """First day of the term holding `day`."""
    return term_bounds(current_term(day))[0]


def term_label(term: str) -> str:
    """'2026—2027学年第一学期' for '2026-2027-1'."""
    start, end, half = parse_term(term).split("-")
    return f"{start}—{end}学年第{'一' if half == '1' else '二'}学期"


def parse_term(value: str) -> str:
    m = TERM_RE.match(clean(value))
    if not m or int(m[2]) != int(m[1]) + 1:
        raise DateError(f"学期“{value}”格式应为 2026-2027-1（学年-学年-1 秋季 / 2 春季）")
    return m[0]


# No record of this system predates it, and nothing is planned years ahead: a date outside this
# window is a typo (3626 for 2026), and stored it would keep a period in force for centuries.
EARLIEST = dt.date(2000, 1, 1)
YEARS_AHEAD = 2


def latest(today: dt.date) -> dt.date:
    """The last plausible date for a period or a plan: YEARS_AHEAD years after today."""
    return add_months(today, 12 * YEARS_AHEAD)


def plausible(day: dt.date, today: dt.date) -> bool:
    """Whether a date lies in the window of `range_errors` (for dates in links, such as the
    week of a plan, that fall back to a default instead of failing)."""
    return EARLIEST <= day <= latest(today)


def range_errors(
    start: dt.date | None,
    end: dt.date | None,
    *,
    field_start: str,
    field_end: str,
    label_start: str = "起始日期",
    label_end: str = "截止日期",
    today: dt.date | None = None,
) -> dict[str, str]:
    """Errors of a period (either end may be missing), naming each field in Chinese: each date
    within EARLIEST … two years after today, and the end not before the start. One rule for
    every form, API body and service that takes a period (代理, 包年级包班, 角色, 普访轮次);
    each raises its own error type with these ({} when the period is fine)."""
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    errors: dict[str, str] = {}
    for field, label, day in ((field_start, label_start, start), (field_end, label_end, end)):
        if day is None:
            continue
        if day < EARLIEST:
            errors[field] = f"{label}不能早于 {EARLIEST:%Y-%m-%d}，请核对年份"
        elif day > latest(today):
            errors[field] = f"{label}不能晚于 {latest(today):%Y-%m-%d}（两年以后），请核对年份"
    if start and end and end < start and not errors:
        errors[field_end] = f"{label_end}不能早于{label_start}"
    return errors


# --- dates in query strings ---------------------------------------------------------------------
# One reading of a date in a link or an API query string (?on=, ?week=, ?since=, ?until=). What
# a caller does with a bad one is its policy, stated where it calls: a page falls back to its
# default and says so (`query_date_or`), an API answers 422 naming the parameter (the caller
# raises lib.errors.Invalid with the message).


def query_date(value: str | None, *, label: str, today: dt.date | None = None) -> dt.date | None:
    """A date from a query string, read like every date (2026-11-01, 2026/11/01, 2026年11月1日)
    and within the window of `range_errors` (year 9999 would overflow the week after it); None
    when absent or blank. Raises DateError with a message that starts with `label`."""
    if value is None or not clean(value):
        return None
    try:
        day = parse_date(value)
    except DateError as exc:
        raise DateError(f"{label}：{exc}") from None
    assert day is not None
    errors = range_errors(
        day, None, field_start="day", field_end="", label_start=label, today=today
    )
    if errors:
        raise DateError(errors["day"])
    return day


def query_date_or(
    value: str | None, default: dt.date | None, *, label: str, today: dt.date | None = None
) -> tuple[dt.date | None, str]:
    """A page's policy: (the date in the query string, or `default` when it is absent, and '')
    or, when it cannot be read, (`default`, a message to show saying so). A `default` of None
    is a filter left out."""
    try:
        day = query_date(value, label=label, today=today)
    except DateError as exc:
        instead = f"已改为 {default:%Y-%m-%d}" if default else "未按此日期筛选"
        return default, f"{exc}；{instead}"
    return (default if day is None else day), ""


def query_moment(
    value: str | None, *, label: str, tz: dt.tzinfo, today: dt.date | None = None
) -> tuple[dt.datetime, bool] | None:
    """A date or an ISO datetime from a query string (?since=2026-11-01,
    ?until=2026-11-30T18:00): the aware moment (a date's midnight; a time without a zone is
    `tz`'s) and whether a whole day was given; None when absent or blank. Raises DateError with
    a message that starts with `label`."""
    text = clean(value)
    if not text:
        return None
    if "T" not in text and ":" not in text:
        day = query_date(text, label=label, today=today)
        assert day is not None
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz), True
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DateError(
            f"{label}：“{text}”无法识别，应为 2026-11-01 或 2026-11-01T08:00:00"
        ) from None
    query_date(moment.date().isoformat(), label=label, today=today)  # the same window
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)), False
