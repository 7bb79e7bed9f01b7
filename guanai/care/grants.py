"""A psychology grant opens one child's 心理关爱 record (issue #19).

A live PSYCH grant — an approved access request or an emergency opening
(`accounts/access_requests.py`) — lets its holder read, not write, the psychological record of
its one child, as it opens the card's 心理状况 (`children/access.py`). The child must still be
one she sees (`Child.objects.visible_to`); whoever holds psychology for the child's unit by role
(`scope.holds_child(user, "psych", child)`) reads as before, without a grant. Every reading
under a grant is its own log row naming the grant: 依申请查看, or 紧急查看 for an emergency
opening.
"""

from django.http import Http404, HttpRequest

from guanai.accounts import scope
from guanai.accounts.access_requests import grant_for
from guanai.accounts.models import AccessAction, AccessKind, AccessRequest
from guanai.accounts.services import log_access
from guanai.children.models import Child


def psych_grant(user, child: Child) -> AccessRequest | None:
    """The live grant through which the user reads this child's record; None when her role
    reads it already or when she holds no live psychology grant of this child."""
    if scope.holds_child(user, "psych", child):
        return None
    return grant_for(user, child, AccessKind.PSYCH)


def granted_child(user, pk: int) -> tuple[Child, AccessRequest] | None:
    """The child `pk` and the grant that opens its record to the user, or None."""
    if not user.is_authenticated:
        return None
    child = (
        Child.objects.visible_to(user)
        .select_related("school", "school_class")
        .filter(pk=pk)
        .first()
    )
    if child is None:
        return None
    grant = psych_grant(user, child)
    return None if grant is None else (child, grant)


def granted_child_or_404(user, pk: int) -> tuple[Child, AccessRequest]:
    found = granted_child(user, pk)
    if found is None:
        raise Http404("没有找到这名学生的心理关爱记录")
    return found


def log_granted_read(
    request: HttpRequest, child: Child, grant: AccessRequest, *, what: str
) -> None:
    """One log row for a reading under a grant, naming it (as `children.access.log_id_read`)."""
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EMERGENCY if grant.emergency else AccessAction.VIEW_GRANTED,
        child=child,
        detail=f"{what}（{grant.reference}）",
    )
