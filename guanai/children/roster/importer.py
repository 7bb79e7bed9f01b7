"""The import: read everything first, then write in one short transaction."""

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from guanai.lib.dates import current_term, parse_term
from guanai.lib.db_errors import database_error_message
from guanai.lib.vocab import parse_parent_status
from guanai.org.models import School, SchoolClass

from ..models import Child, Enrolment, ParentStatus
from ..validation import (
    CHILD_TEXT,
    ERRORS,
    GUARDIAN_TEXT,
    PARENT_TEXT,
    PARSERS,
    CardInvalid,
    clean_card,
)
from .columns import CHUNK, COLUMN_OF_KEY, ImportResult, RosterError, RowError
from .matching import _apply_update, _Known, _lookup, _school
from .reading import Row, RowReader, _memo, find_header, read_sheet
from .writer import _Writer

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


# SQLite's page cache for the import's connection while it writes, in KiB (PRAGMA cache_size
# takes a negative number as KiB).
WRITE_CACHE_KIB = 128 * 1024


@contextmanager
def _write_cache() -> Iterator[None]:
    """A bigger SQLite page cache while the import writes, the connection's own size restored
    after. The unique hash indexes and the name index take their keys in random order: with
    the default 2 MB cache their pages are evicted and read back again and again (100,000
    rows: the write's CPU time 17.7 s → 13.8 s). Memory only: journal mode,
    synchronous and everything that makes a commit durable stay as configured."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


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
    reader = RowReader(header)
    parsers = _fast_parsers()
    seen_hash: dict[str, int] = {}
    seen_no: dict[str, int] = {}
    seen_pk: dict[int, int] = {}
    updates: dict[int, Row] = {}
    needed_classes: set[tuple[int, int]] = set()

    for chunk in _chunks(rows, CHUNK):
        parsed = [r for r in (reader(n, cells) for n, cells in chunk) if r]
        by_hash, by_no = _lookup(parsed, reader.hash.older if reader.hash.old else None)
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
            _validate_card(row, child, parsers)
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
        with _write_cache(), transaction.atomic():
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
# Parsers of columns whose values repeat across a sheet (dates, 户口, 关系, ages …): remembered
# per distinct cell for one import. Free text (names, addresses, phones) is not: it rarely
# repeats, and its fast path above is already cheap.
TEXT_KEYS = (
    frozenset(CHILD_TEXT)
    | {f"{w}.{k}" for w in ("father", "mother") for k in PARENT_TEXT}
    | {"guardian.name", "guardian.health", "guardian.phone", "father.phone", "mother.phone", "tags"}
)


def _fast_parsers() -> dict[str, Callable[[Any], Any]]:
    """FAST_PARSERS for one import, the repeating columns' parsers remembered (dates are
    checked against today, so the memory lives no longer than the import)."""
    return {k: p if k in TEXT_KEYS else _memo(p) for k, p in FAST_PARSERS.items()}


def _fast_card(row: Row, parsers: dict[str, Callable[[Any], Any]]) -> dict[str, Any] | None:
    """The row's card values through the card validator's own parsers, or None when anything
    is off (then clean_card itself says what, in its words)."""
    out: dict[str, Any] = {}
    try:
        for key, value in row.raw.items():
            if key != "id_number":
                out[key] = parsers[key](value)
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


def _validate_card(row: Row, child: Child | None, parsers: dict[str, Callable[[Any], Any]]) -> None:
    """Validate the row's card values like every card form and API body (clean_card); for a
    known card, cross-check birth date and gender with its stored ID number when the row
    has none."""
    raw = row.raw
    if child is None or row.id_number or not ("birth_date" in raw or "gender" in raw):
        fast = _fast_card(row, parsers)
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
