"""Attachments: photos and documents on checklist items and 整改 items — an upload recognised
by its bytes (a photo re-encoded, a document read by documents.py), stored, taken off."""

from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction

from guanai.lib.errors import Invalid
from guanai.lib.photos import PhotoError, reencode_photo
from guanai.org.models import School

from . import documents
from .models import (
    Attachment,
    AttachmentKind,
    ChecklistItem,
    ItemStatus,
    Rectification,
    Status,
)

MAX_FILES = 5  # in one upload


MAX_ATTACHMENTS = 20  # on one checklist item or 整改 item


IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True)
class Prepared:
    kind: str  # an AttachmentKind value
    name: str  # shown and downloaded under
    content: ContentFile


def prepare_files(files: list, *, field: str = "files") -> list[Prepared]:
    """Uploads of a photo (JPEG/PNG, decoded and re-encoded by lib.photos) or a document (PDF,
    .docx, .xlsx, recognised by its bytes: documents.read_document), at most 10 MB each and
    MAX_FILES at once. Raises Invalid({field: 中文}) naming the file."""
    if len(files) > MAX_FILES:
        raise Invalid({field: f"一次最多上传 {MAX_FILES} 个文件"})
    out = []
    for upload in files:
        name = (upload.name or "")[:200]
        if upload.size is not None and upload.size > documents.MAX_BYTES:
            raise Invalid({field: f"文件“{name[:40]}”超过 {documents.MAX_BYTES // 2**20} MB"})
        head = upload.read(8)
        upload.seek(0)
        try:
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if head.startswith(IMAGE_MAGIC) and ext in documents.EXTENSIONS:
                label = documents.KINDS[ext][2]
                raise documents.DocumentError(f"文件“{name[:40]}”是照片，不是真正的 {label} 文件")
            if head.startswith(IMAGE_MAGIC):
                photo = reencode_photo(upload, name=name)
                out.append(
                    Prepared(
                        AttachmentKind.PHOTO,
                        f"{documents.clean_stem(name)}.{photo.ext}",
                        ContentFile(photo.data, name=f"x.{photo.ext}"),
                    )
                )
            else:
                doc = documents.read_document(upload, name=name, size=upload.size)
                out.append(
                    Prepared(doc.kind, doc.name, ContentFile(doc.data, name=f"x.{doc.kind}"))
                )
        except (PhotoError, documents.DocumentError) as exc:
            raise Invalid({field: str(exc)}) from exc
    return out


def _store(prepared: list[Prepared], *, school: School, by, **owner) -> list[Attachment]:
    return [
        Attachment.objects.create(
            school=school,
            kind=p.kind,
            name=p.name[:100],
            size=p.content.size,
            file=p.content,
            uploaded_by=by,
            **owner,
        )
        for p in prepared
    ]


@transaction.atomic
def attach_to_item(*, item: ChecklistItem, files: list, by) -> list[Attachment]:
    """Files on a checklist item of an inspection not yet closed (the activity plan, the
    meeting photo, a scanned 台账 page)."""
    inspection = item.inspection
    if inspection.status == Status.CLOSED:
        raise Invalid({"files": "检查已结束，不能再添加附件"})
    if not files:
        raise Invalid({"files": "请选择要上传的文件"})
    if item.attachments.count() + len(files) > MAX_ATTACHMENTS:
        raise Invalid({"files": f"每个检查项目最多 {MAX_ATTACHMENTS} 个附件"})
    prepared = prepare_files(files)
    return _store(prepared, school=inspection.school, by=by, checklist_item=item)


@transaction.atomic
def attach_evidence(*, item: Rectification, files: list, by) -> list[Attachment]:
    """Evidence files on a 整改 item not yet closed: documents (PDF, .docx, .xlsx) and photos."""
    if item.status == ItemStatus.CLOSED:
        raise Invalid({"files": "已销号的整改事项不能再修改"})
    if not files:
        raise Invalid({"files": "请选择要上传的文件"})
    if item.files.count() + item.photos.count() + len(files) > MAX_ATTACHMENTS:
        raise Invalid({"files": f"每个整改事项最多 {MAX_ATTACHMENTS} 个附件"})
    prepared = prepare_files(files)
    return _store(prepared, school=item.school, by=by, rectification=item)


@transaction.atomic
def remove_attachment(*, attachment: Attachment, by) -> None:
    """Take a file off its item (a wrong upload) while the inspection or item is open."""
    item = attachment.checklist_item
    if item is not None and item.inspection.status == Status.CLOSED:
        raise Invalid({"files": "检查已结束，不能再删除附件"})
    if (
        attachment.rectification is not None
        and attachment.rectification.status == ItemStatus.CLOSED
    ):
        raise Invalid({"files": "已销号的整改事项不能再修改"})
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))  # the row first: never a dangling row
