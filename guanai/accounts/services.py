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
