"""年级 and 班级 as teachers write them."""

import re

from .numerals import parse_numeral
from .text import clean, digits_of_number

NAMED = {
    "学前班": 0,
    "学前": 0,
    "初一": 7,
    "初二": 8,
    "初三": 9,
    "七年级": 7,
    "八年级": 8,
    "九年级": 9,
    "高一": 10,
    "高二": 11,
    "高三": 12,
}
GRADE_NAMES = {
    0: "学前班",
    1: "一年级",
    2: "二年级",
    3: "三年级",
    4: "四年级",
    5: "五年级",
    6: "六年级",
    7: "初一",
    8: "初二",
    9: "初三",
    10: "高一",
    11: "高二",
    12: "高三",
}


class GradeError(ValueError):
    """A grade or class that cannot be read; Chinese message."""


def parse_grade(value: object) -> int:
    """'3', 3.0, '3年级', '三年级', '初一' (7), '学前班' (0) → int."""
    text = clean(digits_of_number(value)).replace(" ", "")
    if not text:
        raise GradeError("年级为空")
    if text in NAMED:
        return NAMED[text]
    stripped = re.sub(r"(年级|年)$", "", text)
    number = parse_numeral(stripped)
    if number is None or not 0 <= number <= 12:
        raise GradeError(f"年级“{text}”无法识别，请写 1–9 或 三年级、初一")
    return number


def parse_class_no(value: object) -> int:
    """'2', 2.0, '2班', '(2)班', '（2）班', '二班' → int."""
    text = clean(digits_of_number(value)).replace(" ", "")
    if not text:
        raise GradeError("班级为空")
    stripped = re.sub(r"^[(\[]?(.+?)[)\]]?班?$", r"\1", text)
    stripped = stripped.strip("()[]")
    number = parse_numeral(stripped)
    if number is None or not 1 <= number <= 99:
        raise GradeError(f"班级“{text}”无法识别，请写 2 或 2班")
    return number


def grade_name(grade: int) -> str:
    return GRADE_NAMES.get(grade, f"{grade}年级")
