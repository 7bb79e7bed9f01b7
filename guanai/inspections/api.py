"""/api/v1 routes of the 督导检查 app: `router` (mounted at /api/v1/inspections), which also
carries the findings routes of api_findings.py; `rectifications_router` (/api/v1/rectifications)
is api_rectifications.py.

Reading an inspection: town administrators and inspectors (their town's schools), leaders of the
inspected school (the sample only once the inspection has started). Working on one — drawing,
findings, status — is the `inspect` action: 403 for any other role, 404 outside the town.
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, FilterSchema, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.errors import Invalid

from . import attachments, services
from .models import (
    Attachment,
    Inspection,
)

router = Router(tags=["inspections"])


class SampleOut(Schema):
    child: int
    child_name: str
    grade: int
    class_no: int
    category: str


class PersonOut(Schema):
    id: int
    name: str


class InspectionOut(Schema):
    id: int
    school: str
    school_name: str
    planned_on: dt.date
    status: str
    seed: str | None = Field(
        description="随机种子；与抽样一样，被检查学校在检查开始前看不到（null），以免据此推算名单"
    )
    sample_size: int
    drawn_on: dt.date
    eligible_count: int
    previous: int | None
    inspectors: list[PersonOut] = Field(description="检查人员：本镇的镇管理员和督导员")
    meeting_attendees: str = Field(description="教师座谈会参加人员")
    meeting_points: str = Field(description="教师座谈会提出的意见")
    sample: list[SampleOut] | None = Field(
        description="抽中的儿童；被检查学校的校领导在检查开始前看不到（null）"
    )


class InspectionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    planned_on: dt.date
    sample_size: int = Field(..., ge=-(2**31), le=2**31)
    seed: str | None = Field(None, max_length=100)
    previous: Id | None = Field(None, description="复查时，上次检查的编号")
    inspectors: list[Id] | None = Field(
        None,
        max_length=50,
        description="检查人员（本镇镇管理员、督导员的编号）；不填时为提交人本人",
    )


class InspectionPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    planned_on: dt.date | None = None
    inspectors: list[Id] | None = Field(None, max_length=50)
    previous: Id | None = Field(None, description="上次检查的编号；null 取消")
    meeting_attendees: str | None = Field(None, max_length=2000)
    meeting_points: str | None = Field(None, max_length=4000)


class InspectionFilter(FilterSchema):
    school: str | None = None
    status: Literal["planned", "in_progress", "reported", "closed"] | None = None


def sample_rows(inspections: list[Inspection]) -> dict[int, dict[str, Any]]:
    """The sampled children of several inspections, read in one query, by id."""
    ids = {pk for i in inspections for pk in i.sample}
    rows = Child.objects.filter(pk__in=ids).values(
        "id", "name", "school_class__grade", "school_class__class_no", "category"
    )
    return {
        r["id"]: {
            "child": r["id"],
            "child_name": r["name"],
            "grade": r["school_class__grade"],
            "class_no": r["school_class__class_no"],
            "category": r["category"],
        }
        for r in rows
    }


def may_inspect(user, inspection: Inspection) -> bool:
    return Inspection.objects.inspectable_by(user).filter(pk=inspection.pk).exists()


def inspection_out(
    inspection: Inspection, *, user, rows: dict | None = None, show: bool | None = None
) -> dict[str, Any]:
    """An inspection as the API shows it; the sample hidden (null) from the inspected school
    until the visit starts."""
    if show is None:
        show = inspection.sample_open or may_inspect(user, inspection)
    if rows is None:
        rows = sample_rows([inspection]) if show else {}
    return {
        "id": inspection.pk,
        "school": inspection.school.code,
        "school_name": inspection.school.name,
        "planned_on": inspection.planned_on,
        "status": inspection.status,
        "seed": inspection.seed if show else None,
        "sample_size": inspection.sample_size,
        "drawn_on": inspection.drawn_on,
        "eligible_count": len(inspection.eligible),
        "previous": inspection.previous_id,
        "inspectors": [{"id": u.pk, "name": str(u)} for u in inspection.inspectors.all()],
        "meeting_attendees": inspection.meeting_attendees,
        "meeting_points": inspection.meeting_points,
        "sample": [rows[pk] for pk in inspection.sample if pk in rows] if show else None,
    }


def _previous(request: HttpRequest, pk: int | None) -> Inspection | None:
    """The earlier inspection named in a body, among those the user inspects (the service
    checks it is of the same school)."""
    if pk is None:
        return None
    previous = Inspection.objects.inspectable_by(request.user).filter(pk=pk).first()
    if previous is None:
        raise Invalid({"previous": "没有这次检查"})
    return previous


def _people(ids: list[int] | None) -> list[User] | None:
    """The people named in a body (the service checks they inspect the school's town)."""
    if ids is None:
        return None
    people = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(people) != len(set(ids)):
        raise Invalid({"inspectors": "检查人员中有不存在的人员"})
    return people


def _visible(request: HttpRequest, pk: int) -> Inspection:
    qs = Inspection.objects.visible_to(request.user).select_related("school")
    return get_object_or_404(qs, pk=pk)


def _workable(request: HttpRequest, pk: int) -> Inspection:
    """An inspection the user may work on: 404 outside the scope, 403 for a reader."""
    inspection = _visible(request, pk)
    services.check_inspect(request.user)
    if not may_inspect(request.user, inspection):
        raise PermissionDenied("只有镇管理员和督导员可以进行督导检查")
    return inspection


@router.post("", response={201: InspectionOut, 422: ErrorsOut})
def create(request: HttpRequest, payload: InspectionIn):
    """Plan an inspection of a school and draw its sample (town administrators, inspectors)."""
    services.check_inspect(request.user)  # before the body (guanai/api.py)
    school = get_object_or_404(scope.schools(request.user, "inspect"), code=payload.school.strip())
    previous = _previous(request, payload.previous)
    inspection = services.create_inspection(
        inspectors=_people(payload.inspectors),
        previous=previous,
        school=school,
        planned_on=payload.planned_on,
        sample_size=payload.sample_size,
        seed=payload.seed,
        by=request.user,
    )
    return Status(201, inspection_out(inspection, user=request.user))


@router.get("", response=list[InspectionOut])
@paginate(Pages, page_size=50)
def list_inspections(request: HttpRequest, filters: Query[InspectionFilter]):
    """Inspections in the user's scope, ordered by id; filters `school` (code), `status`."""
    qs = (
        Inspection.objects.visible_to(request.user)
        .select_related("school")
        .prefetch_related("inspectors")
    )
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.status:
        qs = qs.filter(status=filters.status)
    workable = set(Inspection.objects.inspectable_by(request.user).values_list("pk", flat=True))
    user = request.user

    def page(items: list[Inspection]) -> list[dict[str, Any]]:
        shown = {i.pk for i in items if i.sample_open or i.pk in workable}
        rows = sample_rows([i for i in items if i.pk in shown])
        return [inspection_out(i, user=user, rows=rows, show=i.pk in shown) for i in items]

    return LazyOut(qs.order_by("id"), convert_page=page)


@router.get("/{inspection_id}", response=InspectionOut)
def detail(request: HttpRequest, inspection_id: Id):
    return inspection_out(_visible(request, inspection_id), user=request.user)


@router.patch("/{inspection_id}", response={200: InspectionOut, 422: ErrorsOut})
def update(request: HttpRequest, inspection_id: Id, payload: InspectionPatch):
    """Change the date, the inspectors, the earlier inspection or the meeting record (never the
    sample); only the fields sent change."""
    inspection = _workable(request, inspection_id)
    sent = payload.model_fields_set
    services.update_inspection(
        inspection=inspection,
        planned_on=payload.planned_on,
        inspectors=_people(payload.inspectors),
        previous=_previous(request, payload.previous) if "previous" in sent else False,
        meeting_attendees=payload.meeting_attendees,
        meeting_points=payload.meeting_points,
        by=request.user,
    )
    return inspection_out(inspection, user=request.user)


class AttachmentOut(Schema):
    id: int
    name: str
    kind: str = Field(description="photo、pdf、docx 或 xlsx")
    size: int
    uploaded_at: dt.datetime
    url: str = Field(description="下载地址（每次下载记入访问日志）")


def attachment_out(a: Attachment, url: str) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "kind": a.kind,
        "size": a.size,
        "uploaded_at": a.created_at,
        "url": url,
    }


class ChecklistItemOut(Schema):
    id: int
    title: str
    position: int
    score: int | None
    notes: str
    attachments: list[AttachmentOut]


def _attachments_url(inspection_id: int, item_id: int) -> str:
    return f"/api/v1/inspections/{inspection_id}/checklist/{item_id}/attachments"


@router.get("/{inspection_id}/checklist", response=list[ChecklistItemOut])
def checklist(request: HttpRequest, inspection_id: Id):
    """The checklist with scores, notes and the files on each item."""
    inspection = _visible(request, inspection_id)
    items = inspection.checklist.prefetch_related("attachments")
    return [
        {
            "id": i.pk,
            "title": i.title,
            "position": i.position,
            "score": i.score,
            "notes": i.notes,
            "attachments": [
                attachment_out(a, f"{_attachments_url(inspection.pk, i.pk)}/{a.pk}")
                for a in i.attachments.all()
            ],
        }
        for i in items
    ]


@router.get(
    "/{inspection_id}/checklist/{checklist_item_id}/attachments", response=list[AttachmentOut]
)
def list_attachments(request: HttpRequest, inspection_id: Id, checklist_item_id: Id):
    inspection = _visible(request, inspection_id)
    item = get_object_or_404(inspection.checklist, pk=checklist_item_id)
    base = _attachments_url(inspection.pk, item.pk)
    return [attachment_out(a, f"{base}/{a.pk}") for a in item.attachments.all()]


@router.post(
    "/{inspection_id}/checklist/{checklist_item_id}/attachments",
    response={201: list[AttachmentOut], 422: ErrorsOut},
)
def add_attachments(
    request: HttpRequest,
    inspection_id: Id,
    checklist_item_id: Id,
    files: File[list[UploadedFile]],
):
    """Photos (JPEG/PNG, re-encoded) and documents (PDF, .docx, .xlsx, recognised by their
    bytes; 10 MB each, 5 at once) on a checklist item — multipart, field `files`. Inspectors,
    until the inspection is closed."""
    inspection = _workable(request, inspection_id)  # before the body (guanai/api.py)
    item = get_object_or_404(inspection.checklist, pk=checklist_item_id)
    added = attachments.attach_to_item(item=item, files=list(files), by=request.user)
    base = _attachments_url(inspection.pk, item.pk)
    return Status(201, [attachment_out(a, f"{base}/{a.pk}") for a in added])


def _attachment(request: HttpRequest, inspection_id: int, item_id: int, pk: int) -> Attachment:
    inspection = _visible(request, inspection_id)
    return get_object_or_404(
        Attachment.objects.filter(checklist_item__inspection=inspection).select_related(
            "school", "checklist_item__inspection"
        ),
        checklist_item_id=item_id,
        pk=pk,
    )


@router.get(
    "/{inspection_id}/checklist/{checklist_item_id}/attachments/{attachment_id}",
    response={200: None},
)
def download_attachment(
    request: HttpRequest, inspection_id: Id, checklist_item_id: Id, attachment_id: Id
):
    """The file itself (logged)."""
    from .views_attachments import serve_attachment

    return serve_attachment(
        request, _attachment(request, inspection_id, checklist_item_id, attachment_id)
    )


@router.delete(
    "/{inspection_id}/checklist/{checklist_item_id}/attachments/{attachment_id}",
    response={204: None, 422: ErrorsOut},
)
def delete_attachment(
    request: HttpRequest, inspection_id: Id, checklist_item_id: Id, attachment_id: Id
):
    """Take a file off a checklist item (inspectors, until the inspection is closed)."""
    _workable(request, inspection_id)
    attachment = _attachment(request, inspection_id, checklist_item_id, attachment_id)
    attachments.remove_attachment(attachment=attachment, by=request.user)
    return Status(204, None)


class VerifyOut(Schema):
    reproduced: bool


@router.get("/{inspection_id}/verify", response=VerifyOut)
def verify(request: HttpRequest, inspection_id: Id):
    """Re-derive the sample from the stored seed and list: `reproduced` when it matches."""
    inspection = _visible(request, inspection_id)
    if not (inspection.sample_open or may_inspect(request.user, inspection)):
        raise PermissionDenied("检查开始后才能查看抽样")
    return {"reproduced": services.reproduced(inspection)}


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: Literal["in_progress", "reported", "closed"]


@router.post("/{inspection_id}/status", response={200: InspectionOut, 422: ErrorsOut})
def set_status(request: HttpRequest, inspection_id: Id, payload: StatusIn):
    """Start the visit (the school then sees the sample), report, close."""
    inspection = _workable(request, inspection_id)
    services.advance(inspection=inspection, to=payload.status, by=request.user)
    return inspection_out(inspection, user=request.user)


# The findings routes are api_findings.py's, on this same router: imported last, so that they
# come after the routes above (their order in the schema) and find this module's helpers.
from . import api_findings  # noqa: F401
