"""Chinese resident ID numbers (GB 11643-1999): validation, birth date, gender.

The check digit and birth date follow python-stdnum. Its region check insists that the code was
in use in the birth year, which is too strict for late 户口 registration, so the region is
checked against stdnum's table without the year, memoised per code (the lookup is most of the
cost of a validation).
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

from .text import clean


class IdNumberError(ValueError):
    """An ID number that is not valid; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    gender: str  # "male" | "female"


@lru_cache(maxsize=8192)
def region_exists(code: str) -> bool:
    """Whether a 6-digit region code ever existed (retired or created codes are fine)."""
    try:
        results = numdb.get("cn/loc").info(code)
        info = {k: v for _part, props in results for k, v in props.items()}
        return bool(info.get("county"))
    except Exception:  # noqa: BLE001 — stdnum raises KeyError etc. for some codes: unknown
        return False


def normalize_id_number(value: object) -> str:
    """NFKC, strip spaces, upper-case a trailing x. Does not validate."""
    return clean(value).replace(" ", "").upper()


def normalize_student_no(value: object) -> str:
    """A 学籍号 as stored and looked up: NFKC, no spaces, upper case (g → G)."""
    return clean(value).replace(" ", "").upper()


def looks_like_student_no(value: object) -> bool:
    """Whether a search text is a whole 学籍号 (G/L/J + ID-like characters, or 10+ digits)
    rather than a name or the last digits of an ID number."""
    text = normalize_student_no(value)
    if not text.isascii() or not text.isalnum() or len(text) < 10:
        return False
    return text.isdigit() or (text[0].isalpha() and text[1:].isalnum() and len(text) >= 10)


def parse_id_number(value: object, *, today: dt.date | None = None) -> IdInfo:
    """Validate an 18-character ID number and return it with its birth date and gender.

    Raises IdNumberError with a Chinese message on any problem.
    """
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise IdNumberError("身份证号被 Excel 转成了数字，后几位已丢失；请把该列设为文本后重新填写")
    number = normalize_id_number(value)
    if not number:
        raise IdNumberError("身份证号为空")
    if "E+" in number or "E-" in number:
        raise IdNumberError(
            "身份证号被 Excel 转成了科学计数法，后几位已丢失；请把该列设为文本后重新填写"
        )
    if len(number) != 18:
        raise IdNumberError(f"身份证号应为 18 位，这里是 {len(number)} 位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("身份证号只能是 17 位数字加一位数字或 X")
    if number[17] != ric.calc_check_digit(number):
        raise IdNumberError("身份证号校验位不对，请核对每一位数字")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期不存在") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise IdNumberError("身份证号中的出生日期不可能")
    if not region_exists(number[:6]):
        raise IdNumberError(f"身份证号的地区码 {number[:6]} 不存在")
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return IdInfo(number=number, birth_date=birth, gender=gender)


def is_valid_id_number(value: object) -> bool:
    try:
        parse_id_number(value)
    except IdNumberError:
        return False
    return True


def make_id_number(region: str, birth: dt.date, seq: int) -> str:
    """Build a valid ID number (demo data and tests). seq odd = male, even = female."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")
