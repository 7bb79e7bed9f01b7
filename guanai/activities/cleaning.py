"""Values of a form or an API body cleaned for the activities app's workflows: text, a date, an
amount of money (or of items), a time of day. Each notes its message in `errors` under the key
and returns the clean value (None when missing or bad); the caller raises Invalid(errors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from guanai.lib import dates

MAX_MONEY = Decimal("99999999.99")


def clean_text(values: dict, key: str, errors: dict, *, limit: int, required: str = "") -> str:
    value = str(values.get(key) or "").strip()
    if required and not value:
        errors[key] = required
    elif len(value) > limit:
        errors[key] = f"不能超过 {limit} 个字"
    return value


def clean_date(values: dict, key: str, errors: dict, *, required: str = "") -> dt.date | None:
    raw = values.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = required
        return None
    if isinstance(raw, dt.date):
        day = raw
    else:
        try:
            day = dates.parse_date(raw)
        except dates.DateError as exc:
            errors[key] = str(exc)
            return None
    if day is None or not dates.plausible(day, timezone.localdate()):
        errors[key] = "日期不合理，请核对"
        return None
    return day


def clean_money(values: dict, key: str, errors: dict, *, required: str = "") -> Decimal | None:
    raw = values.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = required
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        errors[key] = "应为数字，如 500 或 12.5"
        return None
    if not value.is_finite() or value <= 0:
        errors[key] = "应大于 0"
        return None
    if value > MAX_MONEY or value != value.quantize(Decimal("0.01")):
        errors[key] = "数字太大或小数超过两位"
        return None
    return value.quantize(Decimal("0.01"))


def clean_time(values: dict, key: str, errors: dict, *, required: str) -> dt.time | None:
    raw = values.get(key)
    if raw in (None, ""):
        errors[key] = required
        return None
    if isinstance(raw, dt.time):
        return raw.replace(second=0, microsecond=0)
    try:
        return dt.datetime.strptime(str(raw).strip().replace("：", ":"), "%H:%M").time()
    except ValueError:
        errors[key] = "时间格式应为 08:30"
        return None
