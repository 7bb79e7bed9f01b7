"""Card workflows shared by pages, API, commands and tasks."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from guanai.lib import crypto
from guanai.lib.idcard import normalize_student_no
from guanai.lib.pinyin import search_key
from guanai.org.models import School, SchoolClass

from .classification import ParentFacts, change_dates, classify
from .models import Child, Guardian, Parent
from .signals import child_leaves_pairs
from .validation import FIELD_LABELS, CardInvalid, clean_card


class StaleVersion(Exception):
    """The card changed since it was loaded: the second save must reload."""


HISTORY_HIDDEN = {
    "id",
    "history_id",
    "history_date",
    "history_type",
    "history_user",
    "history_change_reason",
    "child",
    "relation",
    "id_number_enc",
    "student_no_enc",
    "version",
    "created_at",
}


# History keeps only the masked forms of the ID number and the 学籍号 (their ciphertexts are
# hidden): a change shows as the field itself.
MASKED_AS = {"id_number_masked": "id_number", "student_no_masked": "student_no"}


def find_by_student_no(number: str) -> Child | None:
    """The child holding a 学籍号, in any school (keyed hash, no plaintext)."""
    number = normalize_student_no(number)
    if not number:
        return None
    return Child.objects.filter(student_no_hash__in=crypto.lookup_hashes(number)).first()


def find_by_id_number(number: str) -> Child | None:
    """The child holding an ID number, in any school (keyed hash, no plaintext)."""
    if not number:
        return None
    return (
        Child.objects.select_related("school")
        .filter(id_number_hash__in=crypto.lookup_hashes(number))
        .first()
    )


def _check_id_free(number: str, *, child: Child | None, errors: dict[str, str]) -> None:
    other = find_by_id_number(number)
    if other is None or (child is not None and other.pk == child.pk):
        return
    if child is None or other.school_id != child.school_id:
        errors["id_number"] = (
            f"该身份证号已在{other.school.name}建卡；如是转学，请联系{other.school.name}办理转学"
        )
    else:
        errors["id_number"] = f"该身份证号已是本校学生“{other.name}”的档卡"


def _apply_classification(child: Child, parents: dict[str, Parent], on: dt.date) -> None:
    facts = {r: ParentFacts(p.status, p.away_since) for r, p in parents.items()}
    result = classify(
        father=facts.get("father", ParentFacts("")),
        mother=facts.get("mother", ParentFacts("")),
        is_migrant=child.is_migrant,
        hukou=child.hukou,
        birth_date=child.birth_date,
        on=on,
        away_months=settings.GUANAI_AWAY_MONTHS,
        civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
    )
    child.category = result.category
    child.category_reason = result.reason
    child.civil_affairs = result.civil_affairs
    child.civil_affairs_reason = result.civil_reason
    child.classified_on = on


PAIRABLE = ("single", "double", "migrant")


def _end_pairs_if_role_changed(child: Child, before: str, by) -> None:
    """A child who stops being left-behind (or a buddy who becomes so) leaves their pair."""
    if (before in PAIRABLE) == (child.category in PAIRABLE) or before == "unknown":
        return
    reason = "不再是留守或随迁儿童" if before in PAIRABLE else "结对同学成为留守儿童"
    child_leaves_pairs.send(sender=Child, child=child, by=by, reason=reason)


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _split(cleaned: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    own: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"father": {}, "mother": {}, "guardian": {}}
    for key, value in cleaned.items():
        if "." in key:
            who, field = key.split(".", 1)
            nested[who][field] = value
        else:
            own[key] = value
    return own, nested


def _save_card(
    *,
    child: Child,
    own: dict[str, Any],
    nested: dict[str, dict[str, Any]],
    by,
    reason: str,
    is_new: bool,
) -> Child:
    today = timezone.localdate()
    id_number = own.pop("id_number", None)
    student_no = own.pop("student_no", None)
    changed = _assign(child, own)
    if id_number is not None:
        before = child.id_number_hash
        child.set_id_number(id_number)
        changed = changed or before != child.id_number_hash
    if student_no is not None:
        before = child.student_no_hash
        child.set_student_no(student_no)
        changed = changed or before != child.student_no_hash
    if "name" in own:
        child.name_pinyin = search_key(child.name)
    parents = {p.relation: p for p in child.parents.all()} if not is_new else {}
    dirty: list[Any] = []
    for relation in ("father", "mother"):
        values = nested[relation]
        parent = parents.get(relation)
        if parent is None:
            if not any(v not in ("", None) for v in values.values()):
                continue
            parent = Parent(relation=relation)
            parents[relation] = parent
        status_changed = "status" in values and values["status"] != parent.status
        if _assign(parent, values) or parent.pk is None:
            if status_changed and "effective_from" not in values:
                parent.effective_from = today
            dirty.append(parent)
    guardian = getattr(child, "guardian", None) if not is_new else None
    if nested["guardian"]:
        if guardian is None:
            guardian = Guardian()
        if _assign(guardian, nested["guardian"]) or guardian.pk is None:
            dirty.append(guardian)
    before = (child.category, child.civil_affairs)
    _apply_classification(child, parents, today)
    changed = changed or before != (child.category, child.civil_affairs)
    if not (changed or dirty or is_new):
        return child
    if not is_new:
        _end_pairs_if_role_changed(child, before[0], by)
    if not is_new:
        child.version += 1
    child._history_user = by
    child._change_reason = reason
    child.save()
    for obj in dirty:
        obj.child = child
        obj._history_user = by
        obj._change_reason = reason
        obj.save()
    return child


@transaction.atomic
def create_child(*, school_class, data: dict[str, Any], by, reason: str = "") -> Child:
    """Create a card in a class from raw card input. Raises CardInvalid."""
    cleaned = clean_card(data)
    errors: dict[str, str] = {}
    if not cleaned.get("name"):
        errors["name"] = "姓名不能为空"
    if not cleaned.get("id_number") and not cleaned.get("student_no"):
        errors["id_number"] = "请填写身份证号；没有身份证号的儿童请填写学籍号"
    if cleaned.get("id_number"):
        _check_id_free(cleaned["id_number"], child=None, errors=errors)
    if cleaned.get("student_no") and find_by_student_no(cleaned["student_no"]):
        errors["student_no"] = "该学籍号已有档卡"
    if errors:
        raise CardInvalid(errors)
    own, nested = _split(cleaned)
    child = Child(school=school_class.school, school_class=school_class)
    child.name_pinyin = search_key(own.get("name", ""))
    return _save_card(
        child=child, own=own, nested=nested, by=by, reason=reason or "新建档卡", is_new=True
    )


@transaction.atomic
def update_child(
    *,
    child: Child,
    data: dict[str, Any],
    version: int,
    by,
    reason: str = "",
    school_class=None,
) -> Child:
    """Apply raw card changes if `version` is current. Raises StaleVersion or CardInvalid."""
    locked = Child.objects.select_for_update().get(pk=child.pk)
    if locked.version != version:
        raise StaleVersion()
    current = {
        "birth_date": locked.birth_date,
        "gender": locked.gender,
        "id_number": locked.id_number,
    }
    cleaned = clean_card(data, current=current)
    errors: dict[str, str] = {}
    if cleaned.get("id_number"):
        _check_id_free(cleaned["id_number"], child=locked, errors=errors)
    if (
        "id_number" in cleaned
        and not cleaned["id_number"]
        and not cleaned.get("student_no", locked.student_no_hash)
    ):
        errors["id_number"] = "没有身份证号时必须有学籍号"
    sn = cleaned.get("student_no")
    if sn and (other := find_by_student_no(sn)) is not None and other.pk != locked.pk:
        errors["student_no"] = "该学籍号已有档卡"
    if errors:
        raise CardInvalid(errors)
    own, nested = _split(cleaned)
    if school_class is not None and school_class.pk != locked.school_class_id:
        if school_class.school_id != locked.school_id:
            raise CardInvalid({"class_no": "只能调到本校的班级；转学请用转学功能"})
        own["school_class"] = school_class
    return _save_card(child=locked, own=own, nested=nested, by=by, reason=reason, is_new=False)


def refresh_classifications(*, on: dt.date | None = None) -> int:
    """Re-derive every active card's classification at a date (time passing changes them:
    three months away, turning 16). Changed cards get a history entry by the system."""
    on = on or timezone.localdate()
    changed = 0
    qs = Child.objects.active().prefetch_related("parents")
    for child in qs.iterator(chunk_size=500):
        before = (child.category, child.civil_affairs)
        _apply_classification(child, {p.relation: p for p in child.parents.all()}, on)
        if before != (child.category, child.civil_affairs):
            _end_pairs_if_role_changed(child, before[0], None)
            child._change_reason = "按日期重新认定"
            child.save(update_fields=None)
            changed += 1
    return changed


# --- history ---------------------------------------------------------------------------------


def _display(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None:
        return None
    if isinstance(value, bool | int | float | list | str):
        return value
    return str(value)


def record_changes(record, prefix: str) -> list[dict[str, Any]]:
    prev = record.prev_record
    out = []
    fields = [f.attname if f.is_relation else f.name for f in record.instance_type._meta.fields]
    for name in fields:
        base = name.removesuffix("_id")
        if base in HISTORY_HIDDEN or name in HISTORY_HIDDEN:
            continue
        if not hasattr(record, name):
            continue
        new = getattr(record, name)
        old = getattr(prev, name) if prev is not None else None
        if old == new or (prev is None and new in ("", None, [], False)):
            continue
        field = MASKED_AS.get(base, base)
        if field == "school_class":
            field = "class"
        out.append({"field": prefix + field, "old": _display(old), "new": _display(new)})
    return out


def history_entry(record, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """One history record as the pages and the API show it: who, when, why, what changed."""
    return {
        "at": record.history_date,
        "by": record.history_user.username if record.history_user else None,
        "by_name": str(record.history_user) if record.history_user else "系统",
        "reason": record.history_change_reason or "",
        "created": record.history_type == "+",
        "changes": changes,
    }


def child_history(child: Child) -> list[dict[str, Any]]:
    """Every change of the card, its parents and guardian, newest first:
    [{"at", "by", "reason", "changes": [{"field", "old", "new"}]}]."""
    records = [(r, "") for r in child.history.select_related("history_user").all()]
    records += [
        (r, f"{r.relation}.")
        for r in Parent.history.filter(child_id=child.pk).select_related("history_user")
    ]
    records += [
        (r, "guardian.")
        for r in Guardian.history.filter(child_id=child.pk).select_related("history_user")
    ]
    entries = []
    for record, prefix in records:
        changes = record_changes(record, prefix)
        if not changes and record.history_type != "+":
            continue
        entries.append(
            history_entry(record, changes)
            | {
                "kind": "child" if not prefix else prefix.rstrip("."),
                "_order": (record.history_date, record.history_id),
            }
        )
    entries = _merge_creation(entries)
    entries.sort(key=lambda e: e["_order"], reverse=True)
    for e in entries:
        del e["_order"]
        del e["kind"]
        for c in e["changes"]:
            c["label"] = FIELD_LABELS.get(c["field"], c["field"])
    _name_references(entries)
    return entries


def _name_references(entries: list[dict[str, Any]]) -> None:
    """History keeps a school, class or teacher by its number; people read names. Each such
    change gets `old_text`/`new_text` (the API keeps the numbers in `old`/`new`)."""
    from guanai.accounts.models import User

    models = {"school": School, "class": SchoolClass, "responsible_teacher": User}
    wanted: dict[str, set[int]] = {field: set() for field in models}
    refs = [c for e in entries for c in e["changes"] if c["field"] in models]
    for c in refs:
        wanted[c["field"]].update(v for v in (c["old"], c["new"]) if isinstance(v, int))
    names = {
        field: {obj.pk: str(obj) for obj in model.objects.filter(pk__in=wanted[field])}
        for field, model in models.items()
        if wanted[field]
    }
    for c in refs:
        for side in ("old", "new"):
            value = c[side]
            if isinstance(value, int):
                c[f"{side}_text"] = names.get(c["field"], {}).get(value, "（已删除）")


def _merge_creation(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One 建卡 entry: the parents' and guardian's first records, written in the same save as
    the card, join the card's creation entry instead of standing alone."""
    created = next((e for e in entries if e["created"] and e["kind"] == "child"), None)
    if created is None:
        return entries
    out = []
    for e in entries:
        same_save = (
            e is not created
            and e["created"]
            and e["by"] == created["by"]
            and abs((e["at"] - created["at"]).total_seconds()) < 5
        )
        if same_save:
            created["changes"].extend(e["changes"])
        else:
            out.append(e)
    return out


def classification_on(child: Child, on: dt.date):
    """Reconstruct the classification at a past date from the parents' dated history."""
    facts = {"father": ParentFacts(""), "mother": ParentFacts("")}
    best: dict[str, tuple] = {}
    for rec in Parent.history.filter(child_id=child.pk).order_by("history_date", "history_id"):
        if rec.history_type == "-" or rec.effective_from > on:
            continue
        key = (rec.effective_from, rec.history_date)
        if rec.relation not in best or key >= best[rec.relation][0]:
            best[rec.relation] = (key, ParentFacts(rec.status, rec.away_since))
    for relation, (_k, f) in best.items():
        facts[relation] = f
    return classify(
        father=facts["father"],
        mother=facts["mother"],
        is_migrant=child.is_migrant,
        hukou=child.hukou,
        birth_date=child.birth_date,
        on=on,
        away_months=settings.GUANAI_AWAY_MONTHS,
        civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
    )


def category_timeline(child: Child, *, until: dt.date | None = None) -> list[dict[str, Any]]:
    """When the child's category changed: [{"on", "category", "reason"}], oldest first."""
    until = until or timezone.localdate()
    recs = list(Parent.history.filter(child_id=child.pk))
    dates = change_dates(
        facts_dates=[r.effective_from for r in recs],
        away_since=[r.away_since for r in recs],
        birth_date=None,
        away_months=settings.GUANAI_AWAY_MONTHS,
        civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
    )
    out: list[dict[str, Any]] = []
    for day in [d for d in dates if d <= until]:
        result = classification_on(child, day)
        if not out or out[-1]["category"] != result.category:
            out.append({"on": day, "category": result.category, "reason": result.reason})
    return out


__all__ = [
    "CardInvalid",
    "StaleVersion",
    "category_timeline",
    "child_history",
    "classification_on",
    "create_child",
    "find_by_id_number",
    "find_by_student_no",
    "refresh_classifications",
    "update_child",
]
