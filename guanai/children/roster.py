"""Roster import and export (SPEC §6.1, §6.2): school sheets in as they really are, the template
and the school's roster out.

An import reads the whole sheet first (reading only: parse, normalise, validate, match), then
writes in one short transaction, so a failure leaves nothing half-written and SQLite's single
writer is held only for the write. New cards, their parents and guardian and the history rows of
all of them go in with `cursor.executemany` (per-row ORM objects cost 3.5x the floor, STACK.md);
the fewer updates of known cards go through the ORM so django-simple-history records them.
"""

import datetime as dt
import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any
from unicodedata import normalize

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, models, transaction
from django.utils import timezone
from pypinyin import Style, pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS

from guanai.lib import crypto, xlsx
from guanai.lib.dates import current_term, parse_term
from guanai.lib.db_errors import database_error_message
from guanai.lib.grades import GradeError, parse_class_no, parse_grade
from guanai.lib.idcard import IdNumberError, normalize_student_no, parse_id_number
from guanai.lib.masking import mask_id_number
from guanai.lib.phone import PhoneError, parse_phone
from guanai.lib.pinyin import join_keys, ordered_readings, search_key
from guanai.lib.text import clean, digits_of_number
from guanai.lib.vocab import VocabError, parse_parent_status, parse_yes_no
from guanai.org.models import School, SchoolClass

from .classification import STATUS_LABELS, ParentFacts, classify
from .models import Child, Enrolment, Gender, Guardian, Hukou, Parent, ParentStatus
from .validation import (
    CHILD_TEXT,
    ERRORS,
    GUARDIAN_TEXT,
    PARENT_TEXT,
    PARSERS,
    CardInvalid,
    clean_card,
)

# --- the template (SPEC §6.2) ----------------------------------------------------------------

COLUMNS = [
    "姓名",
    "性别",
    "身份证号",
    "学籍号",
    "出生日期",
    "民族",
    "年级",
    "班级",
    "学号",
    "户口性质",
    "是否随迁子女",
    "村",
    "组",
    "详细住址",
    "是否寄宿",
    "健康状况",
    "父亲姓名",
    "父亲状况",
    "父亲外出时间",
    "父亲务工地",
    "父亲电话",
    "母亲姓名",
    "母亲状况",
    "母亲外出时间",
    "母亲务工地",
    "母亲电话",
    "监护人姓名",
    "监护人关系",
    "监护人电话",
    "监护人年龄",
    "备注",
]
# Column → card input key (guanai.children.validation); 年级, 班级 and phones are read here.
KEY_OF_COLUMN = {
    "姓名": "name",
    "性别": "gender",
    "身份证号": "id_number",
    "学籍号": "student_no",
    "出生日期": "birth_date",
    "民族": "ethnicity",
    "学号": "school_no",
    "户口性质": "hukou",
    "是否随迁子女": "is_migrant",
    "村": "village",
    "组": "group",
    "详细住址": "address",
    "是否寄宿": "boarding",
    "健康状况": "health",
    "父亲姓名": "father.name",
    "父亲状况": "father.status",
    "父亲外出时间": "father.away_since",
    "父亲务工地": "father.work_place",
    "父亲电话": "father.phone",
    "母亲姓名": "mother.name",
    "母亲状况": "mother.status",
    "母亲外出时间": "mother.away_since",
    "母亲务工地": "mother.work_place",
    "母亲电话": "mother.phone",
    "监护人姓名": "guardian.name",
    "监护人关系": "guardian.relation",
    "监护人电话": "guardian.phone",
    "监护人年龄": "guardian.age",
    "备注": "notes",
    # read from the 学籍 system's student sheet only (guanai/children/xueji.py)
    "残疾类型": "disability",
}
COLUMN_OF_KEY = {v: k for k, v in KEY_OF_COLUMN.items()}
PHONE_COLUMNS = ("父亲电话", "母亲电话", "监护人电话")
YES_NO_COLUMNS = ("是否随迁子女", "是否寄宿")
# Cells passed to clean_card as they are (after NFKC + trim).
CARD_COLUMNS = [
    c
    for c in KEY_OF_COLUMN
    if c not in PHONE_COLUMNS + YES_NO_COLUMNS + ("身份证号", "学籍号", "学号", "备注")
]

ALIASES = {
    # SPEC §6.2
    "身份证号码": "身份证号",
    "证件号码": "身份证号",
    "公民身份号码": "身份证号",
    "身份证件号": "身份证号",
    "监护人联系电话": "监护人电话",
    "监护人手机": "监护人电话",
    "父亲联系电话": "父亲电话",
    "母亲联系电话": "母亲电话",
    "出生年月日": "出生日期",
    "生日": "出生日期",
    "全国学籍号": "学籍号",
    "学生姓名": "姓名",
    # other spellings seen in school sheets and the 学籍 system's exports
    "身份证件号码": "身份证号",
    "身份证": "身份证号",
    "学生身份证号": "身份证号",
    "学生身份证号码": "身份证号",
    "公民身份证号": "身份证号",
    "公民身份证号码": "身份证号",
    "证件号": "身份证号",
    "学籍号码": "学籍号",
    "全国学籍号码": "学籍号",
    "学籍编号": "学籍号",
    "儿童姓名": "姓名",
    "户口类型": "户口性质",
    "户籍性质": "户口性质",
    "随迁子女": "是否随迁子女",
    "是否进城务工人员随迁子女": "是否随迁子女",
    "是否随迁": "是否随迁子女",
    "寄宿": "是否寄宿",
    "是否住校": "是否寄宿",
    "是否寄宿生": "是否寄宿",
    "家庭住址": "详细住址",
    "家庭地址": "详细住址",
    "住址": "详细住址",
    "所在村": "村",
    "村社区": "村",
    "村民小组": "组",
    "健康情况": "健康状况",
    "身体状况": "健康状况",
    "监护人联系方式": "监护人电话",
    "监护人手机号": "监护人电话",
    "监护人电话号码": "监护人电话",
    "与监护人关系": "监护人关系",
    "监护人与儿童关系": "监护人关系",
    "监护人与学生关系": "监护人关系",
    "委托监护人姓名": "监护人姓名",
    "委托监护人电话": "监护人电话",
    "委托监护人关系": "监护人关系",
    "委托监护人年龄": "监护人年龄",
    # a bare 父亲 / 母亲 / 监护人 column holds the name (or groups a second header row)
    "父亲": "父亲姓名",
    "母亲": "母亲姓名",
    "监护人": "监护人姓名",
    "委托监护人": "监护人姓名",
}
for _who in ("父亲", "母亲"):
    ALIASES.update(
        {
            f"{_who}手机": f"{_who}电话",
            f"{_who}手机号": f"{_who}电话",
            f"{_who}电话号码": f"{_who}电话",
            f"{_who}联系方式": f"{_who}电话",
            f"{_who}状态": f"{_who}状况",
            f"{_who}外出务工地": f"{_who}务工地",
            f"{_who}务工地点": f"{_who}务工地",
            f"{_who}务工地址": f"{_who}务工地",
            f"{_who}外出务工时间": f"{_who}外出时间",
            f"{_who}外出日期": f"{_who}外出时间",
            f"{_who}外出年月": f"{_who}外出时间",
            f"{_who}外出务工日期": f"{_who}外出时间",
            f"{_who}离家时间": f"{_who}外出时间",
        }
    )
COLUMN_OF_HEADER = {c: c for c in COLUMNS} | ALIASES
# Grouped two-row headers: 父亲 over 姓名 | 状况 | 电话 …
GROUPS = {"父亲": "父亲", "母亲": "母亲", "监护人": "监护人", "委托监护人": "监护人"}
SUB_ALIASES = {
    "联系电话": "电话",
    "手机": "电话",
    "手机号": "电话",
    "联系方式": "电话",
    "状态": "状况",
    "情况": "状况",
    "务工地点": "务工地",
    "外出务工地": "务工地",
    "外出务工时间": "外出时间",
    "外出日期": "外出时间",
    "外出年月": "外出时间",
    "与儿童关系": "关系",
    "与学生关系": "关系",
}
CLOSED_LISTS = {
    "性别": ["男", "女"],
    "户口性质": ["农业", "非农业"],
    "是否随迁子女": ["是", "否"],
    "是否寄宿": ["是", "否"],
    "父亲状况": list(STATUS_LABELS.values()),
    "母亲状况": list(STATUS_LABELS.values()),
}
OPEN_LISTS = {"监护人关系": ["祖父", "祖母", "外祖父", "外祖母", "父亲", "母亲", "其他亲属"]}
TEXT_COLUMNS = {"身份证号", "学籍号", "学号", "父亲电话", "母亲电话", "监护人电话"}

REASON_CREATED = "由导入新建"
REASON_UPDATED = "由导入更新"
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
CHUNK = 900  # rows looked up together (under SQLite's old 999-parameter limit)
WRITE_BATCH = 2000


class RosterError(Exception):
    """The file cannot be imported at all (unreadable, no header row): exit status 2."""


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's own 1-based row number
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do); `as_dict` is SPEC §6.1's JSON."""

    term: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    header_row: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


# --- reading sheets --------------------------------------------------------------------------


def read_sheet(path: str | Path, *, name: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """The first sheet of an .xlsx/.xls or a .csv (UTF-8 with or without BOM, or GBK), as
    (1-based row number, raw cells). Raises RosterError when the file cannot be read or is
    beyond the limits of lib.xlsx (a workbook is read in a child process with a memory
    ceiling, so no file can take this process down). `name` is the file's name as the teacher
    knows it (an upload is stored under another), for the messages."""
    path = Path(path)
    label = name or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise RosterError(f"无法读取文件“{label}”：{xlsx.os_message(exc)}") from exc
    suffix = path.suffix.lower()
    if head.startswith((XLSX_MAGIC, XLS_MAGIC)) or suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _translated(xlsx.read_workbook(path), label)
    if suffix in (".csv", ".txt", ".tsv") or not suffix:
        return _translated(xlsx.read_csv(path), label)
    raise RosterError(f"不支持的文件类型“{suffix}”：请上传 .xlsx、.xls 或 .csv 花名册")


def _translated(rows: Iterator[tuple[int, list[Any]]], label: str) -> Iterator:
    try:
        yield from rows
    except xlsx.SheetError as exc:
        raise RosterError(f"无法读取文件“{label}”：{exc}") from exc


# --- the header row --------------------------------------------------------------------------


def _header_text(value: Any) -> str:
    text = re.sub(r"\s+", "", clean(value))
    text = text.strip("*:：")
    text = re.sub(r"\([^()]*\)$", "", text)  # 身份证号（18位）, 村（社区）
    return text.strip("*")


def _canonical(text: str) -> str | None:
    return COLUMN_OF_HEADER.get(text)


@dataclass
class Header:
    """Where the header is and which column holds what."""

    row: int  # 1-based row number of the (last) header row
    index: dict[str, int]  # canonical column → cell index
    labels: dict[str, str]  # canonical column → the sheet's own header
    # "xueji": the 学籍 system's student sheet, its rows translated by guanai.children.xueji
    kind: str = "roster"


def _group(text: str) -> str | None:
    text = re.sub(r"(基本情况|基本信息|情况|信息)$", "", text)
    return GROUPS.get(text)


def _combine(group: str | None, sub: str) -> str | None:
    if not sub:
        return None
    if group:
        found = _canonical(group + sub) or _canonical(group + SUB_ALIASES.get(sub, sub))
        if found:
            return found
    return None


def find_header(
    rows: Iterator[tuple[int, list[Any]]], *, translate: bool = True
) -> tuple[Header, Iterator]:
    """Find the header row (the first row holding 姓名 or an alias, SPEC §6.2) and map its
    columns. Title rows above it are skipped; a second header row under grouped cells
    (父亲 over 姓名 | 状况 | 电话) is read too. Returns the header and the remaining rows.

    The 学籍 system's student sheet is recognised by its headers and its rows are translated
    into the roster's columns (guanai/children/xueji.py); with `translate=False` its own
    columns and raw rows are returned instead (each header text as its own column), for
    writing rejected rows back in the sheet's own layout."""
    for number, cells in rows:
        texts = [_header_text(c) for c in cells]
        if not any(_canonical(t) == "姓名" for t in texts):
            continue
        from . import xueji

        if xueji.is_student_sheet(texts) and not translate:
            own = {t: i for i, t in reversed(list(enumerate(texts))) if t}
            return Header(number, own, {t: clean(cells[i]) for t, i in own.items()}, "xueji"), rows
        if xueji.is_student_sheet(texts):
            sheet = xueji.read_header(texts, cells)
            return (
                Header(number, dict(xueji.INDEX), sheet.base_labels, kind="xueji"),
                xueji.translated_rows(sheet, rows),
            )
        index: dict[str, int] = {}
        labels: dict[str, str] = {}
        groups: list[str | None] = []
        for i, text in enumerate(texts):
            col = _canonical(text)
            # a group label spans the blank cells to its right when not merged (CSV)
            groups.append(_group(text) if text else (groups[-1] if groups else None))
            if col and col not in index:
                index[col] = i
                labels[col] = clean(cells[i])
        nxt = next(rows, None)
        if nxt is None:
            return Header(number, index, labels), iter(())
        sub_number, sub_cells = nxt
        subs = [_header_text(c) for c in sub_cells]
        name_i = index["姓名"]
        combined: dict[str, int] = {}
        for i, sub in enumerate(subs):
            col = _combine(groups[i] if i < len(groups) else None, sub)
            if col is None and (i >= len(texts) or not texts[i]):
                col = _canonical(sub)
            if col and col not in index and col not in combined:
                combined[col] = i
        name_blank = name_i >= len(sub_cells) or clean(sub_cells[name_i]) in ("", "姓名")
        if combined and name_blank:
            for col, i in combined.items():
                index[col] = i
                labels[col] = clean(sub_cells[i])
            return Header(sub_number, index, labels), rows

        def rest(first=nxt, more=rows):
            yield first
            yield from more

        return Header(number, index, labels), rest()
    raise RosterError("找不到表头行：第一张工作表中没有“姓名”（或“学生姓名”）列")


# --- reading one row -------------------------------------------------------------------------


def _cell(cells: list[Any], i: int | None) -> Any:
    """The cell NFKC-normalised and trimmed; numbers, dates and booleans kept as they are
    (numbers so that an ID stored as a number can be told apart). '' for blank."""
    if i is None or i >= len(cells):
        return ""
    value = cells[i]
    if value is None:
        return ""
    if type(value) is str:
        # exactly clean(value), inlined for the hot path: after NFKC no U+3000 is left
        return value.strip() if value.isascii() else normalize("NFKC", value).strip()
    return value


def _numeric_text(value: Any, label: str) -> str:
    """学籍号 / 学号: a numeric cell is read as its digits unless Excel lost some (> 15)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = digits_of_number(value)
        if (isinstance(value, float) and not value.is_integer()) or len(text) > 15:
            raise ValueError(
                f"{label}被 Excel 转成了数字，后几位已丢失；请把该列设为文本后重新填写"
            )
        return text
    return re.sub(r"\s+", "", clean(digits_of_number(value))).upper()


GRADE_CLASS = re.compile(
    r"^(学前班|初[一二三]|高[一二三]|[一二三四五六七八九\d]+(?:年级|年)?)"
    r"[(\[]?([一二三四五六七八九十\d]+)[)\]]?班$"
)


@dataclass
class Row:
    """One data row after reading and validation (before the write)."""

    number: int
    errors: list[tuple[str, str]] = field(default_factory=list)
    cleaned: dict[str, Any] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)  # 'father' → number
    extras: list[tuple[str, str]] = field(default_factory=list)  # (column, extra numbers)
    notes: str = ""
    grade: int | None = None
    class_no: int | None = None
    id_number: str = ""
    id_hash: str = ""
    student_no: str = ""
    match_by: str = ""  # '身份证号' | '学籍号'
    raw: dict[str, Any] = field(default_factory=dict)  # card input for the card validator
    id_birth: dt.date | None = None
    id_gender: str = ""
    known_pk: int | None = None  # the stored card the row updates
    labels: dict[str, str] | None = None  # column → the sheet's own header (学籍 sheet)
    person_ids: dict[str, str] | None = None  # 'father' → the parent's ID number (学籍 sheet)


def _read_row(number: int, cells: list[Any], header: Header) -> Row | None:
    """Normalise one row; None for a blank row. Cross-checks needing the stored card wait."""
    idx = header.index
    values = {col: _cell(cells, i) for col, i in idx.items()}
    if all(v == "" for v in values.values()):
        return None
    row = Row(number)
    if header.kind == "xueji":
        row.labels = cells.labels  # type: ignore[attr-defined]
        row.errors.extend(cells.problems)  # type: ignore[attr-defined]
        if values.get("是否留守儿童"):
            row.cleaned["xueji_category"] = values["是否留守儿童"]
        for col, key in (("是否孤儿", "orphan"), ("是否独生子女", "only_child")):
            if values.get(col, "") != "":
                try:
                    row.cleaned[key] = parse_yes_no(values[col])
                except VocabError as exc:
                    row.errors.append((col, str(exc)))
        _person_ids(row, values)
    # 年级 and 班级 (also 三年级(2)班 in the 班级 column: its grade must agree with 年级)
    grade_raw, class_raw = values.get("年级", ""), values.get("班级", "")
    if isinstance(class_raw, str):
        m = GRADE_CLASS.match(class_raw.replace(" ", ""))
        if m and grade_raw == "":
            grade_raw, class_raw = m[1], m[2]
        elif m:
            try:
                inside, given = parse_grade(m[1]), parse_grade(grade_raw)
            except GradeError:
                inside = given = None
            if inside is not None and inside != given:
                row.errors.append(
                    ("班级", f"班级“{class_raw}”中的年级与年级列“{clean(grade_raw)}”不一致")
                )
            class_raw = m[2]
    for col, raw, parse in (
        ("年级", grade_raw, parse_grade),
        ("班级", class_raw, parse_class_no),
    ):
        try:
            number_ = parse(raw)
        except GradeError as exc:
            row.errors.append((col, f"{col}不能为空" if raw == "" else str(exc)))
            continue
        if col == "年级":
            row.grade = number_
        else:
            row.class_no = number_
    # keys: 身份证号, 学籍号
    raw_id = values.get("身份证号", "")
    if raw_id != "":
        try:
            info = parse_id_number(raw_id)
            row.id_number, row.id_birth, row.id_gender = info.number, info.birth_date, info.gender
            row.id_hash = crypto.lookup_hash(row.id_number)
        except IdNumberError as exc:
            row.errors.append(("身份证号", str(exc)))
    for col, attr in (("学籍号", "student_no"), ("学号", "school_no")):
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            text = _numeric_text(raw, col)
        except ValueError as exc:
            row.errors.append((col, str(exc)))
            continue
        if attr == "student_no":
            text = row.student_no = normalize_student_no(text)
        row.cleaned[attr] = text
    if raw_id == "" and not row.student_no and not any(c == "学籍号" for c, _ in row.errors):
        row.errors.append(("身份证号", "请填写身份证号；没有身份证号的儿童请填写学籍号"))
    # phones: the first number is the phone, the rest goes to 备注
    for col in PHONE_COLUMNS:
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            phone = parse_phone(raw)
        except PhoneError as exc:
            row.errors.append((col, str(exc)))
            continue
        row.phones[KEY_OF_COLUMN[col].split(".")[0]] = phone.number
        if phone.extra:
            row.extras.append((col, phone.extra))
    for col in YES_NO_COLUMNS:
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            key = KEY_OF_COLUMN[col]
            row.cleaned[key] = parse_yes_no(raw, boarding=key == "boarding")
        except VocabError as exc:
            row.errors.append((col, str(exc)))
    notes = values.get("备注", "")
    if notes != "":
        row.notes = clean(digits_of_number(notes))
        if len(row.notes) > 2000:
            row.errors.append(("备注", "不能超过 2000 个字"))
    # everything else through the card validator (same messages as the card form and API)
    raw_card: dict[str, Any] = {"name": values.get("姓名", "")}
    for col in CARD_COLUMNS:
        value = values.get(col, "")
        if value == "" or col == "姓名":
            continue
        if col == "性别" and value in ("男性", "女性"):
            value = value[0]
        elif col == "监护人年龄" and isinstance(value, str):
            value = value.removesuffix("岁").removesuffix("周岁")
        raw_card[KEY_OF_COLUMN[col]] = value
    if row.id_number:
        raw_card["id_number"] = row.id_number
    row.raw = raw_card
    return row


PERSON_ID_COLUMNS = (
    ("父亲身份证号", "father"),
    ("母亲身份证号", "mother"),
    ("监护人身份证号", "guardian"),
)


def _person_ids(row: Row, values: dict[str, Any]) -> None:
    """Parents' and guardian's ID numbers (学籍 sheet): validated like the child's, kept as
    their keyed hash and masked form for comparing, the number itself for the write."""
    for col, who in PERSON_ID_COLUMNS:
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            number = parse_id_number(raw).number
        except IdNumberError as exc:
            row.errors.append((col, str(exc)))
            continue
        row.cleaned[f"{who}.id_number_hash"] = crypto.lookup_hash(number)
        row.cleaned[f"{who}.id_number_masked"] = mask_id_number(number)
        row.person_ids = {**(row.person_ids or {}), who: number}


# --- matching and planning -------------------------------------------------------------------


@dataclass
class _Known:
    pk: int
    id_hash: str | None
    student_no_hash: str | None
    school_id: int
    enrolment: str


def _lookup(rows: list[Row]) -> tuple[dict[str, _Known], dict[str, _Known]]:
    """Known cards by ID-number hash, and by 学籍号 (keyed by the number as the sheet has it;
    looked up through its hash: neither is stored in clear)."""
    # Cards not yet re-encrypted by `guanai rotate-key` hold their hashes under an older key of
    # the ring: look them up by every key and name them by the current key's hash.
    alias = {h: r.id_hash for r in rows if r.id_hash for h in crypto.lookup_hashes(r.id_number)}
    hashes = list(alias)
    numbers = {
        h: r.student_no for r in rows if r.student_no for h in crypto.lookup_hashes(r.student_no)
    }
    fields = ("pk", "id_number_hash", "student_no_hash", "school_id", "enrolment")
    by_hash: dict[str, _Known] = {}
    by_no: dict[str, _Known] = {}
    if hashes:
        for values in Child.objects.filter(id_number_hash__in=hashes).values_list(*fields):
            values = (values[0], alias.get(values[1], values[1]), *values[2:])
            by_hash[values[1]] = _Known(*values)
    if numbers:
        known = Child.objects.filter(student_no_hash__in=list(numbers)).values_list(*fields)
        for values in known:
            values = (values[0], alias.get(values[1], values[1]), *values[2:])
            by_no[numbers[values[2]]] = _Known(*values)
    return by_hash, by_no


@lru_cache(maxsize=20_000)
def _char_options(char: str) -> tuple[list[str], list[str]]:
    """A character's initials and spellings as search_key lists them for a name."""
    return tuple(  # type: ignore[return-value]
        ordered_readings(pinyin(char, style=style, heteronym=True)[0])
        for style in (Style.FIRST_LETTER, Style.NORMAL)
    )


@lru_cache(maxsize=200_000)
def _pinyin(name: str) -> str:
    """guanai.lib.pinyin.search_key, from per-character readings when that is the same thing.

    pypinyin reads a word that is not in its phrase dictionary character by character, so
    for an all-Han name with no phrase inside it the readings are those of each character
    (cached); any other name goes through search_key itself. search_key is ~40 µs a name;
    this is the largest cost of a 100,000-row import otherwise (tested equal).
    """
    n = len(name)
    if (
        not name
        or not RE_HANS.match(name)
        or any(ord(c) not in PINYIN_DICT for c in name)
        or any(name[i:j] in PHRASES_DICT for i in range(n - 1) for j in range(i + 2, n + 1))
    ):
        return search_key(name)
    options = [_char_options(c) for c in name]
    return join_keys([o[0] for o in options], [o[1] for o in options])


def _school(school_id: int, cache: dict[int, School]) -> School:
    if school_id not in cache:
        cache[school_id] = School.objects.get(pk=school_id)
    return cache[school_id]


def _merge_notes(base: str, extras: list[tuple[str, str]]) -> str:
    """Append further phone numbers to 备注 once: a re-import never duplicates them. The
    result is NFKC-normalised like every cell, so an export re-imports unchanged."""
    notes = base
    for col, extra in extras:
        missing = [n for n in extra.split("/") if n and n not in notes]
        if missing:
            line = f"{col}另有 {'/'.join(missing)}"
            notes = clean(f"{notes}；{line}" if notes else line)
    return notes


def _classify(
    *,
    father: dict[str, Any],
    mother: dict[str, Any],
    child: dict[str, Any],
    on: dt.date,
    rules: tuple[int, int],
):
    """services._apply_classification for a new card, from the row's parents' values."""
    return classify(
        father=ParentFacts(father.get("status", ""), father.get("away_since")),
        mother=ParentFacts(mother.get("status", ""), mother.get("away_since")),
        is_migrant=bool(child.get("is_migrant")),
        hukou=child.get("hukou") or "",
        birth_date=child.get("birth_date"),
        on=on,
        away_months=rules[0],
        civil_age=rules[1],
    )


CHILD_OWN = (
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "school_no",
    "hukou",
    "is_migrant",
    "village",
    "group",
    "address",
    "boarding",
    "health",
    "disability",
    "xueji_category",
    "only_child",
)


def _orphan_tags(tags: list[str], orphan: bool) -> list[str]:
    """The card's tags after the 学籍 sheet's 是否孤儿: 是 adds 孤儿, 否 takes it away."""
    rest = [t for t in tags if t != "orphan"]
    return [*rest, "orphan"] if orphan else rest


def _split(row: Row) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    own: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"father": {}, "mother": {}, "guardian": {}}
    for key, value in row.cleaned.items():
        if "." in key:
            who, name = key.split(".", 1)
            nested[who][name] = value
        else:
            own[key] = value
    for who, number in row.phones.items():
        nested[who]["phone"] = number
    return own, nested


def _apply_update(
    child: Child,
    row: Row,
    *,
    school: School,
    school_class: SchoolClass | None,
    today: dt.date,
    names: dict[int, School],
) -> str | None:
    """Apply a row to a loaded card in memory; the history reason when anything changed."""
    own, nested = _split(row)
    changed = False
    reason = REASON_UPDATED
    for key in CHILD_OWN:
        if key in own and own[key] != getattr(child, key):
            setattr(child, key, own[key])
            changed = True
            if key == "name":
                child.name_pinyin = _pinyin(child.name)
    if "orphan" in own:
        tags = _orphan_tags(child.tags or [], own["orphan"])
        if tags != (child.tags or []):
            child.tags = tags
            changed = True
    if row.id_number and not child.id_number_hash:
        child.set_id_number(row.id_number)
        changed = True
    if row.student_no and child.student_no_hash not in crypto.lookup_hashes(row.student_no):
        child.set_student_no(row.student_no)
        changed = True
    notes = _merge_notes(row.notes or child.notes, row.extras)
    if notes != child.notes:
        child.notes = notes
        changed = True
    if child.school_id != school.pk:
        reason = f"导入接收：原 {_school(child.school_id, names).name}"
        child.school = school
        changed = True
    if child.enrolment != Enrolment.ENROLLED:
        child.enrolment = Enrolment.ENROLLED
        changed = True
    target = (row.grade, row.class_no)
    if school_class is not None and child.school_class_id != school_class.pk:
        child.school_class = school_class
        changed = True
    elif school_class is None and (
        child.school_class.school_id != school.pk
        or (child.school_class.grade, child.school_class.class_no) != target
    ):
        changed = True  # the class is created at write time
    parents = {p.relation: p for p in child.parents.all()}
    dirty: list[models.Model] = []
    for relation in ("father", "mother"):
        values = nested[relation]
        if not values:
            continue
        parent = parents.get(relation)
        if parent is None:
            parent = Parent(child=child, relation=relation, effective_from=today)
            parents[relation] = parent
        status_changed = "status" in values and values["status"] != parent.status
        if any(getattr(parent, k) != v for k, v in values.items()) or parent.pk is None:
            old_hash = parent.id_number_hash
            for k, v in values.items():
                setattr(parent, k, v)
            _encrypt_id(parent, row, relation, values, old_hash)
            if status_changed:
                parent.effective_from = today
            dirty.append(parent)
    if nested["guardian"]:
        guardian = getattr(child, "guardian", None)
        if guardian is None:
            guardian = Guardian(child=child)
        values = nested["guardian"]
        if any(getattr(guardian, k) != v for k, v in values.items()) or guardian.pk is None:
            old_hash = guardian.id_number_hash
            for k, v in values.items():
                setattr(guardian, k, v)
            _encrypt_id(guardian, row, "guardian", values, old_hash)
            dirty.append(guardian)
    if not (changed or dirty):
        return None
    facts = {r: ParentFacts(p.status, p.away_since) for r, p in parents.items()}
    result = classify(
        father=facts.get("father", ParentFacts("")),
        mother=facts.get("mother", ParentFacts("")),
        is_migrant=child.is_migrant,
        hukou=child.hukou,
        birth_date=child.birth_date,
        on=today,
        away_months=settings.GUANAI_AWAY_MONTHS,
        civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
    )
    child.category = result.category
    child.category_reason = result.reason
    child.civil_affairs = result.civil_affairs
    child.civil_affairs_reason = result.civil_reason
    child.classified_on = today
    child._dirty_related = dirty  # type: ignore[attr-defined]
    return reason


def _encrypt_id(person, row: Row, who: str, values: dict[str, Any], old_hash=None) -> None:
    """Encrypt a parent's or guardian's ID number when the row brings a new one (the
    ciphertext differs at each encryption, so it is compared through the hash)."""
    if "id_number_hash" not in values or row.person_ids is None:
        return
    if person.id_number_enc and old_hash == values["id_number_hash"]:
        return
    person.id_number_enc = crypto.encrypt(row.person_ids[who])


# --- bulk insert of new cards ----------------------------------------------------------------


class _Table:
    """Column list, per-column defaults and the index of each column for one model."""

    def __init__(
        self,
        model: type[models.Model],
        now: dt.datetime,
        overrides: dict[str, Any],
        *,
        first: Iterable[str] = (),
    ):
        self.model = model
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if f.column != "history_id"]
        leading = [c for c in first if any(f.column == c for f in fields)]
        fields.sort(key=lambda f: leading.index(f.column) if f.column in leading else len(leading))
        self.columns = [f.column for f in fields]
        self.index = {c: i for i, c in enumerate(self.columns)}
        template: list[Any] = []
        for f in fields:
            if f.column in overrides:
                value = overrides[f.column]
            elif isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                value = now
            elif f.primary_key or f.column == "id":
                value = None
            else:
                value = f.get_default()
            template.append(f.get_db_prep_save(value, connection) if value is not None else None)
        self.template = template
        # history tables: the leading columns are copied from the base row, the rest constant
        self.copy: Callable[[list[Any]], tuple] | None = None
        self.tail: tuple = ()
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        self.sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({cols}) VALUES ({marks})"

    def row(self, values: dict[str, Any]) -> list[Any]:
        out = self.template[:]
        index = self.index
        for key, value in values.items():
            out[index[key]] = value
        return out


def _history_table(model: type[models.Model], base: _Table, now, reason, user_id) -> _Table:
    hist = model.history.model  # type: ignore[attr-defined]
    overrides = {
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    table = _Table(hist, now, overrides, first=base.columns)
    shared = [c for c in table.columns if c in base.index]
    table.copy = itemgetter(*(base.index[c] for c in shared))
    table.tail = tuple(table.template[len(shared) :])
    return table


def _history_rows(hist: _Table, rows: Iterable[list[Any]]) -> list[tuple]:
    copy, tail = hist.copy, hist.tail
    assert copy is not None
    return [copy(base) + tail for base in rows]


def _reserve_ids(table: str, count: int) -> list[int]:
    """Primary keys for `count` rows about to be inserted, inside the write transaction."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [r[0] for r in cursor.fetchall()]
        if connection.vendor == "sqlite":
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
            top = cursor.fetchone()[0]
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                seq = cursor.fetchone()
                top = max(top, seq[0] if seq else 0)
            return list(range(top + 1, top + 1 + count))
    raise NotImplementedError(f"roster import does not support {connection.vendor}")


@dataclass
class _NewCard:
    child: list[Any]  # a children_child row, id not yet set
    parents: list[list[Any]]
    guardian: list[Any] | None


class _Writer:
    """Builds the rows of new cards during the preview and inserts them in the write."""

    def __init__(self, *, school: School, by, now: dt.datetime, today: dt.date):
        user_id = getattr(by, "pk", None)
        ops = connection.ops
        self.date = ops.adapt_datefield_value
        self.today = today
        self.rules = (settings.GUANAI_AWAY_MONTHS, settings.GUANAI_CIVIL_AFFAIRS_AGE)
        self.child = _Table(
            Child,
            now,
            {
                "school_id": school.pk,
                "classified_on": ops.adapt_datefield_value(today),
                "enrolment": Enrolment.ENROLLED,
                "version": 1,
            },
        )
        self.parent = _Table(Parent, now, {"effective_from": ops.adapt_datefield_value(today)})
        self.guardian = _Table(Guardian, now, {"effective_from": ops.adapt_datefield_value(today)})
        self.h_child = _history_table(Child, self.child, now, REASON_CREATED, user_id)
        self.h_parent = _history_table(Parent, self.parent, now, REASON_CREATED, user_id)
        self.h_guardian = _history_table(Guardian, self.guardian, now, REASON_CREATED, user_id)
        self.cards: list[_NewCard] = []
        self.class_col = self.child.index["school_class_id"]
        self.pending_class: list[tuple[_NewCard, tuple[int, int]]] = []

    def add(self, row: Row, class_key: tuple[int, int]) -> None:
        own, nested = _split(row)
        values: dict[str, Any] = {k: own[k] for k in CHILD_OWN if k in own}
        if own.get("orphan"):  # a raw insert: the JSON column takes its database form
            tags = Child._meta.get_field("tags")
            values["tags"] = tags.get_db_prep_save(_orphan_tags([], True), connection)
        values["notes"] = _merge_notes(row.notes, row.extras)
        if "birth_date" in values:
            values["birth_date"] = self.date(values["birth_date"])
        number = row.id_number
        if number:
            values["id_number_enc"] = crypto.encrypt(number)
            values["id_number_hash"] = row.id_hash
            values["id_number_masked"] = mask_id_number(number)
            values["id_last4"] = number[-4:]
        if row.student_no:
            values["student_no_enc"] = crypto.encrypt(row.student_no)
            values["student_no_hash"] = crypto.lookup_hash(row.student_no)
            values["student_no_masked"] = mask_id_number(row.student_no)
        values["name_pinyin"] = _pinyin(own.get("name", ""))
        result = _classify(
            father=nested["father"],
            mother=nested["mother"],
            child=own,
            on=self.today,
            rules=self.rules,
        )
        values["category"] = result.category
        values["category_reason"] = result.reason
        values["civil_affairs"] = result.civil_affairs
        values["civil_affairs_reason"] = result.civil_reason
        parents = []
        for relation in ("father", "mother"):
            if nested[relation]:
                facts = {"relation": relation, **nested[relation]}
                if row.person_ids and relation in row.person_ids:
                    facts["id_number_enc"] = crypto.encrypt(row.person_ids[relation])
                if facts.get("away_since"):
                    facts["away_since"] = self.date(facts["away_since"])
                parents.append(self.parent.row(facts))
        if nested["guardian"] and row.person_ids and "guardian" in row.person_ids:
            nested["guardian"]["id_number_enc"] = crypto.encrypt(row.person_ids["guardian"])
        guardian = self.guardian.row(nested["guardian"]) if nested["guardian"] else None
        card = _NewCard(self.child.row(values), parents, guardian)
        self.cards.append(card)
        self.pending_class.append((card, class_key))

    def write(self, classes: dict[tuple[int, int], SchoolClass]) -> None:
        for card, key in self.pending_class:
            card.child[self.class_col] = classes[key].pk
        cards = self.cards
        child_ids = _reserve_ids(self.child.table, len(cards))
        parent_ids = _reserve_ids(self.parent.table, sum(len(c.parents) for c in cards))
        guardian_ids = _reserve_ids(self.guardian.table, sum(c.guardian is not None for c in cards))
        pi = gi = 0
        cid_col = self.child.index["id"]
        pid_col, pchild_col = self.parent.index["id"], self.parent.index["child_id"]
        gid_col, gchild_col = self.guardian.index["id"], self.guardian.index["child_id"]
        with connection.cursor() as cursor:
            for start in range(0, len(cards), WRITE_BATCH):
                batch = cards[start : start + WRITE_BATCH]
                children, parents, guardians = [], [], []
                for offset, card in enumerate(batch):
                    cid = child_ids[start + offset]
                    card.child[cid_col] = cid
                    children.append(card.child)
                    for p in card.parents:
                        p[pid_col], p[pchild_col] = parent_ids[pi], cid
                        pi += 1
                        parents.append(p)
                    if card.guardian is not None:
                        g = card.guardian
                        g[gid_col], g[gchild_col] = guardian_ids[gi], cid
                        gi += 1
                        guardians.append(g)
                for table, hist, rows in (
                    (self.child, self.h_child, children),
                    (self.parent, self.h_parent, parents),
                    (self.guardian, self.h_guardian, guardians),
                ):
                    if rows:
                        cursor.executemany(table.sql, rows)
                        cursor.executemany(hist.sql, _history_rows(hist, rows))
                for card in batch:  # free memory as we go
                    card.child = card.parents = card.guardian = None  # type: ignore[assignment]


# --- the import ------------------------------------------------------------------------------


def _chunks(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list]:
    chunk: list = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_roster(
    *,
    path: str | Path,
    school: School,
    term: str | None = None,
    by=None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    name: str | None = None,
) -> ImportResult:
    """Import a roster sheet into a school (SPEC §6.1, §6.2).

    Reads and validates everything first (reading only), then writes the valid rows in one
    transaction: new cards with executemany, changed cards through the ORM with history
    "由导入更新"; unchanged rows are not touched. With `dry_run` nothing is written. Raises
    RosterError (exit status 2) when the file cannot be read, is beyond the limits of
    lib.xlsx or has no header row, and DateError for a malformed `term`. `name` is the file's
    name as uploaded, for the messages (an upload is stored under another name).
    """
    term = parse_term(term) if term else current_term(timezone.localdate())
    with _gc_paused():
        return _import(
            path=path,
            school=school,
            term=term,
            by=by,
            dry_run=dry_run,
            progress=progress,
            name=name,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a big import holds millions of long-lived cell
    and row objects that it would otherwise walk again and again (~15 % of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    *,
    path: str | Path,
    school: School,
    term: str,
    by,
    dry_run: bool,
    progress: Callable[[int], None] | None,
    name: str | None,
) -> ImportResult:
    result = ImportResult(term=term, dry_run=dry_run)
    header, rows = find_header(read_sheet(path, name=name))
    result.header_row = header.row
    now = timezone.now()
    today = timezone.localdate()
    writer = _Writer(school=school, by=by, now=now, today=today)
    classes = {(c.grade, c.class_no): c for c in SchoolClass.objects.filter(school=school)}
    names: dict[int, School] = {school.pk: school}
    seen_hash: dict[str, int] = {}
    seen_no: dict[str, int] = {}
    seen_pk: dict[int, int] = {}
    updates: dict[int, Row] = {}
    needed_classes: set[tuple[int, int]] = set()

    for chunk in _chunks(rows, CHUNK):
        parsed = [r for r in (_read_row(n, cells, header) for n, cells in chunk) if r]
        by_hash, by_no = _lookup(parsed)
        for row in parsed:
            _match(row, by_hash, by_no, seen_hash, seen_no, seen_pk, school, names)
        matched = [r.known_pk for r in parsed if r.known_pk is not None and not r.errors]
        loaded = (
            {
                c.pk: c
                for c in Child.objects.filter(pk__in=matched)
                .select_related("school_class", "guardian")
                .prefetch_related("parents")
            }
            if matched
            else {}
        )
        for row in parsed:
            result.rows += 1
            child = loaded.get(row.known_pk) if row.known_pk and not row.errors else None
            _validate_card(row, child)
            if row.errors:
                result.rejected += 1
                labels = row.labels or {}
                for column, message in row.errors:
                    result.errors.append(RowError(row.number, labels.get(column, column), message))
                continue
            key = (row.grade, row.class_no)
            if key not in classes:
                needed_classes.add(key)
            if child is None:
                if not dry_run:
                    writer.add(row, key)
                result.created += 1
            elif _apply_update(
                child, row, school=school, school_class=classes.get(key), today=today, names=names
            ):
                updates[child.pk] = row
                result.updated += 1
            else:
                result.unchanged += 1
        if progress:
            progress(result.rows)

    if dry_run or not (writer.cards or updates):
        return result
    try:
        with transaction.atomic():
            for grade, class_no in sorted(needed_classes):
                classes[(grade, class_no)] = SchoolClass.objects.get_or_create(
                    school=school, grade=grade, class_no=class_no
                )[0]
            writer.write(classes)
            result.updated = _write_updates(
                updates, school=school, classes=classes, by=by, today=today, names=names
            )
            result.unchanged += len(updates) - result.updated
    except OperationalError as exc:  # disk full, database gone …: nothing was written
        raise RosterError(f"{database_error_message(exc)}（本次导入没有写入任何数据）") from exc
    except DatabaseError as exc:  # IntegrityError included: nothing was written
        raise RosterError(
            f"写入时出错，本次导入没有写入任何数据（可能有人同时修改了这些档卡），请重新导入：{exc}"
        ) from exc
    return result


def _match(
    row: Row,
    by_hash: dict[str, _Known],
    by_no: dict[str, _Known],
    seen_hash: dict[str, int],
    seen_no: dict[str, int],
    seen_pk: dict[int, int],
    school: School,
    names: dict[int, School],
) -> None:
    """Duplicates in the sheet, and the card (if any) that the row's keys point at."""
    if row.id_hash:
        earlier = seen_hash.get(row.id_hash)
        if earlier:
            row.errors.append(
                ("身份证号", f"与第 {earlier} 行是同一个儿童（身份证号相同）；请删除重复的行")
            )
            return
        seen_hash[row.id_hash] = row.number
    if row.student_no:
        earlier = seen_no.get(row.student_no)
        if earlier:
            row.errors.append(
                ("学籍号", f"与第 {earlier} 行是同一个儿童（学籍号相同）；请删除重复的行")
            )
            return
        seen_no[row.student_no] = row.number
    a = by_hash.get(row.id_hash) if row.id_hash else None
    b = by_no.get(row.student_no) if row.student_no else None
    if a and b and a.pk != b.pk:
        row.errors.append(("学籍号", "身份证号和学籍号分别属于两个不同儿童的档卡；请核对这两列"))
        return
    known = a or b
    if known is None:
        return
    row.match_by = "身份证号" if a else "学籍号"
    if b and not a and row.id_hash and known.id_hash and known.id_hash != row.id_hash:
        row.errors.append(
            ("身份证号", "该学籍号的档卡登记的是另一个身份证号；如需更正身份证号，请在档卡中修改")
        )
        return
    earlier = seen_pk.get(known.pk)
    if earlier:
        row.errors.append((row.match_by, f"与第 {earlier} 行是同一个儿童；请删除重复的行"))
        return
    seen_pk[known.pk] = row.number
    row.known_pk = known.pk
    if known.school_id != school.pk and known.enrolment == Enrolment.ENROLLED:
        other = _school(known.school_id, names)
        what = "该身份证号" if a else "该学籍号"
        message = (
            f"{what}已在{other.name}（{other.code}）建卡；如是转学，请联系{other.name}办理转学"
        )
        row.errors.append((row.match_by, message))


def _fast_text(limit: int, slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        # a cleaned cell is what validation's text parser returns, unless it needs its work
        if type(value) is str and len(value) <= limit and not value.endswith(".0"):
            return value
        return slow(value)

    return parse


def _fast_status(value: Any) -> str:
    # validation._status without rebuilding ParentStatus.values (≈ 3 µs) for every cell
    return value if value in STATUS_CODES else parse_parent_status(value)


STATUS_CODES = frozenset(ParentStatus.values)
FAST_PARSERS: dict[str, Callable[[Any], Any]] = dict(PARSERS)
for _key, (_label, _limit) in CHILD_TEXT.items():
    FAST_PARSERS[_key] = _fast_text(_limit, PARSERS[_key])
for _who in ("father", "mother"):
    for _key, (_label, _limit) in PARENT_TEXT.items():
        FAST_PARSERS[f"{_who}.{_key}"] = _fast_text(_limit, PARSERS[f"{_who}.{_key}"])
    FAST_PARSERS[f"{_who}.status"] = _fast_status
for _key in ("name", "health"):
    _limit = GUARDIAN_TEXT[_key][1]
    FAST_PARSERS[f"guardian.{_key}"] = _fast_text(_limit, PARSERS[f"guardian.{_key}"])


def _fast_card(row: Row) -> dict[str, Any] | None:
    """The row's card values through the card validator's own parsers, or None when anything
    is off (then clean_card itself says what, in its words)."""
    out: dict[str, Any] = {}
    try:
        for key, value in row.raw.items():
            if key != "id_number":
                out[key] = FAST_PARSERS[key](value)
    except ERRORS:
        return None
    if not out.get("name"):
        return None
    if row.id_number:
        birth, gender = out.get("birth_date"), out.get("gender")
        if (birth and birth != row.id_birth) or (gender and gender != row.id_gender):
            return None
        if not birth:
            out["birth_date"] = row.id_birth
        if not gender:
            out["gender"] = row.id_gender
    return out


def _validate_card(row: Row, child: Child | None) -> None:
    """Validate the row's card values like every card form and API body (clean_card); for a
    known card, cross-check birth date and gender with its stored ID number when the row
    has none."""
    raw = row.raw
    if child is None or row.id_number or not ("birth_date" in raw or "gender" in raw):
        fast = _fast_card(row)
        if fast is not None:
            row.cleaned.update(fast)
            return
    current: dict[str, Any] = {}
    if child is not None and not row.id_number and ("birth_date" in raw or "gender" in raw):
        current = {
            "birth_date": child.birth_date,
            "gender": child.gender,
            "id_number": child.id_number,
        }
    try:
        cleaned = clean_card(raw, current=current)
    except CardInvalid as exc:
        for key, message in exc.errors.items():
            row.errors.append((COLUMN_OF_KEY.get(key, key), message))
        return
    cleaned.pop("id_number", None)
    row.cleaned.update(cleaned)


def _write_updates(
    updates: dict[int, Row],
    *,
    school: School,
    classes: dict[tuple[int, int], SchoolClass],
    by,
    today: dt.date,
    names: dict[int, School],
) -> int:
    """Re-apply the planned updates to freshly locked cards and save them with history."""
    saved = 0
    pks = list(updates)
    for start in range(0, len(pks), CHUNK):
        fresh = (
            Child.objects.select_for_update(of=("self",))
            .filter(pk__in=pks[start : start + CHUNK])
            .select_related("school_class", "guardian")
            .prefetch_related("parents")
        )
        for child in fresh:
            row = updates[child.pk]
            key = (row.grade, row.class_no)
            reason = _apply_update(
                child, row, school=school, school_class=classes[key], today=today, names=names
            )
            if reason is None:
                continue
            child.version += 1
            child._history_user = by
            child._change_reason = reason
            child.save()
            for obj in child._dirty_related:  # type: ignore[attr-defined]
                obj.child = child
                obj._history_user = by
                obj._change_reason = reason
                obj.save()
            saved += 1
    return saved


# --- export and template ---------------------------------------------------------------------


def _formats(book) -> dict[str, Any]:
    return {
        "text": book.add_format({"num_format": "@"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "@"}
        ),
        "title": book.add_format({"bold": True, "font_size": 13}),
    }


def _layout(sheet, formats: dict[str, Any], header_row: int, last_row: int) -> None:
    """Column widths, text format for ID and phone columns, drop-downs for closed columns."""
    for i, col in enumerate(COLUMNS):
        width = 20 if col in TEXT_COLUMNS or col == "详细住址" else max(8, len(col) * 2 + 2)
        sheet.set_column(i, i, width, formats["text"] if col in TEXT_COLUMNS else None)
        choices = CLOSED_LISTS.get(col) or OPEN_LISTS.get(col)
        if choices:
            sheet.data_validation(
                header_row + 1,
                i,
                max(last_row, header_row + 1),
                i,
                {
                    "validate": "list",
                    "source": choices,
                    "show_error": col in CLOSED_LISTS,
                    "error_title": col,
                    "error_message": "请从下拉列表中选择：" + "、".join(choices),
                },
            )
    sheet.freeze_panes(header_row + 1, 1)


def write_template(path: str | Path) -> Path:
    """Write the empty roster template of SPEC §6.2: the header row, text-formatted ID and phone
    columns and drop-down lists for the closed columns."""
    import xlsxwriter

    path = Path(path)
    book = xlsxwriter.Workbook(str(path))
    formats = _formats(book)
    sheet = book.add_worksheet("花名册")
    for i, col in enumerate(COLUMNS):
        sheet.write_string(0, i, col, formats["header"])
    _layout(sheet, formats, 0, 5000)
    notes = book.add_worksheet("填写说明")
    for i, line in enumerate(
        [
            "必填：姓名、年级、班级、身份证号（没有身份证号的儿童填写学籍号）。",
            "身份证号、电话请按文本填写，不要让 Excel 转成数字（会丢失后几位）。",
            "年级写 3、三年级 或 初一；班级写 2 或 2班。",
            "父亲状况、母亲状况：在家、外出务工、已故、失踪、无监护能力。",
            (
                "父亲外出时间、母亲外出时间：外出务工从哪天起，写 2025-03-01 或 2025年3月1日"
                f"（可不填）；外出满 {settings.GUANAI_AWAY_MONTHS} 个月才算留守，"
                "不能填今天以后的日期。"
            ),
            "空白单元格不会清除系统中已有的信息；同一儿童再次导入只更新有变化的内容。",
        ]
    ):
        notes.write_string(i, 0, line)
    notes.set_column(0, 0, 90)
    book.close()
    return path


def _export_row(child: Child) -> list[Any]:
    parents = {p.relation: p for p in child.parents.all()}
    guardian = getattr(child, "guardian", None)
    out: dict[str, Any] = {
        "姓名": child.name,
        "性别": Gender(child.gender).label if child.gender else "",
        "身份证号": child.id_number if child.id_number_enc else "",
        "学籍号": child.student_no,
        "出生日期": child.birth_date.isoformat() if child.birth_date else "",
        "民族": child.ethnicity,
        "年级": child.school_class.grade,
        "班级": child.school_class.class_no,
        "学号": child.school_no,
        "户口性质": Hukou(child.hukou).label if child.hukou else "",
        "是否随迁子女": "是" if child.is_migrant else "否",
        "村": child.village,
        "组": child.group,
        "详细住址": child.address,
        "是否寄宿": {True: "是", False: "否", None: ""}[child.boarding],
        "健康状况": child.health,
        "备注": child.notes,
    }
    for relation, label in (("father", "父亲"), ("mother", "母亲")):
        p = parents.get(relation)
        out[f"{label}姓名"] = p.name if p else ""
        out[f"{label}状况"] = STATUS_LABELS.get(p.status, "") if p else ""
        out[f"{label}外出时间"] = p.away_since.isoformat() if p and p.away_since else ""
        out[f"{label}务工地"] = p.work_place if p else ""
        out[f"{label}电话"] = p.phone if p else ""
    out["监护人姓名"] = guardian.name if guardian else ""
    out["监护人关系"] = guardian.relation if guardian else ""
    out["监护人电话"] = guardian.phone if guardian else ""
    out["监护人年龄"] = guardian.age if guardian and guardian.age is not None else ""
    return [out[c] for c in COLUMNS]


def export_roster(*, school: School, path: str | Path, by=None, by_label: str | None = None) -> int:
    """Write the school's enrolled children in the template's columns under a title row naming
    the school, the exporter and the time (full ID numbers as text cells, so the file
    re-imports unchanged). Writes the access log. Returns the number of children written."""
    import xlsxwriter

    from guanai.accounts.services import log_access

    path = Path(path)
    label = by_label or (
        f"{by.display_name or by.username}（{by.username}）" if by is not None else "命令行"
    )
    at = timezone.localtime()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats = _formats(book)
    sheet = book.add_worksheet("花名册")
    sheet.write_string(
        0,
        0,
        f"{school.name}（{school.code}）学生花名册    导出人：{label}    "
        f"导出时间：{at:%Y-%m-%d %H:%M}",
        formats["title"],
    )
    for i, col in enumerate(COLUMNS):
        sheet.write_string(1, i, col, formats["header"])
    children = (
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED)
        .select_related("school_class", "guardian")
        .prefetch_related("parents")
        .order_by("school_class__grade", "school_class__class_no", "id")
    )
    count = 0
    for child in children.iterator(chunk_size=1000):
        count += 1
        for i, value in enumerate(_export_row(child)):
            if isinstance(value, int):
                sheet.write_number(count + 1, i, value)
            elif value != "":
                sheet.write_string(count + 1, i, value, formats["text"])
    _layout(sheet, formats, 1, count + 1 + 500)
    book.close()
    log_access(
        request=None,
        user=by,
        action="export",
        school=school,
        detail=f"导出花名册 {count} 人（含完整身份证号）：{path.name}",
    )
    return count


__all__ = [
    "COLUMNS",
    "TEXT_COLUMNS",
    "Header",
    "ImportResult",
    "RosterError",
    "RowError",
    "export_roster",
    "find_header",
    "import_roster",
    "read_sheet",
    "write_template",
]
