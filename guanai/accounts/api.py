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
