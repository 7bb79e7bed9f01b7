"""Decorators for pages by role. Data scope is never decided here: see Child.objects.visible_to."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def town_admin_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_town_admin:
            raise PermissionDenied("只有镇管理员可以使用此功能")
        return view(request, *args, **kwargs)

    return wrapper


def writer_required(view: Callable) -> Callable:
    """Refuse read-only roles (督导员) with 403 before any write."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.is_read_only:
            raise PermissionDenied("督导员为只读角色，不能修改数据")
        return view(request, *args, **kwargs)

    return wrapper


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as django-axes sees it (GUANAI_PROXY_COUNT proxies skipped), so
    every lockout keys on the same address."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)
