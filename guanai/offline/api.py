"""/api/v1/offline: the offline packet for the phone app, its session key, the outbox key and a
visit's photos sent from the outbox (mounted in guanai/api.py). See docs/offline.md."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from ninja import Field, File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from guanai.lib.bounds import Id

from . import packet as packets
from . import services

router = Router(tags=["offline"])


class KeyOut(Schema):
    key: str = Field(
        description="本次登录的离线资料加密密钥（AES-256-GCM，Base64），退出登录即失效"
    )
    user: str
    idle_minutes: int = Field(
        description="闲置多少分钟后手机上的离线资料上锁并清除（GUANAI_OFFLINE_IDLE_MINUTES）"
    )


class OutboxKeyOut(Schema):
    key: str = Field(
        description="本人待同步区（未上传的记录）的加密密钥（AES-256-GCM，Base64），长期不变"
    )
    user: str


class PhotoOut(Schema):
    id: int
    contact: int


def _may_log(user: Any) -> None:
    """The packet is for logging visits: read-only roles (督导员) log nothing."""
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能离线登记联系记录")


@router.get("/packet")
def get_packet(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's own children with what a visit needs (name, class, home, guardian,
    phones, last three contacts, open follow-ups, due rules, whether the guardian agreed to
    photos) — never an ID number, 学籍号, health or psychology. Each fetch is written to the
    access log."""
    _may_log(request.user)
    return packets.packet(request)


@router.get("/key", response=KeyOut)
def get_key(request: HttpRequest):
    """The key the phone encrypts its stored packet with; held by the login session, so it is
    gone after logout or the idle timeout. A 401 here tells the app to wipe what it stored.
    The answer also sets the CSRF cookie the outbox's POSTs need: the browser may have lost it
    while the session cookie lived on."""
    _may_log(request.user)
    get_token(request)
    return {
        "key": packets.session_key(request),
        "user": request.user.username,
        "idle_minutes": services.idle_minutes(),
    }


@router.get("/outbox-key", response=OutboxKeyOut)
def get_outbox_key(request: HttpRequest):
    """The signed-in user's own outbox key: the phone encrypts the visits it has not yet sent
    with it and keeps it in sessionStorage only, so after the tab is closed the outbox stays
    locked until the next online opening with a login. The same key for every login."""
    _may_log(request.user)
    return {"key": services.outbox_key(user=request.user), "user": request.user.username}


@router.post("/contacts/{contact_id}/photos", response={200: PhotoOut, 201: PhotoOut})
def post_photo(request: HttpRequest, contact_id: Id, photo: File[UploadedFile]):
    """A photo of a visit the user logged herself (multipart field `photo`, JPEG or PNG, at
    most 5 MB), sent from the phone's outbox after the visit was created; only with the
    guardian's photo consent on the card. A repeated `Idempotency-Key` answers the first photo
    (200) and stores nothing; the same key for another photo answers 409."""
    _may_log(request.user)
    contact = get_object_or_404(services.photo_targets(request.user), pk=contact_id)
    try:
        stored, created = services.add_visit_photo(
            contact=contact,
            by=request.user,
            upload=photo,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
    except services.PhotoKeyConflict:
        raise HttpError(409, "这个 Idempotency-Key 已用于另一张照片") from None
    return Status(201 if created else 200, {"id": stored.pk, "contact": contact.pk})
