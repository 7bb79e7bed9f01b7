"""/api/v1/auth: bearer tokens for programs — issue, list and revoke one's own."""

import datetime as dt

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from guanai.lib.bounds import Id, Pages

from .models import ApiToken, RevokeReason
from .permissions import client_ip
from .services import SecondFactorLocked, check_totp, has_confirmed_totp, revoke_token

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None
    name: str = Field("", max_length=100, description="a label for the token, e.g. the program")


class TokenIssuedOut(Schema):
    token: str
    id: int
    expires_at: dt.datetime


class TokenOut(Schema):
    """A token as listed: never its secret, which is shown once when issued."""

    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime


@router.post("/token", auth=None, response={200: TokenIssuedOut})
def issue_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password (and `otp` once TOTP is enrolled) for a bearer token
    that expires after GUANAI_TOKEN_DAYS. Lockout rules apply to both."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        if getattr(request, "axes_locked_out", False):
            raise HttpError(429, "登录失败次数过多，已锁定 15 分钟")
        raise HttpError(401, "用户名或密码不正确")
    if has_confirmed_totp(user):
        try:
            ok = check_totp(user=user, code=payload.otp, ip=client_ip(request))
        except SecondFactorLocked as exc:
            raise HttpError(429, str(exc)) from exc
        if not ok:
            raise HttpError(
                401,
                "该账号已启用动态口令：请在 otp 字段提供认证器上最新的 6 位数字"
                + ("（口令不正确或已使用过）" if payload.otp else ""),
            )
    key = ApiToken.issue(user, name=payload.name.strip())
    token = ApiToken.objects.get(key_hash=ApiToken.digest(key))
    return {"token": key, "id": token.pk, "expires_at": token.expires_at}


@router.get("/tokens", response=list[TokenOut])
@paginate(Pages, page_size=50)
def list_tokens(request: HttpRequest):
    """The caller's own tokens that still work (neither expired nor revoked)."""
    return ApiToken.objects.live().filter(user=request.auth).order_by("id")


@router.delete("/tokens/{token_id}", response={204: None})
def delete_token(request: HttpRequest, token_id: Id):
    """Revoke one of the caller's tokens (the one in use included)."""
    token = get_object_or_404(ApiToken.objects.live().filter(user=request.auth), pk=token_id)
    revoke_token(token=token, by=request.auth, reason=RevokeReason.OWNER)
    return Status(204, None)


# --- access beyond one's role (accounts/access_requests.py) -----------------------------------


class AccessRequestIn(Schema):
    child_id: Id
    kind: str = Field(
        description="id_number（完整身份证号）、health（健康状况）或 psych（心理状况）"
    )
    reason: str = Field(max_length=500)
    hours: int = Field(24, le=2**31 - 1, description="1 至 168 小时，默认 24")


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=200, description="不批准时必填")
    hours: int | None = Field(None, le=2**31 - 1, description="批准时长，1 至 168 小时；不填按申请")


class EmergencyIn(Schema):
    child_id: Id
    reason: str = Field(max_length=500, description="至少 10 个字")


class AccessRequestOut(Schema):
    """A request as its requester, its deciders and (emergencies) its reviewers see it: the
    child's name, never its data."""

    id: int
    reference: str
    child_id: int
    child_name: str = Field(alias="child.name")
    requester: str = Field(alias="user.username")
    kind: str
    reason: str
    hours: int
    emergency: bool
    status: str
    note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    expires_at: dt.datetime | None
    live: bool = Field(alias="is_live")
    reviewed_at: dt.datetime | None


@router.get("/access-requests", response=list[AccessRequestOut])
@paginate(Pages, page_size=50)
def list_access_requests(request: HttpRequest):
    """The caller's own access requests, newest first."""
    from . import access_requests as svc

    return svc.my_requests(request.auth).select_related("user", "child")


@router.get("/access-requests/inbox", response=list[AccessRequestOut])
@paginate(Pages, page_size=50)
def inbox_access_requests(request: HttpRequest):
    """Pending requests a school leader may decide (the children of her schools, never her
    own), oldest first. Others: 403."""
    from . import access_requests as svc
    from . import scope

    if not (request.auth.is_superuser or scope.units(request.auth, "approve_access")):
        raise HttpError(403, "只有校领导审批访问申请")
    return (
        svc.decidable(request.auth).pending().select_related("user", "child").order_by("created_at")
    )


@router.post("/access-requests", response={201: AccessRequestOut})
def create_access_request(request: HttpRequest, payload: AccessRequestIn):
    """Ask, for a child in one's scope, for the full ID number, health or psychology section
    with a reason; a leader of the child's school decides."""
    from guanai.children.models import Child

    from . import access_requests as svc

    if not svc.may_request(request.auth):  # before the body (guanai/api.py)
        raise HttpError(403, "您的角色不能申请查看")
    child = get_object_or_404(Child.objects.visible_to(request.auth, "view"), pk=payload.child_id)
    made = svc.request_access(
        user=request.auth,
        child=child,
        kind=payload.kind,
        reason=payload.reason,
        hours=payload.hours,
    )
    return Status(201, made)


@router.post("/access-requests/{request_id}/decision", response=AccessRequestOut)
def decide_access_request(request: HttpRequest, request_id: Id, payload: DecisionIn):
    """Approve (for `hours`, default as asked) or refuse (with a `note`) a pending request of
    a child of one's school. A read-only role: 403; a request one may not decide: 404."""
    from . import access_requests as svc

    if request.auth.is_read_only:  # before the body (guanai/api.py)
        raise HttpError(403, "督导员为只读角色，不能审批访问申请")
    # Anyone else: a request she may not decide is not found (not a leader of its school).
    item = get_object_or_404(svc.decidable(request.auth), pk=request_id)
    return svc.decide(
        request=item,
        by=request.auth,
        approve=payload.approve,
        note=payload.note,
        hours=payload.hours,
    )


@router.post("/emergency-access", response={201: AccessRequestOut})
def create_emergency_access(request: HttpRequest, payload: EmergencyIn):
    """Break-the-glass: an inspector or town administrator opens a child of his town (ID
    number, health, psychology) for 2 hours, stating why (≥ 10 characters). Logged as 紧急查看
    and listed for the school's leaders and the auditor."""
    from guanai.children.models import Child

    from . import access_requests as svc
    from . import scope

    if not scope.units(request.auth, "break_glass"):  # before the body (guanai/api.py)
        raise HttpError(403, "只有督导员和镇管理员可以紧急查看")
    child = get_object_or_404(
        Child.objects.visible_to(request.auth, "view").select_related("school"),
        pk=payload.child_id,
    )
    if not svc.may_break_glass(request.auth, child):
        raise HttpError(404, "未找到")
    return Status(
        201, svc.break_glass(user=request.auth, child=child, reason=payload.reason, http=request)
    )


@router.get("/emergency-access", response=list[AccessRequestOut])
@paginate(Pages, page_size=50)
def list_emergency_access(request: HttpRequest):
    """Emergency openings to review: a leader's schools, an auditor's town; the caller's own
    openings for an inspector or town administrator."""
    from . import access_requests as svc
    from . import scope

    user = request.auth
    if scope.units(user, "review_emergency") or user.is_superuser:
        qs = svc.emergencies_for(user)
    else:
        qs = svc.my_requests(user).filter(emergency=True)
    return qs.select_related("user", "child").order_by("reviewed_at", "-created_at", "-id")
