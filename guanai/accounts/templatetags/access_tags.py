"""The card's 访问申请 panel: what the reader holds beyond her role for this child (granted
until …), what she waits for, and the buttons to ask or, for an inspector, to open at once."""

from django import template
from django.utils import timezone

from guanai.accounts import access_requests as svc
from guanai.accounts.models import AccessRequest

register = template.Library()


@register.inclusion_tag("accounts/_card_access.html", takes_context=True)
def card_access_panel(context, child) -> dict:
    user = context["request"].user
    if not user.is_authenticated or user.is_superuser:
        return {"show": False}
    grants = svc.live_grants(user, child)
    pending = list(AccessRequest.objects.pending().filter(user=user, child=child))
    askable = svc.may_request(user) and any(
        not svc.readable(user, child, kind) for kind in svc.ASKABLE
    )
    emergency = svc.may_break_glass(user, child)
    return {
        "show": bool(grants or pending or askable or emergency),
        "child": child,
        "grants": grants,
        "pending": pending,
        "askable": askable,
        "emergency": emergency and not any(g.emergency for g in grants),
        "now": timezone.now(),
    }
