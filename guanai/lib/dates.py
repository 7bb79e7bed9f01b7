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


def current_term(today: dt.date | None = None) -> str:
    """'2026-2027-1' (autumn) or '2026-2027-2' (spring) for a date."""
    today = today or dt.date.today()
    if today.month >= 8:
        return f"{today.year}-{today.year + 1}-1"
    if today.month == 1:
        return f"{today.year - 1}-{today.year}-1"
    return f"{today.year - 1}-{today.year}-2"


def parse_term(value: str) -> str:
    m = TERM_RE.match(clean(value))
    if not m or int(m[2]) != int(m[1]) + 1:
        raise DateError(f"学期“{value}”格式应为 2026-2027-1（学年-学年-1 秋季 / 2 春季）")
    return m[0]
