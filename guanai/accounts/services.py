"""Access logging, user set-up, API tokens and the second factor."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLog, ApiToken, RevokeReason, RoleAssignment, TOTPFailure, User


def log_access(
    *,
    request: HttpRequest | None,
    user: User | None,
    action: str,
    child=None,
    school=None,
    detail: str = "",
) -> AccessLog:
    """Write one access-log row: who saw or exported whose data. The row extends the hash
    chain inside a transaction that holds the chain (AccessLog.save, accounts/audit.py)."""
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        username=getattr(user, "username", "") or "命令行",
        action=action,
        child=child,
        school=school or getattr(child, "school", None),
        detail=detail[:200],
        ip=request.META.get("REMOTE_ADDR") if request else None,
    )


@transaction.atomic
def create_user(
    *, username: str, password: str, display_name: str = "", roles: list[dict] | None = None
) -> User:
    """Create a user with role assignments ({role, town, school, grade, school_class})."""
    user = User.objects.create_user(username=username, password=password, display_name=display_name)
    for spec in roles or []:
        RoleAssignment.objects.create(user=user, **spec)
    return user


def has_confirmed_totp(user: User) -> bool:
    from .models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def start_totp_enrolment(*, user: User) -> tuple[str, str]:
    """Create (or restart) an unconfirmed TOTP device; returns (secret, otpauth URI)."""
    import pyotp

    from guanai.lib import crypto

    from .models import TOTPDevice

    secret = pyotp.random_base32()
    TOTPDevice.objects.update_or_create(
        user=user,
        defaults={"secret_enc": crypto.encrypt(secret), "confirmed_at": None, "last_counter": 0},
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="关爱 Guanai")
    return secret, uri


@transaction.atomic
def confirm_totp(*, user: User, code: str) -> bool:
    """Confirm enrolment with a first valid code; the user's API tokens are revoked."""
    from .models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None or not device.verify(code):
        return False
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    # Tokens issued on the password alone must not outlive the stronger login.
    revoke_tokens(user=user, reason=RevokeReason.TOTP)
    return True


def verify_totp(*, user: User, code: str | None) -> bool:
    from .models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    return device is not None and device.verify(code or "")


# --- second-factor lockout ------------------------------------------------------------------


class SecondFactorLocked(Exception):
    """Too many wrong TOTP codes for this user from this address: even the right one waits."""


def totp_locked_until(*, user: User, ip: str | None) -> dt.datetime | None:
    """When the lock on (user, address) ends, or None. Locked for AXES_COOLOFF_TIME after
    the AXES_FAILURE_LIMIT-th wrong code within AXES_COOLOFF_TIME — the rule django-axes
    applies to passwords, per username and address, so one router never locks a school."""
    limit, cooloff = settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME
    recent = list(
        TOTPFailure.objects.filter(user=user, ip=ip)
        .order_by("-at", "-id")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit or recent[0] - recent[-1] > cooloff:
        return None
    until = recent[0] + cooloff
    return until if timezone.now() < until else None


def check_totp(*, user: User, code: str | None, ip: str | None) -> bool:
    """Verify a login's TOTP code, counting wrong ones per user and address.

    Raises SecondFactorLocked while locked, whatever the code. A missing code is not a guess
    and is not counted; a right code clears the count, as a good password does in axes.
    """
    if totp_locked_until(user=user, ip=ip):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise SecondFactorLocked(
            f"动态口令连续错误 {settings.AXES_FAILURE_LIMIT} 次：该账号的动态口令在此地址"
            f"已锁定 {minutes} 分钟，锁定期间正确的口令也不能使用，请稍后再试。"
        )
    if not (code or "").strip():
        return False
    if verify_totp(user=user, code=code):
        TOTPFailure.objects.filter(user=user, ip=ip).delete()
        return True
    now = timezone.now()
    TOTPFailure.objects.create(user=user, ip=ip, at=now)
    # Rows older than two periods can no longer take part in any lock.
    stale = now - 2 * settings.AXES_COOLOFF_TIME
    TOTPFailure.objects.filter(user=user, at__lt=stale).delete()
    return False


# --- API tokens -----------------------------------------------------------------------------


class TokenRejected(Exception):
    """A token that exists but no longer opens the API; the message says why, in Chinese."""


def authenticate_token(*, key: str) -> User | None:
    """The user a bearer token stands for; None for an unknown token. An expired or revoked
    token, or one of a deactivated account, raises TokenRejected."""
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.digest(key)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(f"令牌已失效（{token.get_revoked_reason_display()}），请重新申请令牌")
    if token.expires_at <= now:
        raise TokenRejected("令牌已过期，请重新申请令牌")
    if not token.user.is_active:
        raise TokenRejected("账号已停用，令牌不能再使用")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(*, token: ApiToken, by: User, reason: str) -> None:
    """Revoke one token; the row stays as the record of who ended it and when."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason, revoked_by=by
    )


def revoke_tokens(*, user: User, reason: str, by: User | None = None) -> int:
    """Revoke every live token of `user` (password change, deactivation, TOTP enrolment)."""
    return (
        ApiToken.objects.live()
        .filter(user=user)
        .update(revoked_at=timezone.now(), revoked_reason=reason, revoked_by=by)
    )
