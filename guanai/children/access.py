"""How much of a card a user may read: full, masked or reduced (proxy parents); and who may
search by a whole ID number or 学籍号."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone

from guanai.accounts.models import AccessAction, AccessLog

FULL, MASKED, REDUCED = "full", "masked", "reduced"


def card_access(user, child=None) -> str:
    """`full`: the full ID number (logged); `masked`: read-only roles; `reduced`: proxy parents
    see no ID number, health or psychology at all (the scope table's full_id / masked_id).
    Given a child: `full` too while the user holds a live grant of that child's ID number
    (an approved access request or an emergency opening, accounts/access_requests.py)."""
    from guanai.accounts import scope

    if scope.acts_as(user, "full_id"):
        return FULL
    if child is not None and id_grant(user, child) is not None:
        return FULL
    if scope.acts_as(user, "masked_id"):
        return MASKED
    return REDUCED


PSYCH_FIELDS = {"psych_summary", "psych_test_consent"}
HEALTH_FIELDS = {"health", "disability"}
SENSITIVE_FIELDS = PSYCH_FIELDS | HEALTH_FIELDS
SECTION_WORDS = {"psych_summary": "心理状况", "health": "健康状况", "disability": "残疾情况"}
# Identity numbers: full only to FULL readers (each view logged), masked to MASKED readers,
# absent for REDUCED ones; history shows their masked forms to FULL readers only.
ID_FIELDS = {"id_number", "student_no"}
# Not on a reduced card either: a proxy parent needs the child's name, class, home and guardian
# with the guardian's phone; not the family's assessment and means, its place on a map or the
# parents' phones (SPEC §4). Card fields and the parents' fields, as the history names them.
REDUCED_HIDDEN = {
    "guardianship_assessment",
    "income_sources",
    "assistance",
    "latitude",
    "longitude",
    "father.phone",
    "mother.phone",
}


ID_SEARCH_DETAIL = "按完整身份证号或学籍号查找"
KIND_LABELS = {"id_number": "身份证号", "student_no": "学籍号"}


class IdentitySearchRefused(Exception):
    """A search by a whole ID number or 学籍号 that this user may not make, or not now."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def check_identity_search(request: HttpRequest, q: str) -> None:
    """A whole ID number or 学籍号 typed into a search confirms who a child is: with the masked
    number and the birth date a list shows, it would recover the full number in a few tries.
    Such a search is for those who may read full numbers, is logged, and is limited per user
    (GUANAI_ID_SEARCH_PER_HOUR). Raises IdentitySearchRefused."""
    from .models import identity_kind

    kind = identity_kind(q)
    if kind is None:
        return
    label = KIND_LABELS[kind]
    if card_access(request.user) != FULL:
        raise IdentitySearchRefused(
            f"按完整{label}查找仅限可以查看完整号码的老师和管理人员；请按姓名或{label}后四位查找",
            403,
        )
    since = timezone.now() - dt.timedelta(hours=1)
    recent = AccessLog.objects.filter(user=request.user, detail=ID_SEARCH_DETAIL, at__gte=since)
    if recent.count() >= settings.GUANAI_ID_SEARCH_PER_HOUR:
        raise IdentitySearchRefused(
            f"一小时内按完整号码查找已达 {settings.GUANAI_ID_SEARCH_PER_HOUR} 次，请稍后再试", 429
        )
    from guanai.accounts.services import log_access

    log_access(
        request=request,
        user=request.user,
        action=AccessAction.VIEW_ID_NUMBER,
        detail=ID_SEARCH_DETAIL,
    )


def search_children(request: HttpRequest, qs, q: str):
    """`qs.search(q)` for a page: a refused identity search shows its message and finds no one."""
    try:
        check_identity_search(request, q)
    except IdentitySearchRefused as exc:
        messages.error(request, exc.message)
        return qs.none()
    return qs.search(q)


def hidden_sections(user, child, *, for_edit: bool = False) -> set[str]:
    """The card's sensitive fields this reader may not read (SPEC §4, the scope table's
    `psych` and `health`): psychology for the school's counselor and leaders, health and
    disability for the class teacher, the grade and school leaders and the counselor. Never
    shown, never written, never in the history, for anyone else — a responsible teacher or a
    proxy parent included — unless she holds a live grant for this child's section (an
    approved access request, an emergency opening). A grant opens reading only: `for_edit`
    (the edit form, a PATCH) leaves it out."""
    from guanai.accounts import scope

    hidden = set()
    if not scope.holds_child(user, "psych", child):
        hidden |= PSYCH_FIELDS
    if not scope.holds_child(user, "health", child):
        hidden |= HEALTH_FIELDS
    if hidden and not for_edit:
        hidden -= granted_fields(user, child)
    return hidden


def granted_fields(user, child) -> set[str]:
    """The sensitive fields of this child a live grant opens to the user."""
    from guanai.accounts.access_requests import grant_for
    from guanai.accounts.models import AccessKind

    fields = set()
    if grant_for(user, child, AccessKind.PSYCH):
        fields |= PSYCH_FIELDS
    if grant_for(user, child, AccessKind.HEALTH):
        fields |= HEALTH_FIELDS
    return fields


def id_grant(user, child):
    """The live grant opening this child's full ID number to the user, or None."""
    from guanai.accounts.access_requests import grant_for
    from guanai.accounts.models import AccessKind

    return grant_for(user, child, AccessKind.ID_NUMBER)


def _grant_of_field(user, child, field: str):
    from guanai.accounts.access_requests import grant_for
    from guanai.accounts.models import AccessKind

    kind = AccessKind.PSYCH if field in PSYCH_FIELDS else AccessKind.HEALTH
    return grant_for(user, child, kind)


def log_id_read(request: HttpRequest, child, *, where: str) -> None:
    """One access-log row for a full ID number shown: by role, or under a grant (then with its
    reference, as 依申请查看 or 紧急查看)."""
    from guanai.accounts import scope
    from guanai.accounts.services import log_access

    what = f"{where}查看完整身份证号、学籍号"
    grant = None if scope.acts_as(request.user, "full_id") else id_grant(request.user, child)
    if grant is None:
        action = AccessAction.VIEW_ID_NUMBER
    else:
        action = AccessAction.EMERGENCY if grant.emergency else AccessAction.VIEW_GRANTED
        what = f"{what}（{grant.reference}）"
    log_access(request=request, user=request.user, action=action, child=child, detail=what)


def log_sections_read(request: HttpRequest, child, *, hidden: set[str], where: str) -> None:
    """One access-log row when a card shows a filled-in health or psychology field: every
    opening of a sensitive section is logged (who, whom, what, when)."""
    shown = [f for f in SECTION_WORDS if f not in hidden and getattr(child, f)]
    if not shown:
        return
    from guanai.accounts.services import log_access

    # Fields shown by a grant rather than the role: logged apart, naming the grant.
    by_role = hidden_sections(request.user, child, for_edit=True)
    own = [SECTION_WORDS[f] for f in shown if f not in by_role]
    if own:
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail=f"{where}查看{'、'.join(own)}",
        )
    grants: dict = {}
    for field in shown:
        if field in by_role:
            grant = _grant_of_field(request.user, child, field)
            grants.setdefault(grant, []).append(SECTION_WORDS[field])
    for grant, words in grants.items():
        if grant is None:
            continue
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.EMERGENCY if grant.emergency else AccessAction.VIEW_GRANTED,
            child=child,
            detail=f"{where}查看{'、'.join(words)}（{grant.reference}）",
        )
