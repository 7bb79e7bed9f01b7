"""The offline app's workflows: the outbox key and a visit's photo sent from the outbox."""

import base64
import hashlib
import secrets

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.contacts.models import Contact, ContactPhoto
from guanai.contacts.services import prepare_photos
from guanai.lib import crypto

from .models import OutboxKey, PhotoReceipt

# A village walk between houses is longer than the web session's idle limit.
DEFAULT_IDLE_MINUTES = 120


class PhotoKeyConflict(Exception):
    """An Idempotency-Key already used by this user for another photo or another visit."""


def idle_minutes() -> int:
    """After how long without a touch the phone locks its packet (GUANAI_OFFLINE_IDLE_MINUTES)."""
    return int(getattr(settings, "GUANAI_OFFLINE_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))


@transaction.atomic
def outbox_key(*, user: User) -> str:
    """The user's outbox key (AES-256, Base64), made on first ask and never changed: what the
    phone encrypted with it must be readable after any later login."""
    row = OutboxKey.objects.select_for_update().filter(user=user).first()
    if row is None:
        raw = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            with transaction.atomic():
                row = OutboxKey.objects.create(user=user, key_encrypted=crypto.encrypt(raw))
        except IntegrityError:  # a second tab asked at the same moment: its key stands
            row = OutboxKey.objects.get(user=user)
    return crypto.decrypt(row.key_encrypted)


def photo_targets(user: User) -> QuerySet[Contact]:
    """The contacts `user` may add a photo to: the ones she logged herself, of children she may
    still contact. Anything else is not found."""
    children = Child.objects.visible_to(user, "contact").values("pk")
    return Contact.objects.filter(by=user, child__in=children).select_related("child")


def _digest(contact: Contact, upload: UploadedFile) -> str:
    h = hashlib.sha256(f"{contact.pk}:".encode())
    for chunk in upload.chunks():
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()


@transaction.atomic
def add_visit_photo(
    *, contact: Contact, by: User, upload: UploadedFile, idempotency_key: str
) -> tuple[ContactPhoto, bool]:
    """Store one photo of a visit sent from the phone's outbox, with the card's photo consent
    and the checks of the web form (`contacts.services.prepare_photos`: JPEG or PNG, at most
    5 MB, re-encoded). The same key again answers the first photo (created=False); the same key
    for another photo or visit raises PhotoKeyConflict. Raises CardInvalid ({"photo": …})."""
    key = (idempotency_key or "").strip()
    if not key:
        raise CardInvalid({"Idempotency-Key": "请带上 Idempotency-Key，重发时才不会重复保存照片"})
    if len(key) > 100:
        raise CardInvalid({"Idempotency-Key": "不能超过 100 个字符"})
    digest = _digest(contact, upload)
    first = _replay(by=by, key=key, digest=digest)
    if first is not None:
        return first, False
    try:
        (stored,) = prepare_photos(contact.child, [upload])
    except CardInvalid as exc:
        raise CardInvalid({"photo": next(iter(exc.errors.values()))}) from None
    photo = None
    try:
        with transaction.atomic():
            photo = ContactPhoto.objects.create(contact=contact, file=stored)
            PhotoReceipt.objects.create(by=by, key=key, digest=digest, photo=photo)
    except IntegrityError:
        # A concurrent resend with the same key won the race: answer its photo.
        if photo is not None and photo.file:
            default_storage.delete(photo.file.name)
        first = _replay(by=by, key=key, digest=digest)
        if first is None:
            raise
        return first, False
    return photo, True


def _replay(*, by: User, key: str, digest: str) -> ContactPhoto | None:
    receipt = PhotoReceipt.objects.filter(by=by, key=key).select_related("photo").first()
    if receipt is None:
        return None
    if receipt.digest != digest:
        raise PhotoKeyConflict(key)
    return receipt.photo
