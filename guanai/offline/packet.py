"""The offline packet: what a phone in the village holds to log visits without a signal.

Only the user's own children (`scope.my_children_q` within `visible_to(user, "contact")`: a
class teacher's class and the children she is responsible for, a proxy parent's children), and
of each only what a visit needs: name, class, home, guardian, phones, the last three contacts,
the open follow-ups, the rules now due and whether the guardian agreed to photos. Never an ID number, a 学籍号, health, disability or
psychology, never the family's assessment or means (SPEC §4). A proxy parent's packet carries
the guardian and no parent's phone (`children.access.REDUCED_HIDDEN`), and the notes of his own
contacts only (`contacts.access.details_hidden`).
"""

import base64
import datetime as dt
import secrets
from collections import defaultdict
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.children.models import Child, Enrolment, Parent
from guanai.contacts import access
from guanai.contacts.models import FINDING_AREAS, Contact
from guanai.contacts.rules import SHANGHAI, due_items

LAST_CONTACTS = 3
SESSION_KEY = "offline_key"


def packet_children(user: Any):
    """The children of a packet: the user's own, enrolled, in the scope to log contacts."""
    return (
        Child.objects.visible_to(user, "contact")
        .filter(scope.my_children_q(user), enrolment=Enrolment.ENROLLED)
        .select_related("school", "school_class", "guardian")
        .prefetch_related(Prefetch("parents", queryset=Parent.objects.order_by("relation")))
        .order_by("school_class__grade", "school_class__class_no", "name_pinyin", "pk")
    )


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="minutes")


def _contact(user: Any, c: Contact, *, proxy: bool) -> dict[str, Any]:
    hidden = access.details_hidden(user, c)
    return {
        "at": _at(c.at),
        "kind": c.kind,
        "kind_name": access.kind_label(c.kind, proxy=proxy),
        "mine": c.by_id == user.pk,
        "notes": "" if hidden else c.notes,
    }


def build(user: Any) -> dict[str, Any]:
    """The packet as the API answers it (no access log: `packet` writes it)."""
    today = timezone.localdate()
    proxy = access.proxy_reader(user)
    children = list(packet_children(user))
    ids = [c.pk for c in children]
    recent: dict[int, list[dict]] = defaultdict(list)
    contacts = (
        Contact.objects.filter(child_id__in=ids)
        .select_related("child", "child__school", "child__school_class")
        .order_by("child_id", "-at", "-pk")
    )
    for c in contacts.iterator():
        if len(recent[c.child_id]) < LAST_CONTACTS:
            recent[c.child_id].append(_contact(user, c, proxy=proxy))
    follow_ups: dict[int, list[dict]] = defaultdict(list)
    open_ = Contact.objects.filter(child_id__in=ids).open_follow_ups().filter(access.readable(user))
    for c in open_.order_by("follow_up_by", "pk"):
        follow_ups[c.child_id].append(
            {
                "contact": c.pk,
                "by_date": c.follow_up_by.isoformat(),
                "overdue": c.follow_up_by < today,
                "from": f"{_at(c.at)[:10]} {access.kind_label(c.kind, proxy=proxy)}",
                "notes": c.notes,
            }
        )
    due: dict[int, list[dict]] = defaultdict(list)
    codes = access.due_rule_codes(user)
    if codes != [] and ids:
        base = Child.objects.filter(pk__in=ids)
        for item in due_items(base, as_of=today, rule_codes=codes):
            due[item.child].append(
                {
                    "rule": item.rule,
                    "rule_name": item.rule_name,
                    "due_since": item.due_since.isoformat(),
                    "days_overdue": item.days_overdue,
                }
            )
    out = []
    for child in children:
        guardian = getattr(child, "guardian", None)
        out.append(
            {
                "id": child.pk,
                "name": child.name,
                "school": child.school.name,
                "class_name": str(child.school_class),
                "village": child.village,
                "group": child.group,
                "address": child.address,
                # The guardian agreed to photos (the card's consent): the form offers a camera.
                "photo_consent": child.photo_consent,
                "guardian": {
                    "name": guardian.name if guardian else "",
                    "relation": guardian.relation if guardian else "",
                    "phone": guardian.phone if guardian else "",
                },
                # A proxy parent reaches the family through the guardian (REDUCED_HIDDEN).
                "parents": []
                if proxy
                else [
                    {"relation": p.get_relation_display(), "name": p.name, "phone": p.phone}
                    for p in child.parents.all()
                    if p.name or p.phone
                ],
                "last_contacts": recent[child.pk],
                "follow_ups": follow_ups[child.pk],
                "due": due[child.pk],
            }
        )
    return {
        "generated_at": timezone.now().astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "user": user.username,
        "kinds": [{"value": v, "label": label} for v, label in access.kind_choices(user)],
        # The findings of the web form; a proxy parent records no psychological one (access).
        "finding_areas": [
            {"value": area, "label": label}
            for area, label in FINDING_AREAS
            if area != "psych" or not proxy
        ],
        "children": out,
        "count": len(out),
    }


def packet(request: HttpRequest) -> dict[str, Any]:
    """The packet for the signed-in user, with one access-log row for the fetch."""
    data = build(request.user)
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.API_CARD,
        detail=f"离线资料包：{data['count']} 名儿童",
    )
    return data


def session_key(request: HttpRequest) -> str:
    """The key this login session encrypts its packet with on the phone: made on first ask,
    kept in the server session only, so it goes with logout and with the idle timeout."""
    key = request.session.get(SESSION_KEY)
    if not key:
        key = base64.b64encode(secrets.token_bytes(32)).decode()  # AES-256
        request.session[SESSION_KEY] = key
    return key
