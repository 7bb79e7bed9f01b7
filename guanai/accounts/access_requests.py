"""Access beyond one's role, for one child and for a time (issue #19, PIPL §28/31, §36).

- A staff member who may see a child's card but not its full ID number, health or psychology
  section asks for it with a reason (`request_access`); a leader of the child's school approves
  it for a time (default 24 h, at most 7 days) or refuses it, with a note (`decide`). The
  requester can never decide her own request.
- An inspector or a town administrator opens a child of his town at once in an inspection or
  an urgent case by stating a reason (`break_glass`): ID number, health and psychology for 2
  hours, written to the log as 紧急查看 and listed for the school's leaders and the auditor to
  review (`review`).
- `children/access.py` honours live grants only (approved, not expired) and only for their
  child; every use writes the access log with the request's reference.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from guanai.lib.errors import Invalid

from . import scope
from .models import AccessAction, AccessKind, AccessRequest, AccessRequestStatus, User

DEFAULT_HOURS = 24
MAX_HOURS = 7 * 24
EMERGENCY_HOURS = 2
MIN_EMERGENCY_REASON = 10
REASON_MAX = 500
NOTE_MAX = 200
ASKABLE = (AccessKind.ID_NUMBER, AccessKind.HEALTH, AccessKind.PSYCH)


# --- what a grant opens ---------------------------------------------------------------------


def live_grants(user, child) -> list[AccessRequest]:
    """The user's live grants for this child (approved, not yet expired), newest first. The
    rows of a request are read once and cached on the user; expiry is checked at every call,
    so a grant that ends mid-request ends there."""
    if user is None or not user.is_authenticated or child is None or child.pk is None:
        return []
    cache = getattr(user, "_access_grants", None)
    if cache is None:
        cache = {}
        rows = AccessRequest.objects.filter(
            user=user, status=AccessRequestStatus.APPROVED, expires_at__gt=timezone.now()
        ).order_by("-expires_at", "-id")
        for grant in rows:
            cache.setdefault(grant.child_id, []).append(grant)
        user._access_grants = cache
    now = timezone.now()
    return [g for g in cache.get(child.pk, []) if g.expires_at > now]


def forget_grants(user) -> None:
    """Drop the cached grants of a user object (after a decision in the same request)."""
    if user is not None and hasattr(user, "_access_grants"):
        del user._access_grants


def grant_for(user, child, kind: str) -> AccessRequest | None:
    """The live grant that opens `kind` of this child for the user, or None."""
    return next((g for g in live_grants(user, child) if g.opens(kind)), None)


def readable(user, child, kind: str) -> bool:
    """Whether the user's role alone already shows this part of this child's card."""
    from guanai.children.access import FULL, HEALTH_FIELDS, PSYCH_FIELDS, card_access
    from guanai.children.access import hidden_sections as hidden

    if kind == AccessKind.ID_NUMBER:
        return card_access(user) == FULL
    fields = HEALTH_FIELDS if kind == AccessKind.HEALTH else PSYCH_FIELDS
    return not hidden(user, child, for_edit=True) & fields


# --- requests and decisions -----------------------------------------------------------------


def _reason(reason: str, *, field: str = "reason", least: int = 1, what: str = "理由") -> str:
    reason = (reason or "").strip()
    if len(reason) < least:
        raise Invalid(
            {field: f"请写明{what}" if least == 1 else f"请写明{what}（至少 {least} 个字）"}
        )
    if len(reason) > REASON_MAX:
        raise Invalid({field: f"{what}最多 {REASON_MAX} 个字"})
    return reason


def _hours(hours) -> int:
    try:
        value = int(hours)
    except (TypeError, ValueError):
        raise Invalid({"hours": "时长请填写小时数，如 24"}) from None
    if value < 1:
        raise Invalid({"hours": "时长至少 1 小时"})
    if value > MAX_HOURS:
        raise Invalid({"hours": f"时长最多 7 天（{MAX_HOURS} 小时）"})
    return value


def may_request(user) -> bool:
    return scope.acts_as(user, "request_access") and not user.is_superuser


@transaction.atomic
def request_access(
    *, user: User, child, kind: str, reason: str, hours: int | str = DEFAULT_HOURS
) -> AccessRequest:
    """Ask, for one child the user may already see, for a part of the card her role does not
    show. The caller has found the child through `Child.objects.visible_to(user)`."""
    if not may_request(user):
        raise PermissionDenied("您的角色不能申请查看")
    if kind not in ASKABLE:
        raise Invalid({"kind": "请选择要查看的内容：完整身份证号、健康状况或心理状况"})
    reason = _reason(reason)
    hours = _hours(hours)
    if readable(user, child, kind):
        raise Invalid({"kind": f"您的角色已可以查看该学生的{AccessKind(kind).label}，无需申请"})
    open_ = AccessRequest.objects.filter(user=user, child=child, kind=kind)
    if open_.pending().exists():
        raise Invalid({"kind": "同一内容已有待审批的申请，请等待校领导审批"})
    if open_.live().exists():
        raise Invalid({"kind": "同一内容已获准查看，尚未到期"})
    return AccessRequest.objects.create(
        user=user, child=child, school=child.school, kind=kind, reason=reason, hours=hours
    )


def decidable(user) -> QuerySet[AccessRequest]:
    """Requests a leader may decide: those of the children of her schools (approve_access),
    never her own."""
    cond = scope.unit_children_q(user, "approve_access", prefix="child__")
    qs = AccessRequest.objects.filter(emergency=False)
    if cond is not None:
        qs = qs.filter(cond)
    return qs.exclude(user=user)


@transaction.atomic
def decide(
    *,
    request: AccessRequest,
    by: User,
    approve: bool,
    note: str = "",
    hours: int | str | None = None,
) -> AccessRequest:
    """Approve (for the requested hours, or fewer/more up to 7 days) or refuse a pending
    request. Refusing needs a note the requester reads; the requester never decides her own."""
    if request.user_id == by.pk:
        raise PermissionDenied("不能审批自己的申请")
    if not scope.holds_child(by, "approve_access", request.child):
        raise PermissionDenied("只有该学生所在学校的校领导可以审批")
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != AccessRequestStatus.PENDING:
        raise Invalid({"status": f"该申请已{request.get_status_display()}，不能再审批"})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid({"note": f"审批意见最多 {NOTE_MAX} 个字"})
    now = timezone.now()
    if approve:
        request.hours = _hours(request.hours if hours in (None, "") else hours)
        request.status = AccessRequestStatus.APPROVED
        request.expires_at = now + dt.timedelta(hours=request.hours)
    else:
        if not note:
            raise Invalid({"note": "不批准时请写明原因，申请人会看到"})
        request.status = AccessRequestStatus.REFUSED
    request.decided_by, request.decided_at, request.note = by, now, note
    request.save()
    return request


@transaction.atomic
def withdraw(*, request: AccessRequest, by: User) -> AccessRequest:
    """The requester withdraws a pending request, or ends a live grant early."""
    if request.user_id != by.pk:
        raise PermissionDenied("只能撤回自己的申请")
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == AccessRequestStatus.PENDING:
        request.status = AccessRequestStatus.WITHDRAWN
    elif request.is_live:
        request.expires_at = timezone.now()
    else:
        raise Invalid({"status": "该申请已结束"})
    request.save()
    forget_grants(by)
    return request


# --- break-the-glass ------------------------------------------------------------------------


def may_break_glass(user, child) -> bool:
    return not user.is_superuser and scope.holds_child(user, "break_glass", child)


@transaction.atomic
def break_glass(
    *, user: User, child, reason: str, http: HttpRequest | None = None
) -> AccessRequest:
    """Open a child's full ID number, health and psychology at once for EMERGENCY_HOURS, in an
    inspection or an urgent case (未成年人网络保护条例 §36): the reason is required, the
    opening is logged as 紧急查看, and the school's leaders and the auditor see it to review."""
    from .services import log_access

    if not may_break_glass(user, child):
        raise PermissionDenied("只有本镇的督导员和镇管理员可以紧急查看")
    reason = _reason(reason, least=MIN_EMERGENCY_REASON, what="紧急查看的理由")
    now = timezone.now()
    grant = AccessRequest.objects.create(
        user=user,
        child=child,
        school=child.school,
        kind=AccessKind.ALL,
        reason=reason,
        hours=EMERGENCY_HOURS,
        emergency=True,
        status=AccessRequestStatus.APPROVED,
        decided_by=user,
        decided_at=now,
        expires_at=now + dt.timedelta(hours=EMERGENCY_HOURS),
        created_at=now,
    )
    log_access(
        request=http,
        user=user,
        action=AccessAction.EMERGENCY,
        child=child,
        detail=f"开启{grant.reference}（{EMERGENCY_HOURS} 小时）：{reason}",
    )
    forget_grants(user)
    return grant


def emergencies_for(user) -> QuerySet[AccessRequest]:
    """Emergency openings a person reviews: a leader's school's children; an auditor's town."""
    if user is None or not user.is_authenticated:
        return AccessRequest.objects.none()
    qs = AccessRequest.objects.emergencies()
    cond = scope.unit_q(user, "review_emergency", town="school__town_id", school="school_id")
    return qs if cond is None else qs.filter(cond)


@transaction.atomic
def review(*, request: AccessRequest, by: User) -> AccessRequest:
    """Mark an emergency opening as reviewed (看过，无异议). The row keeps who and when."""
    if not emergencies_for(by).filter(pk=request.pk).exists():
        raise PermissionDenied("只有该校校领导和审计员可以复核紧急查看")
    if request.user_id == by.pk:
        raise PermissionDenied("不能复核自己的紧急查看")
    AccessRequest.objects.filter(pk=request.pk, reviewed_at__isnull=True).update(
        reviewed_by=by, reviewed_at=timezone.now()
    )
    request.refresh_from_db()
    return request


# --- lists ------------------------------------------------------------------------------------


def my_requests(user) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(user=user).select_related("child", "decided_by")


def pending_count(user) -> int:
    """For the home page: requests waiting for this leader's decision."""
    if not scope.units(user, "approve_access"):
        return 0
    return decidable(user).pending().count()


def home_panel(user) -> dict:
    """The home page's 访问申请 panel: requests waiting for this leader, emergency openings not
    yet reviewed, and the requester's own live grants."""
    panel = {"pending": 0, "unreviewed": 0, "grants": []}
    if user is None or not user.is_authenticated:
        return panel
    panel["pending"] = pending_count(user)
    if scope.units(user, "review_emergency"):
        panel["unreviewed"] = (
            emergencies_for(user).filter(reviewed_at__isnull=True).exclude(user=user).count()
        )
    panel["grants"] = list(
        AccessRequest.objects.live()
        .filter(user=user)
        .select_related("child")
        .order_by("expires_at")[:5]
    )
    return panel


def search_q(text: str) -> Q:
    text = text.strip()
    return (
        Q(child__name__contains=text)
        | Q(user__display_name__contains=text)
        | Q(user__username__icontains=text)
    )
