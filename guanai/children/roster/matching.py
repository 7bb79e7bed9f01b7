"""Matching rows to known cards (by ID number, 学籍号, name and birth) and planning what an
import changes on each."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from pypinyin import Style, pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS

from guanai.lib import crypto
from guanai.lib.pinyin import MAX_LENGTH, join_keys, ordered_readings, search_key
from guanai.lib.text import clean
from guanai.org.models import School, SchoolClass

from ..classification import ParentFacts, classify
from ..models import Child, Enrolment, Guardian, Parent
from .columns import REASON_UPDATED
from .reading import Row

# --- matching and planning -------------------------------------------------------------------


@dataclass
class _Known:
    pk: int
    id_hash: str | None
    student_no_hash: str | None
    school_id: int
    enrolment: str


def _lookup(
    rows: list[Row], older: Callable[[str], list[str]] | None
) -> tuple[dict[str, _Known], dict[str, _Known]]:
    """Known cards by ID-number hash, and by 学籍号 (keyed by the number as the sheet has it;
    looked up through its hash: neither is stored in clear). `older` gives a value's hashes
    under the key ring's older keys (reading.RowReader.hash.older), None when it has none."""
    # Cards not yet re-encrypted by `guanai rotate-key` hold their hashes under an older key of
    # the ring: look them up by every key and name them by the current key's hash.
    alias = {r.id_hash: r.id_hash for r in rows if r.id_hash}
    numbers = {r.student_hash: r.student_no for r in rows if r.student_no}
    for r in rows if older else ():
        if r.id_hash:
            alias.update(dict.fromkeys(older(r.id_number), r.id_hash))
        if r.student_no:
            numbers.update(dict.fromkeys(older(r.student_no), r.student_no))
    hashes = list(alias)
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
def _char_options(char: str) -> tuple[list[str], list[str]] | None:
    """A character's initials and spellings as search_key lists them for a name; None for a
    character pypinyin has no reading of (then the name goes through search_key)."""
    if ord(char) not in PINYIN_DICT:
        return None
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
    if not name or not RE_HANS.match(name):
        return search_key(name)
    options = []
    single = True  # every character has one initial and one spelling (most names)
    for char in name:
        found = _char_options(char)
        if found is None:
            return search_key(name)
        options.append(found)
        if single and (len(found[0]) != 1 or len(found[1]) != 1):
            single = False
    n = len(name)
    for i in range(n - 1):
        for j in range(i + 2, n + 1):
            if name[i:j] in PHRASES_DICT:
                return search_key(name)
    if not single:
        return join_keys([o[0] for o in options], [o[1] for o in options])
    # join_keys of one combination each: the initials' key, then the spellings' if different
    keys: list[str] = []
    length = -1
    for key in (
        "".join([o[0][0] for o in options]).replace(" ", ""),
        "".join([o[1][0] for o in options]).replace(" ", ""),
    ):
        if key in keys or length + 1 + len(key) > MAX_LENGTH:
            continue
        keys.append(key)
        length += 1 + len(key)
    return " ".join(keys)


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
        who, dot, name = key.partition(".")
        if dot:
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
