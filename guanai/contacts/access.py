"""What a reader may see of a contact, and what a person logs (SPEC §4).

A contact's details — whom it reached, the findings, the notes, photos, the follow-up and the
corrections — are for its author and the school's staff. A proxy parent (the reduced card of
`children.access`) sees his own contacts in full and only the date and kind of anybody else's.

A proxy parent logs what a proxy parent does: a meeting (见面 to him: he does not receive the
family at school), a call, a video call, a home visit. He records no psychological assessment
(psychology is for the counselor and the school's leaders), and he answers for the
proxy-parent rule only: the other frequency rules are the school's duties.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from guanai.accounts import scope
from guanai.children.access import REDUCED, card_access

from .models import Contact, ContactKind

PROXY_KINDS = [ContactKind.MEETING, ContactKind.HOME_VISIT, ContactKind.PHONE, ContactKind.VIDEO]
PROXY_MEETING_LABEL = "见面"


def proxy_reader(user: Any) -> bool:
    """A reader with the reduced card: a proxy parent and nothing more."""
    return card_access(user) == REDUCED


def details_hidden(user: Any, contact: Contact) -> bool:
    """The contact shows `user` only its date and kind: somebody else's contact, of a child
    outside her `notes` units (SPEC §4: free-text notes are for their author, the class
    teacher, the leaders and the counselor, and the child's responsible teacher, who answers
    for the follow-ups — not a subject teacher, an inspector or a proxy parent)."""
    return (
        contact.by_id != user.pk
        and contact.child.responsible_teacher_id != user.pk
        and not scope.holds_child(user, "notes", contact.child)
    )


def readable(user: Any, *, prefix: str = "") -> Q:
    """The contacts whose details `user` reads (within the children he may see); `prefix`
    leads from another model to its contact ("contact__")."""
    units = scope.unit_children_q(user, "notes", prefix=f"{prefix}child__")
    if units is None:
        return Q()
    return Q(**{f"{prefix}by": user}) | Q(**{f"{prefix}child__responsible_teacher": user}) | units


def psych_hidden(user: Any, contact: Contact) -> bool:
    """A visit's psychological finding is for the school's counselor and leaders only (the
    scope table's `psych`): whoever recorded it reads back only that it was recorded."""
    return not scope.holds_child(user, "psych", contact.child)


def shown_findings(user: Any, contact: Contact) -> list[dict]:
    """`contact.findings()` as `user` may read them: a psychological finding she may not
    read is only said to be recorded (`withheld`)."""
    out = contact.findings()
    if any(f["area"] == "psych" for f in out) and psych_hidden(user, contact):
        out = [f for f in out if f["area"] != "psych"]
        out.append({"area": "psych", "label": "心理", "withheld": True})
    return out


def kind_choices(user: Any) -> list[tuple[str, str]]:
    """The kinds `user` logs, as (value, label), the likeliest first for a proxy parent."""
    if not proxy_reader(user):
        return list(ContactKind.choices)
    return [(str(k.value), kind_label(k, proxy=True)) for k in PROXY_KINDS]


def kind_label(kind: str, *, proxy: bool) -> str:
    """A kind's name; a proxy parent's meeting is a 见面, not a 来校面谈."""
    if proxy and kind == ContactKind.MEETING:
        return PROXY_MEETING_LABEL
    return str(ContactKind(kind).label) if kind in ContactKind.values else kind


def logging_errors(user: Any, *, kind: str, findings: dict[str, dict[str, str]]) -> dict[str, str]:
    """What `user` may not log: for a proxy parent, a kind other than his, or a psychological
    finding. {} for everybody else."""
    if user is None or not proxy_reader(user):
        return {}
    errors: dict[str, str] = {}
    if kind in ContactKind.values and kind not in PROXY_KINDS:
        allowed = "、".join(label for _value, label in kind_choices(user))
        errors["kind"] = f"代理家长可以记录的联系方式是：{allowed}"
    psych = findings.get("psych") or {}
    if (psych.get("level") or "").strip() or (psych.get("text") or "").strip():
        errors["findings.psych"] = (
            "心理方面的评估由心理辅导老师和学校领导记录；请把看到的情况写在情况记录里"
        )
    return errors


def due_rule_codes(user: Any, wanted: Iterable[str] | None = None) -> list[str] | None:
    """The frequency rules of `user`'s due lists, among `wanted` (None: every rule). A proxy
    parent's lists hold the proxy-parent rules only; an empty list means no rule at all."""
    from .rules import DEFAULT_RULES

    if not proxy_reader(user):
        return list(wanted) if wanted is not None else None
    codes = [r.code for r in DEFAULT_RULES if r.for_proxies]
    return [c for c in codes if wanted is None or c in set(wanted)]


def log_psych_read(request: Any, contacts: Iterable[Contact], *, where: str) -> None:
    """One access-log row when a page or answer shows a visit's psychological finding (SPEC
    §4: each opening of a sensitive section is logged), naming the children."""
    shown = [
        c for c in contacts if (c.psych_level or c.psych_text) and not psych_hidden(request.user, c)
    ]
    if not shown:
        return
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    children = {c.child_id: c.child for c in shown}
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.VIEW_SENSITIVE,
        child=next(iter(children.values())) if len(children) == 1 else None,
        detail=f"{where}查看家校联系中的心理情况（{len(shown)} 条）",
    )
