"""POST /api/v1/auth/token: a bearer token for programs."""

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from .models import ApiToken
from .services import has_confirmed_totp, verify_totp

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str


@router.post("/token", auth=None, response={200: TokenOut})
def issue_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (lockout rules apply)."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        if getattr(request, "axes_locked_out", False):
            raise HttpError(429, "登录失败次数过多，已锁定 15 分钟")
        raise HttpError(401, "用户名或密码不正确")
    if has_confirmed_totp(user) and not verify_totp(user=user, code=payload.otp):
        raise HttpError(401, "该账号已启用动态口令：请在 otp 字段提供认证器上的 6 位数字")
    return {"token": ApiToken.issue(user)}
