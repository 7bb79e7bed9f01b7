"""Correcting a saved contact (修改联系记录): who may, the correction, and the earlier versions.

The page and the API share these. Nothing is re-evaluated after a correction: due lists and
coverage read the contacts as they are.
"""

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.children.services import StaleVersion, history_entry, record_changes
from guanai.children.validation import CardInvalid

from . import access
from .models import FINDING_AREAS, Contact, ContactKind, FindingLevel
from .rules import SHANGHAI

STALE = "这条联系记录已被他人修改，请重新打开后再修改"
REASON_MAX = 100  # django-simple-history's change-reason column
FINDING_FIELDS = [f"{area}_{part}" for area, _label in FINDING_AREAS for part in ("level", "text")]
# What a correction may change; the child and the author never change.
CORRECTABLE = ["kind", "at", "with_whom", "notes", "follow_up_by", *FINDING_FIELDS]
# Not listed in the history: the author never changes, and whoever marked a follow-up done is
# the entry's own `by`.
NOT_LISTED = {"by", "follow_up_done_by"}
PSYCH_FIELDS = {"psych_level", "psych_text"}
MOMENTS = {"at", "follow_up_done_at"}


def correctable(user: User) -> QuerySet[Contact]:
    """Contacts `user` may correct: her own while the child is within her contact scope, and
    every contact of a child whose card she may change (class teacher, grade and school
    leaders, town administrator). A proxy parent thus corrects only his own; read-only roles
    nothing."""
    if user.is_read_only:
        return Contact.objects.none()
    own = Q(by=user, child__in=Child.objects.visible_to(user, "contact").values("pk"))
    changeable = Q(child__in=Child.objects.visible_to(user, "change").values("pk"))
    return Contact.objects.filter(own | changeable)


def contact_to_correct(user: User, pk: int) -> Contact:
    """The contact `pk` if `user` may correct it: 403 for read-only roles, 404 when the child is
    outside her scope, 403 when it is inside but the contact is not hers to correct."""
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能修改联系记录")
    contact = get_object_or_404(
        Contact.objects.visible_to(user).select_related("child", "by"), pk=pk
    )
    if not correctable(user).filter(pk=pk).exists():
        raise PermissionDenied("只有记录人本人或能修改该学生档卡的老师可以修改这条记录")
    return contact


def contact_input(contact: Contact) -> dict[str, Any]:
    """The contact as `clean_contact` arguments, for a correction that changes some of them."""
    return {
        "kind": contact.kind,
        "at": contact.at,
        "with_whom": contact.with_whom,
        "notes": contact.notes,
        "follow_up_by": contact.follow_up_by,
        "findings": {
            area: {
                "level": getattr(contact, f"{area}_level"),
                "text": getattr(contact, f"{area}_text"),
            }
            for area, _label in FINDING_AREAS
        },
    }


def reason_errors(reason: str | None) -> dict[str, str]:
    """{"reason": message} when a correction's reason is missing or too long, else {}."""
    reason = (reason or "").strip()
    if not reason:
        return {"reason": "请填写修改原因"}
    if len(reason) > REASON_MAX:
        return {"reason": f"不能超过 {REASON_MAX} 个字"}
    return {}


@transaction.atomic
def correct_contact(
    *,
    contact: Contact,
    by: User,
    values: dict[str, Any],
    reason: str,
    loaded_at: dt.datetime | None = None,
) -> tuple[Contact, list[str]]:
    """Change a saved contact to cleaned `values` (see `clean_contact`), keeping the version it
    replaces in the history with who, when and why. Raises CardInvalid when the reason is
    missing, StaleVersion when `loaded_at` (the `updated_at` the editor loaded) is no longer
    the contact's: somebody changed it meanwhile, and the second save must not overwrite it.
    Returns the contact and the fields changed (none: nothing was saved)."""
    errors = reason_errors(reason)
    if errors:
        raise CardInvalid(errors)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if loaded_at is not None and _to_ms(locked.updated_at) != _to_ms(loaded_at):
        raise StaleVersion(STALE)
    changed = [f for f in CORRECTABLE if f in values and getattr(locked, f) != values[f]]
    if not changed:
        return locked, []
    if not locked.history.exists():
        # Logged in bulk or before history was kept: record the version being replaced.
        Contact.history.bulk_history_create(
            [locked], default_user=locked.by, default_date=locked.created_at
        )
    for field in changed:
        setattr(locked, field, values[field])
    locked._history_user = by
    locked._change_reason = reason.strip()
    locked.save()
    return locked, changed


def _to_ms(moment: dt.datetime) -> dt.datetime:
    """JSON answers carry milliseconds (Django's encoder): compare versions at that precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class _WithPrevious:
    """A history record with its previous record already known, so the card history's diff
    (`record_changes`) runs on records loaded in one query instead of one query each."""

    def __init__(self, record: Any, previous: Any) -> None:
        self._record, self.prev_record = record, previous

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


def contact_histories(contacts: list[Contact], *, user: User) -> dict[int, list[dict[str, Any]]]:
    """Every version of each contact, newest first, in one query:
    {contact id: [{"at", "by", "by_name", "reason", "created", "correction",
    "changes": [{"field", "label", "old", "new", "old_text", "new_text"}]}]}.
    A correction is an entry that changed what was recorded (not a follow-up marked done).
    A proxy parent reads none of the versions of others' contacts (`access`): only their date
    and kind, which the contact itself shows."""
    records: dict[int, list] = defaultdict(list)
    shown = [c for c in contacts if not access.details_hidden(user, c)]
    no_psych = {c.pk for c in shown if access.psych_hidden(user, c)}
    rows = (
        Contact.history.filter(id__in=[c.pk for c in shown])
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for record in rows:
        records[record.id].append(record)
    out: dict[int, list[dict[str, Any]]] = {}
    for contact_id, versions in records.items():
        entries = []
        for n, record in enumerate(versions):
            if n == 0 and record.history_type != "+":
                continue  # the first version known, not a change (logged before history)
            previous = versions[n - 1] if n else None
            changes = [
                _change(c)
                for c in record_changes(_WithPrevious(record, previous), "")
                if c["field"] not in NOT_LISTED
                and not (contact_id in no_psych and c["field"] in PSYCH_FIELDS)
            ]
            if not changes and record.history_type != "+":
                continue
            correction = record.history_type == "~" and any(
                c["field"] in CORRECTABLE for c in changes
            )
            entries.append(history_entry(record, changes) | {"correction": correction})
        out[contact_id] = entries[::-1]
    return out


def _change(change: dict[str, Any]) -> dict[str, Any]:
    """A change as the API answers it (times in Asia/Shanghai) and as the timeline shows it."""
    field = change["field"]
    old, new = change["old"], change["new"]
    if field in MOMENTS:
        old, new = _local(old), _local(new)
    return {
        "field": field,
        "label": str(Contact._meta.get_field(field).verbose_name),
        "old": old,
        "new": new,
        "old_text": _text(field, old),
        "new_text": _text(field, new),
    }


def _local(value: str | None) -> str | None:
    return dt.datetime.fromisoformat(value).astimezone(SHANGHAI).isoformat() if value else value


def _text(field: str, value: Any) -> str:
    if value in (None, ""):
        return "（空）"
    if field == "kind":
        return str(ContactKind(value).label) if value in ContactKind.values else value
    if field.endswith("_level"):
        return str(FindingLevel(value).label) if value in FindingLevel.values else value
    if field in MOMENTS:
        return f"{dt.datetime.fromisoformat(value):%Y-%m-%d %H:%M}"
    return str(value)
