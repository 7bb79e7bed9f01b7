"""整改 items (rectifications): raising one for a person of the inspected school, reporting it
done with evidence (text, photos, files), and closing it (销号)."""

import datetime as dt
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from guanai.lib.errors import Invalid
from guanai.lib.photos import PhotoError, reencode_photo
from guanai.org.models import School
from guanai.pairing.services import school_staff

from .attachments import attach_evidence
from .models import (
    ChecklistItem,
    EvidencePhoto,
    Finding,
    Inspection,
    ItemStatus,
    Rectification,
)


@transaction.atomic
def raise_item(
    *,
    inspection: Inspection | None,
    school: School,
    title: str,
    owner,
    due_on: dt.date,
    by,
    finding: Finding | None = None,
    checklist_item: ChecklistItem | None = None,
) -> Rectification:
    """A 整改 item for a person of the school, from an inspection (or on its own)."""
    errors = {}
    if not title.strip():
        errors["title"] = "整改事项不能为空"
    if not school_staff(school).filter(pk=owner.pk).exists():
        errors["owner"] = "责任人应为该校的教职工"
    if errors:
        raise Invalid(errors)
    return Rectification.objects.create(
        school=school,
        inspection=inspection,
        finding=finding,
        checklist_item=checklist_item,
        title=title.strip(),
        owner=owner,
        due_on=due_on,
        created_by=by,
    )


MAX_PHOTO_BYTES = 5 * 2**20


MAX_PHOTOS = 5


def prepare_photos(photos: list) -> list[ContentFile]:
    """Evidence photos: JPEG or PNG, at most 5 MB and 5 of them, each decoded and re-encoded
    (lib.photos) so what is stored and served is an image the app made. Raises Invalid."""
    if len(photos) > MAX_PHOTOS:
        raise Invalid({"photos": f"一次最多上传 {MAX_PHOTOS} 张照片"})
    out = []
    for upload in photos:
        if upload.size > MAX_PHOTO_BYTES:
            raise Invalid({"photos": f"照片“{(upload.name or '')[:40]}”超过 5 MB"})
        try:
            photo = reencode_photo(upload, name=upload.name or "")
        except PhotoError as exc:
            raise Invalid({"photos": str(exc)}) from exc
        out.append(ContentFile(photo.data, name=f"{uuid.uuid4().hex}.{photo.ext}"))
    return out


@transaction.atomic
def mark_done(
    *,
    item: Rectification,
    evidence: str,
    by,
    photos: list | None = None,
    files: list | None = None,
) -> Rectification:
    """The owner (or a leader of the school) reports the item done, with evidence: text and
    optional photos and files (documents or photos)."""
    if item.status == ItemStatus.CLOSED:
        raise Invalid({"status": "已销号的整改事项不能再修改"})
    if not evidence.strip():
        raise Invalid({"evidence": "请填写整改情况"})
    for content in prepare_photos(photos or []):
        EvidencePhoto.objects.create(item=item, file=content)
    if files:
        attach_evidence(item=item, files=files, by=by)
    item.status = ItemStatus.DONE
    item.evidence = evidence.strip()
    item.done_at = timezone.now()
    item.save(update_fields=["status", "evidence", "done_at", "updated_at"])
    return item


@transaction.atomic
def close_item(*, item: Rectification, by) -> Rectification:
    """The inspectors close (销号) an item reported done."""
    if item.status != ItemStatus.DONE:
        raise Invalid({"status": "整改完成并提交整改情况后才能销号"})
    item.status = ItemStatus.CLOSED
    item.closed_by = by
    item.closed_at = timezone.now()
    item.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    return item
