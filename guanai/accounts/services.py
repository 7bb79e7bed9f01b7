"""Access logging and user set-up."""

from django.db import transaction
from django.http import HttpRequest

from .models import AccessLog, RoleAssignment, User


def log_access(
    *,
    request: HttpRequest | None,
    user: User | None,
    action: str,
    child=None,
    school=None,
    detail: str = "",
) -> AccessLog:
    """Write one access-log row: who saw or exported whose data."""
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
    """Confirm enrolment with a first valid code."""
    from django.utils import timezone

    from .models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None or not device.verify(code):
        return False
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    return True


def verify_totp(*, user: User, code: str | None) -> bool:
    from .models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    return device is not None and device.verify(code or "")
