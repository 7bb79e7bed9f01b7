"""Validation of card input, shared by the card form, the API and the roster import.

Input is a flat dict of canonical keys (`name`, `id_number`, `father.status`, `guardian.phone`
…) holding raw values as typed; the result is cleaned Python values or Chinese messages keyed
by the same names, so each surface can point at its own field.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from guanai.lib.dates import DateError, parse_date
from guanai.lib.errors import Invalid
from guanai.lib.idcard import IdNumberError, parse_id_number
from guanai.lib.phone import PhoneError, parse_phone
from guanai.lib.text import clean, digits_of_number
from guanai.lib.vocab import (
    VocabError,
    parse_hukou,
    parse_parent_status,
    parse_relation,
    parse_yes_no,
)

from .models import Assessment, Gender, ParentStatus, Tag

CHILD_TEXT = {
    "name": ("姓名", 50),
    "ethnicity": ("民族", 20),
    "student_no": ("学籍号", 30),
    "school_no": ("学号", 30),
    "village": ("村", 40),
    "group": ("组", 20),
    "address": ("详细住址", 200),
    "health": ("健康状况", 200),
    "disability": ("残疾情况", 200),
    "study": ("学习情况", 200),
    "psych_summary": ("心理状况", 200),
    "safety_notes": ("安全情况", 200),
    "income_sources": ("家庭收入来源", 200),
    "assistance": ("享受救助", 200),
    "notes": ("备注", 2000),
}
CHILD_BOOL = {
    "is_migrant": "随迁子女",
    "boarding": "寄宿",
    "photo_consent": "同意使用照片",
    "psych_test_consent": "同意心理测评",
    "publicity_consent": "同意宣传报道",
}
PARENT_TEXT = {
    "name": ("姓名", 50),
    "status_reason": ("状况说明", 100),
    "work_province": ("务工省份", 20),
    "work_city": ("务工城市", 40),
    "work_place": ("务工地", 100),
}
GUARDIAN_TEXT = {"name": ("姓名", 50), "relation": ("关系", 20), "health": ("健康状况", 100)}
PARENT_LABEL = {"father": "父亲", "mother": "母亲", "guardian": "监护人"}

FIELD_LABELS: dict[str, str] = {
    **{k: v[0] for k, v in CHILD_TEXT.items()},
    **CHILD_BOOL,
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "hukou": "户口性质",
    "latitude": "纬度",
    "longitude": "经度",
    "guardianship_assessment": "监护情况评估",
    "tags": "特殊类别",
    "grade": "年级",
    "class_no": "班级",
    "category": "留守类别",
    "category_reason": "类别依据",
    "civil_affairs": "民政口径",
    "civil_affairs_reason": "民政口径依据",
    "xueji_category": "学籍系统留守类别",
    "only_child": "独生子女",
    "xueji_mismatch": "学籍与档卡不一致",
    "enrolment": "在读状态",
    "school": "学校",
    "class": "班级",
    "responsible_teacher": "责任教师",
    "version": "版本",
    "reason": "原因",
    "user": "用户",
}
for _who in ("father", "mother"):
    for _k, (_label, _n) in PARENT_TEXT.items():
        FIELD_LABELS[f"{_who}.{_k}"] = PARENT_LABEL[_who] + _label
    FIELD_LABELS[f"{_who}.status"] = PARENT_LABEL[_who] + "状况"
    FIELD_LABELS[f"{_who}.away_since"] = PARENT_LABEL[_who] + "外出时间"
    FIELD_LABELS[f"{_who}.phone"] = PARENT_LABEL[_who] + "电话"
    FIELD_LABELS[f"{_who}.effective_from"] = PARENT_LABEL[_who] + "状况起始日期"
for _k, (_label, _n) in GUARDIAN_TEXT.items():
    FIELD_LABELS[f"guardian.{_k}"] = "监护人" + _label
FIELD_LABELS.update(
    {
        "guardian.phone": "监护人电话",
        "guardian.age": "监护人年龄",
        "guardian.capacity": "监护人监护能力",
        "guardian.is_entrusted": "委托监护",
        "guardian.entrustment_notice_on": "委托监护告知书日期",
        "guardian.confirmation_signed_on": "被委托人确认书签署日期",
        "guardian.effective_from": "监护人起始日期",
    }
)

# Card input with field errors, {canonical key: Chinese message}: the one error type of lib.
CardInvalid = Invalid


def _text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = clean(digits_of_number(value))
        if len(text) > limit:
            raise ValueError(f"不能超过 {limit} 个字")
        return text

    return parse


def _bool(value: Any, *, boarding: bool = False) -> bool | None:
    """Yes/no as the import reads it (lib.vocab: √ and × included); blank is no, None stays
    None."""
    if value is None:
        return None
    return bool(parse_yes_no(value, boarding=boarding))


def _boarding(value: Any) -> bool | None:
    """寄宿/走读 besides yes/no."""
    return _bool(value, boarding=True)


def _choice(choices: type, label: str) -> Callable[[Any], str]:
    labels = {str(lbl): val for val, lbl in choices.choices}

    def parse(value: Any) -> str:
        text = clean(value)
        if text == "" or text in choices.values:
            return text
        if text in labels:
            return labels[text]
        allowed = "、".join(str(lbl) for _v, lbl in choices.choices)
        raise ValueError(f"“{text}”不是有效的{label}，应为 {allowed}")

    return parse


def _gender(value: Any) -> str:
    text = clean(value)
    return {"男": "male", "女": "female", "male": "male", "female": "female", "": ""}.get(
        text
    ) or _raise(f"性别“{text}”应为 男 或 女")


def _raise(message: str):
    raise ValueError(message)


STATUS_CODES = frozenset(ParentStatus.values)


def _status(value: Any) -> str:
    text = clean(value)
    if text in STATUS_CODES:
        return text
    return parse_parent_status(text)


def _phone(value: Any) -> str:
    return parse_phone(value).number


def _decimal(lo: float, hi: float) -> Callable[[Any], Decimal | None]:
    def parse(value: Any) -> Decimal | None:
        text = clean(value)
        if not text:
            return None
        try:
            number = Decimal(text).quantize(Decimal("0.000001"))
        except InvalidOperation:
            raise ValueError(f"“{text}”不是数字") from None
        if not lo <= number <= hi:
            raise ValueError(f"应在 {lo} 到 {hi} 之间")
        return number

    return parse


def _age(value: Any) -> int | None:
    text = clean(digits_of_number(value))
    if not text:
        return None
    if not text.isdigit() or not 10 <= int(text) <= 110:
        raise ValueError("年龄应为 10 到 110 之间的整数")
    return int(text)


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace("，", ",").split(",")
    labels = {str(lbl): val for val, lbl in Tag.choices}
    out = []
    for item in items:
        text = clean(item)
        code = text if text in Tag.values else labels.get(text)
        if code is None:
            raise ValueError(f"特殊类别“{text}”不存在")
        if code not in out:
            out.append(code)
    return out


def not_in_future(day: dt.date | None, *, label: str) -> dt.date | None:
    """The one check for dated facts (a birth, a parent's leaving, a transfer, a signed
    notice, a pledge handed back): they happened, so they cannot lie after today. A date
    typed for one that has not happened yet would silently change the classification (away
    since next March: "未满3个月", 非留守). Plans (deadlines, vacation dates) do not use it."""
    today = timezone.localdate()
    if day is not None and day > today:
        raise ValueError(f"{label}不能晚于今天（{today:%Y-%m-%d}）：只登记已经发生的事")
    return day


def _fact_date(key: str) -> Callable[[Any], dt.date | None]:
    def parse(value: Any) -> dt.date | None:
        return not_in_future(parse_date(value), label=FIELD_LABELS[key])

    return parse


PARSERS: dict[str, Callable[[Any], Any]] = {
    **{k: _text(n) for k, (_l, n) in CHILD_TEXT.items()},
    **{k: _bool for k in CHILD_BOOL},
    "boarding": _boarding,
    "gender": _gender,
    "birth_date": _fact_date("birth_date"),
    "hukou": parse_hukou,
    "latitude": _decimal(-90, 90),
    "longitude": _decimal(-180, 180),
    "guardianship_assessment": _choice(Assessment, "评估"),
    "tags": _tags,
}
for _who in ("father", "mother"):
    PARSERS.update({f"{_who}.{k}": _text(n) for k, (_l, n) in PARENT_TEXT.items()})
    PARSERS[f"{_who}.status"] = _status
    PARSERS[f"{_who}.away_since"] = _fact_date(f"{_who}.away_since")
    PARSERS[f"{_who}.phone"] = _phone
    PARSERS[f"{_who}.effective_from"] = _fact_date(f"{_who}.effective_from")
PARSERS.update({f"guardian.{k}": _text(n) for k, (_l, n) in GUARDIAN_TEXT.items()})
PARSERS.update(
    {
        "guardian.relation": lambda v: parse_relation(_text(20)(v)),
        "guardian.phone": _phone,
        "guardian.age": _age,
        "guardian.capacity": _choice(Assessment, "监护能力"),
        "guardian.is_entrusted": _bool,
        "guardian.entrustment_notice_on": _fact_date("guardian.entrustment_notice_on"),
        "guardian.confirmation_signed_on": _fact_date("guardian.confirmation_signed_on"),
        "guardian.effective_from": _fact_date("guardian.effective_from"),
    }
)
EDITABLE = set(PARSERS) | {"id_number"}
ERRORS = (ValueError, DateError, PhoneError, VocabError, IdNumberError)


def clean_card(raw: dict[str, Any], *, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse every given key; cross-check ID number, birth date and gender.

    `current` holds the stored values (birth_date, gender) for partial updates. Raises
    CardInvalid naming every bad field.
    """
    current = current or {}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        if key not in EDITABLE:
            errors[key] = "不是档卡上可以修改的字段"
            continue
        try:
            if key == "id_number":
                cleaned[key] = parse_id_number(value).number if clean(value) else ""
            else:
                cleaned[key] = PARSERS[key](value)
        except ERRORS as exc:
            errors[key] = str(exc)
    if "name" in cleaned and not cleaned["name"]:
        errors["name"] = "姓名不能为空"
    id_number = cleaned.get("id_number")
    if id_number and "id_number" not in errors:
        info = parse_id_number(id_number)
        birth = cleaned.get("birth_date") if "birth_date" in raw else current.get("birth_date")
        gender = cleaned.get("gender") if "gender" in raw else current.get("gender")
        if birth and birth != info.birth_date:
            errors["birth_date"] = (
                f"出生日期 {birth:%Y-%m-%d} 与身份证号中的 {info.birth_date:%Y-%m-%d} 不一致"
            )
        elif not birth:
            cleaned["birth_date"] = info.birth_date
        if gender and gender != info.gender:
            errors["gender"] = (
                f"性别“{Gender(gender).label}”与身份证号（{Gender(info.gender).label}）不一致"
            )
        elif not gender:
            cleaned["gender"] = info.gender
    elif "birth_date" in cleaned or "gender" in cleaned:
        # a changed birth date or gender must still agree with the stored ID number
        stored = current.get("id_number")
        if stored:
            info = parse_id_number(stored)
            if cleaned.get("birth_date") and cleaned["birth_date"] != info.birth_date:
                errors["birth_date"] = f"出生日期与身份证号中的 {info.birth_date:%Y-%m-%d} 不一致"
            if cleaned.get("gender") and cleaned["gender"] != info.gender:
                errors["gender"] = "性别与身份证号不一致"
    if errors:
        raise CardInvalid(errors)
    return cleaned
