"""/api/v1/offline: the offline packet for the phone app and its session key (mounted in
guanai/api.py). See docs/offline.md."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Router, Schema

from . import packet as packets

router = Router(tags=["offline"])


class KeyOut(Schema):
    key: str = Field(
        description="本次登录的离线资料加密密钥（AES-256-GCM，Base64），退出登录即失效"
    )
    user: str
    idle_minutes: int = Field(
        description="闲置多少分钟后手机上的离线资料上锁并清除（与登录会话相同）"
    )


def _may_log(user: Any) -> None:
    """The packet is for logging visits: read-only roles (督导员) log nothing."""
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能离线登记联系记录")


@router.get("/packet")
def get_packet(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's own children with what a visit needs (name, class, home, guardian,
    phones, last three contacts, open follow-ups, due rules) — never an ID number, 学籍号,
    health or psychology. Each fetch is written to the access log."""
    _may_log(request.user)
    return packets.packet(request)


@router.get("/key", response=KeyOut)
def get_key(request: HttpRequest):
    """The key the phone encrypts its stored packet with; held by the login session, so it is
    gone after logout or the idle timeout. A 401 here tells the app to wipe what it stored."""
    _may_log(request.user)
    return {
        "key": packets.session_key(request),
        "user": request.user.username,
        "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
    }
