"""/api/v1/rectifications: 整改 items — list, raise from an inspection, one item, report it done,
close it (销号), and its evidence files. Reading follows `Rectification.objects.visible_to` (the
town's, a leader's school's, one's own); the owner or a leader of the school reports.

Operation ids are those the routes had in api.py, so clients generated from the schema keep
their names."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, FilterSchema, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.api_common import ErrorsOut
from guanai.lib.bounds import Id, Pages
from guanai.lib.errors import Invalid

from . import attachments, rectifications, services
from .api import AttachmentOut, attachment_out
from .models import Attachment, Inspection, ItemStatus, Rectification

rectifications_router = Router(tags=["rectifications"])


class ItemOut(Schema):
    id: int
    school: str
    inspection: int | None
    finding: int | None
    checklist_item: int | None
    title: str
    owner: int
    owner_name: str
    due_on: dt.date
    status: str
    overdue: bool
    evidence: str
    files: list[AttachmentOut] = Field(description="证明材料（文件和照片）")

    @staticmethod
    def resolve_files(obj: Rectification) -> list[dict[str, Any]]:
        return [
            attachment_out(a, f"/api/v1/rectifications/{obj.pk}/files/{a.pk}")
            for a in obj.files.all()
        ]

    @staticmethod
    def resolve_school(obj: Rectification) -> str:
        return obj.school.code

    @staticmethod
    def resolve_inspection(obj: Rectification) -> int | None:
        return obj.inspection_id

    @staticmethod
    def resolve_finding(obj: Rectification) -> int | None:
        return obj.finding_id

    @staticmethod
    def resolve_checklist_item(obj: Rectification) -> int | None:
        return obj.checklist_item_id

    @staticmethod
    def resolve_owner(obj: Rectification) -> int:
        return obj.owner_id

    @staticmethod
    def resolve_owner_name(obj: Rectification) -> str:
        return str(obj.owner)

    @staticmethod
    def resolve_overdue(obj: Rectification) -> bool:
        from django.utils import timezone

        return obj.status == ItemStatus.OPEN and obj.due_on < timezone.localdate()


class ItemIn(Schema):
    model_config = ConfigDict(extra="forbid")
    inspection: Id
    title: str = Field(..., max_length=200)
    owner: Id
    due_on: dt.date
    finding: Id | None = None
    checklist_item: Id | None = None


class ItemFilter(FilterSchema):
    school: str | None = None
    status: Literal["open", "done", "closed"] | None = None
    inspection: Id | None = None


def _items(request: HttpRequest) -> QuerySet[Rectification]:
    return (
        Rectification.objects.visible_to(request.user)
        .select_related("school", "owner")
        .prefetch_related("files")
    )


@rectifications_router.get("", response=list[ItemOut])
@paginate(Pages, page_size=50)
def list_items(request: HttpRequest, filters: Query[ItemFilter]):
    """整改 items in the user's scope (the town's, a leader's school's, one's own), by id."""
    qs = _items(request)
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.inspection is not None:
        qs = qs.filter(inspection_id=filters.inspection)
    return qs.order_by("id")


@rectifications_router.post("", response={201: ItemOut, 422: ErrorsOut})
def raise_item(request: HttpRequest, payload: ItemIn):
    """Raise an item from an inspection, owned by a person of the inspected school."""
    services.check_inspect(request.user)  # before the body (guanai/api.py)
    inspection = get_object_or_404(
        Inspection.objects.inspectable_by(request.user), pk=payload.inspection
    )
    owner = User.objects.filter(pk=payload.owner).first()
    finding = None
    if payload.finding is not None:
        finding = inspection.findings.filter(pk=payload.finding).first()
        if finding is None:
            raise Invalid({"finding": "不是本次检查的走访结果"})
    checklist_item = None
    if payload.checklist_item is not None:
        checklist_item = inspection.checklist.filter(pk=payload.checklist_item).first()
        if checklist_item is None:
            raise Invalid({"checklist_item": "不是本次检查的检查项目"})
    if owner is None:
        raise Invalid({"owner": "没有这个人员"})
    item = rectifications.raise_item(
        inspection=inspection,
        school=inspection.school,
        title=payload.title,
        owner=owner,
        due_on=payload.due_on,
        finding=finding,
        checklist_item=checklist_item,
        by=request.user,
    )
    return Status(201, item)


@rectifications_router.get("/{item_id}", response=ItemOut)
def item_detail(request: HttpRequest, item_id: Id):
    return get_object_or_404(_items(request), pk=item_id)


class DoneIn(Schema):
    model_config = ConfigDict(extra="forbid")
    evidence: str = Field(..., max_length=4000)


@rectifications_router.post(
    "/{item_id}/done",
    response={200: ItemOut, 422: ErrorsOut},
)
def item_done(request: HttpRequest, item_id: Id, payload: DoneIn):
    """The owner, or a leader of the school, reports the item done with evidence."""
    item = get_object_or_404(_items(request), pk=item_id)
    _may_report(request, item)
    return rectifications.mark_done(item=item, evidence=payload.evidence, by=request.user)


@rectifications_router.post(
    "/{item_id}/close",
    response={200: ItemOut, 422: ErrorsOut},
)
def item_close(request: HttpRequest, item_id: Id):
    """The inspectors close (销号) an item reported done."""
    item = get_object_or_404(_items(request), pk=item_id)
    if not scope.schools(request.user, "inspect").filter(pk=item.school_id).exists():
        raise PermissionDenied("只有镇管理员和督导员可以销号")
    return rectifications.close_item(item=item, by=request.user)


def _may_report(request: HttpRequest, item: Rectification) -> None:
    """403 unless the user owns the item or leads its school."""
    leads = scope.schools(request.user, "lead_school").filter(pk=item.school_id).exists()
    if item.owner_id != request.user.pk and not leads:
        raise PermissionDenied("只有责任人或校领导可以提交整改情况")


@rectifications_router.get(
    "/{item_id}/files",
    response=list[AttachmentOut],
)
def list_files(request: HttpRequest, item_id: Id):
    item = get_object_or_404(_items(request), pk=item_id)
    return [
        attachment_out(a, f"/api/v1/rectifications/{item.pk}/files/{a.pk}")
        for a in item.files.all()
    ]


@rectifications_router.post(
    "/{item_id}/files",
    response={201: list[AttachmentOut], 422: ErrorsOut},
)
def add_files(request: HttpRequest, item_id: Id, files: File[list[UploadedFile]]):
    """Evidence files on a 整改 item — documents (PDF, .docx, .xlsx, recognised by their bytes)
    or photos (re-encoded); 10 MB each, 5 at once; multipart, field `files`. The owner or a
    leader of the school, until the item is closed."""
    item = get_object_or_404(_items(request), pk=item_id)
    _may_report(request, item)  # before the body (guanai/api.py)
    added = attachments.attach_evidence(item=item, files=list(files), by=request.user)
    return Status(
        201,
        [attachment_out(a, f"/api/v1/rectifications/{item.pk}/files/{a.pk}") for a in added],
    )


@rectifications_router.get(
    "/{item_id}/files/{file_id}",
    response={200: None},
)
def download_file(request: HttpRequest, item_id: Id, file_id: Id):
    """The file itself (logged)."""
    from .views_attachments import serve_attachment

    item = get_object_or_404(_items(request), pk=item_id)
    attachment = get_object_or_404(
        Attachment.objects.select_related("school", "rectification"), rectification=item, pk=file_id
    )
    return serve_attachment(request, attachment)
