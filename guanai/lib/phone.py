"""Phone numbers as teachers write them: mobiles, landlines with area code, two in one cell."""

import re
from dataclasses import dataclass

from .text import clean, digits_of_number

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
SPLIT = re.compile(r"[/、,，;；]|\s{2,}|或")


class PhoneError(ValueError):
    """A phone number that is neither a mainland mobile nor a landline with area code."""


@dataclass(frozen=True)
class Phone:
    number: str  # the first number, normalised; '' when the cell is blank
    extra: str  # any further numbers in the cell, for 备注


def _normalize_one(raw: str) -> str:
    text = raw.strip()
    text = re.sub(r"^(\+|00)86", "", text.replace(" ", ""))
    text = text.replace("(", "").replace(")", "-").replace("（", "").replace("）", "-")
    compact = text.replace("-", "").replace(" ", "")
    if MOBILE.match(compact):
        return compact
    if compact.startswith("0") and compact.isdigit() and len(compact) > 1:
        # area code: 010, 02x are 3 digits, others 4
        area_len = 3 if compact[1] in "12" else 4
        number = f"{compact[:area_len]}-{compact[area_len:]}"
        if LANDLINE.match(number):
            return number
    if "-" in text and LANDLINE.match(text.replace(" ", "")):
        return text.replace(" ", "")
    raise PhoneError(f"电话号码“{raw.strip()}”不是 11 位手机号，也不是带区号的座机号")


def parse_phone(value: object) -> Phone:
    """Normalise a phone cell. Raises PhoneError with a Chinese message."""
    text = clean(digits_of_number(value))
    if not text:
        return Phone("", "")
    parts = [p for p in SPLIT.split(text) if p.strip()]
    first = _normalize_one(parts[0])
    extra = "/".join(p.strip() for p in parts[1:])
    return Phone(first, extra)


def normalize_phone(value: object) -> str:
    return parse_phone(value).number
