"""Reading a sheet: its rows, the header row (one or two rows, aliases, the 学籍 system's
own header), and each row into card input."""

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unicodedata import normalize

from guanai.lib import crypto, xlsx
from guanai.lib.grades import GradeError, parse_class_no, parse_grade
from guanai.lib.idcard import IdNumberError, normalize_student_no, parse_id_number
from guanai.lib.masking import mask_id_number
from guanai.lib.phone import Phone, PhoneError, parse_phone
from guanai.lib.text import clean, digits_of_number
from guanai.lib.vocab import VocabError, parse_yes_no

from .columns import (
    CARD_COLUMNS,
    COLUMN_OF_HEADER,
    GROUPS,
    KEY_OF_COLUMN,
    PHONE_COLUMNS,
    SUB_ALIASES,
    XLS_MAGIC,
    XLSX_MAGIC,
    YES_NO_COLUMNS,
    RosterError,
)

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
        from .. import xueji

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
    student_hash: str = ""  # the 学籍号's lookup hash (current key)
    match_by: str = ""  # '身份证号' | '学籍号'
    raw: dict[str, Any] = field(default_factory=dict)  # card input for the card validator
    id_birth: dt.date | None = None
    id_gender: str = ""
    known_pk: int | None = None  # the stored card the row updates
    labels: dict[str, str] | None = None  # column → the sheet's own header (学籍 sheet)
    person_ids: dict[str, str] | None = None  # 'father' → the parent's ID number (学籍 sheet)


class _Hasher:
    """crypto.lookup_hash and lookup_hashes with the key ring read once for the whole import:
    the same HMAC-SHA256 hex digests (RFC 2104), the keyed inner and outer SHA-256 states
    computed once and copied for each value (about a third of hmac.new's cost)."""

    def __init__(self) -> None:
        states = [_hmac_states(k.mac) for k in crypto.ring()]
        self.inner, self.outer = states[0]  # the current key: ring() lists it first
        self.old = states[1:]

    def __call__(self, value: str) -> str:
        inner = self.inner.copy()
        inner.update(value.encode())
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def older(self, value: str) -> list[str]:
        """The value's hashes under the ring's older keys (cards not yet rotated)."""
        out = []
        for inner_state, outer_state in self.old:
            inner = inner_state.copy()
            inner.update(value.encode())
            outer = outer_state.copy()
            outer.update(inner.digest())
            out.append(outer.hexdigest())
        return out


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """SHA-256 after the HMAC key's inner and outer pads, as hmac.new(key) starts."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def _memo(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A pure cell parser remembered per distinct cell for one import (grades, classes, yes/no
    and dates repeat across a sheet). Only results are kept: a cell it refuses is parsed again,
    so each row's error is raised afresh, with the same words."""
    done: dict[tuple[type, Any], Any] = {}

    def parse_once(value: Any) -> Any:
        key = (value.__class__, value)
        try:
            return done[key]
        except KeyError:
            out = done[key] = parse(value)
            return out

    return parse_once


def _phone(value: Any) -> Phone:
    """parse_phone, with a shortcut for the usual cell: one mobile number, nothing else (the
    cell is already NFKC-normalised and trimmed, so parse_phone would return it unchanged)."""
    if (
        value.__class__ is str
        and len(value) == 11
        and value.isascii()
        and value.isdigit()
        and value[0] == "1"
        and value[1] in "3456789"
    ):
        return Phone(value, "")
    return parse_phone(value)


def _plain_text(value: Any) -> str | None:
    """A 学籍号 / 学号 cell of plain ASCII letters and digits, as _numeric_text and
    normalize_student_no would leave it (upper case); None when it needs their work."""
    if value.__class__ is str and value.isascii() and value.isalnum():
        return value.upper()
    return None


class RowReader:
    """Reads the rows of one sheet (`header`) into Rows, for one import: the normalisers of
    the columns whose values repeat are remembered per distinct cell, the key ring is read
    once and the date that ID numbers' birth dates are checked against is taken once."""

    def __init__(self, header: Header, *, hasher: _Hasher | None = None) -> None:
        self.header = header
        self.columns = list(header.index.items())
        self.hash = hasher or _Hasher()
        self.today = dt.date.today()  # parse_id_number's own default, taken once
        self.grade = _memo(parse_grade)
        self.class_no = _memo(parse_class_no)
        self.yes_no = {
            False: _memo(parse_yes_no),
            True: _memo(lambda v: parse_yes_no(v, boarding=True)),
        }

    def __call__(self, number: int, cells: list[Any]) -> Row | None:
        return _read_row(number, cells, self)


def _read_row(number: int, cells: list[Any], reader: RowReader) -> Row | None:
    """Normalise one row; None for a blank row. Cross-checks needing the stored card wait."""
    header = reader.header
    # _cell for each column, inlined: 30 calls a row add up over 100,000 rows
    values: dict[str, Any] = {}
    blank = True
    size = len(cells)
    for col, i in reader.columns:
        value = cells[i] if i < size else None
        if value is None:
            value = ""
        elif value.__class__ is str:
            value = value.strip() if value.isascii() else normalize("NFKC", value).strip()
        if blank and value != "":
            blank = False
        values[col] = value
    if blank:
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
        _person_ids(row, values, reader)
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
        ("年级", grade_raw, reader.grade),
        ("班级", class_raw, reader.class_no),
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
            info = parse_id_number(raw_id, today=reader.today)
            row.id_number, row.id_birth, row.id_gender = info.number, info.birth_date, info.gender
            row.id_hash = reader.hash(row.id_number)
        except IdNumberError as exc:
            row.errors.append(("身份证号", str(exc)))
    for col, attr in (("学籍号", "student_no"), ("学号", "school_no")):
        raw = values.get(col, "")
        if raw == "":
            continue
        text = _plain_text(raw)
        if text is None:
            try:
                text = _numeric_text(raw, col)
            except ValueError as exc:
                row.errors.append((col, str(exc)))
                continue
            if attr == "student_no":
                text = normalize_student_no(text)
        if attr == "student_no":
            row.student_no = text
            row.student_hash = reader.hash(text)
        row.cleaned[attr] = text
    if raw_id == "" and not row.student_no and not any(c == "学籍号" for c, _ in row.errors):
        row.errors.append(("身份证号", "请填写身份证号；没有身份证号的儿童请填写学籍号"))
    # phones: the first number is the phone, the rest goes to 备注
    for col in PHONE_COLUMNS:
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            phone = _phone(raw)
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
            row.cleaned[key] = reader.yes_no[key == "boarding"](raw)
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


def _person_ids(row: Row, values: dict[str, Any], reader: RowReader) -> None:
    """Parents' and guardian's ID numbers (学籍 sheet): validated like the child's, kept as
    their keyed hash and masked form for comparing, the number itself for the write."""
    for col, who in PERSON_ID_COLUMNS:
        raw = values.get(col, "")
        if raw == "":
            continue
        try:
            number = parse_id_number(raw, today=reader.today).number
        except IdNumberError as exc:
            row.errors.append((col, str(exc)))
            continue
        row.cleaned[f"{who}.id_number_hash"] = reader.hash(number)
        row.cleaned[f"{who}.id_number_masked"] = mask_id_number(number)
        row.person_ids = {**(row.person_ids or {}), who: number}
