"""/api/v1 routes of the 督导检查 app: `router` (mounted at /api/v1/inspections) and
`rectifications_router` (/api/v1/rectifications).

Reading an inspection: town administrators and inspectors (their town's schools), leaders of the
inspected school (the sample only once the inspection has started). Working on one — drawing,
findings, status — is the `inspect` action: 403 for any other role, 404 outside the town.
"""

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
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.errors import Invalid

from . import services
from .models import (
    Attachment,
    CheckField,
    Correction,
    FindingCheck,
    Inspection,
    ItemStatus,
    Rectification,
)

router = Router(tags=["inspections"])
rectifications_router = Router(tags=["rectifications"])


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
    added = services.attach_to_item(item=item, files=list(files), by=request.user)
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
    from .views import serve_attachment

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
    services.remove_attachment(attachment=attachment, by=request.user)
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


# --- findings --------------------------------------------------------------------------------


class CheckIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: Literal[tuple(CheckField.values)]  # type: ignore[valid-type]
    correct: bool
    found: str = Field("", max_length=200)


class FindingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    visited: bool
    met_whom: str = Field("", max_length=100)
    notes: str = Field("", max_length=2000)
    checks: list[CheckIn] = Field(default_factory=list, max_length=len(CheckField.values))


class CheckOut(Schema):
    id: int
    field: str
    field_label: str
    correct: bool
    recorded: str
    found: str
    correction: str | None


class FindingOut(Schema):
    id: int
    child: int
    child_name: str
    visited: bool
    met_whom: str
    notes: str
    checks: list[CheckOut]


def finding_out(finding) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "child": finding.child_id,
        "child_name": finding.child.name,
        "visited": finding.visited,
        "met_whom": finding.met_whom,
        "notes": finding.notes,
        "checks": [
            {
                "id": c.pk,
                "field": c.field,
                "field_label": c.get_field_display(),
                "correct": c.correct,
                "recorded": c.recorded,
                "found": c.found,
                "correction": c.correction or None,
            }
            for c in finding.checks.all()
        ],
    }


@router.post("/{inspection_id}/findings", response={201: FindingOut, 422: ErrorsOut})
def add_finding(request: HttpRequest, inspection_id: Id, payload: FindingIn):
    """What the visit found for a sampled child; wrong values become proposed corrections."""
    inspection = _workable(request, inspection_id)
    child = Child.objects.filter(pk=payload.child, school=inspection.school).first()
    if child is None or child.pk not in inspection.sample:
        raise Invalid({"child": "该儿童不在本次抽样名单中"})
    finding = services.record_finding(
        inspection=inspection,
        child=child,
        visited=payload.visited,
        met_whom=payload.met_whom,
        notes=payload.notes,
        checks=[c.dict() for c in payload.checks],
        by=request.user,
    )
    return Status(201, finding_out(finding))


@router.get("/{inspection_id}/findings", response=list[FindingOut])
def list_findings(request: HttpRequest, inspection_id: Id):
    inspection = _visible(request, inspection_id)
    if not (inspection.sample_open or may_inspect(request.user, inspection)):
        raise PermissionDenied("检查开始后才能查看走访结果")
    findings = inspection.findings.select_related("child").prefetch_related("checks")
    return [finding_out(f) for f in findings]


class DiscrepancyOut(Schema):
    check: int
    child: int
    child_name: str
    field: str
    field_label: str
    recorded: str
    found: str
    correction: str | None


class AccuracyOut(Schema):
    checked: int
    wrong: int
    rate: float | None
    discrepancies: list[DiscrepancyOut]


@router.get("/{inspection_id}/accuracy", response=AccuracyOut)
def accuracy(request: HttpRequest, inspection_id: Id):
    """The school's card accuracy in this inspection (fields checked vs wrong) and the list of
    discrepancies."""
    inspection = _visible(request, inspection_id)
    if not (inspection.sample_open or may_inspect(request.user, inspection)):
        raise PermissionDenied("检查开始后才能查看走访结果")
    return services.accuracy(inspection)


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    accept: bool


@router.post("/corrections/{check_id}", response={200: CheckOut, 422: ErrorsOut})
def decide(request: HttpRequest, check_id: Id, payload: DecisionIn):
    """The class teacher (whoever may change the child's card) accepts or rejects a proposed
    correction; an accepted one is written to the card, the history naming the inspection."""
    check = get_object_or_404(
        FindingCheck.objects.filter(
            finding__child__in=Child.objects.visible_to(request.user),
            correction__in=[Correction.PROPOSED, Correction.ACCEPTED, Correction.REJECTED],
        ).select_related("finding"),
        pk=check_id,
    )
    services.check_may_correct(request.user, check)  # before the body (guanai/api.py)
    check = services.decide_correction(check=check, accept=payload.accept, by=request.user)
    return {
        "id": check.pk,
        "field": check.field,
        "field_label": check.get_field_display(),
        "correct": check.correct,
        "recorded": check.recorded,
        "found": check.found,
        "correction": check.correction or None,
    }


# --- /api/v1/rectifications ------------------------------------------------------------------


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
    item = services.raise_item(
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


@rectifications_router.post("/{item_id}/done", response={200: ItemOut, 422: ErrorsOut})
def item_done(request: HttpRequest, item_id: Id, payload: DoneIn):
    """The owner, or a leader of the school, reports the item done with evidence."""
    item = get_object_or_404(_items(request), pk=item_id)
    _may_report(request, item)
    return services.mark_done(item=item, evidence=payload.evidence, by=request.user)


@rectifications_router.post("/{item_id}/close", response={200: ItemOut, 422: ErrorsOut})
def item_close(request: HttpRequest, item_id: Id):
    """The inspectors close (销号) an item reported done."""
    item = get_object_or_404(_items(request), pk=item_id)
    if not scope.schools(request.user, "inspect").filter(pk=item.school_id).exists():
        raise PermissionDenied("只有镇管理员和督导员可以销号")
    return services.close_item(item=item, by=request.user)


def _may_report(request: HttpRequest, item: Rectification) -> None:
    """403 unless the user owns the item or leads its school."""
    leads = scope.schools(request.user, "lead_school").filter(pk=item.school_id).exists()
    if item.owner_id != request.user.pk and not leads:
        raise PermissionDenied("只有责任人或校领导可以提交整改情况")


@rectifications_router.get("/{item_id}/files", response=list[AttachmentOut])
def list_files(request: HttpRequest, item_id: Id):
    item = get_object_or_404(_items(request), pk=item_id)
    return [
        attachment_out(a, f"/api/v1/rectifications/{item.pk}/files/{a.pk}")
        for a in item.files.all()
    ]


@rectifications_router.post("/{item_id}/files", response={201: list[AttachmentOut], 422: ErrorsOut})
def add_files(request: HttpRequest, item_id: Id, files: File[list[UploadedFile]]):
    """Evidence files on a 整改 item — documents (PDF, .docx, .xlsx, recognised by their bytes)
    or photos (re-encoded); 10 MB each, 5 at once; multipart, field `files`. The owner or a
    leader of the school, until the item is closed."""
    item = get_object_or_404(_items(request), pk=item_id)
    _may_report(request, item)  # before the body (guanai/api.py)
    added = services.attach_evidence(item=item, files=list(files), by=request.user)
    return Status(
        201,
        [attachment_out(a, f"/api/v1/rectifications/{item.pk}/files/{a.pk}") for a in added],
    )


@rectifications_router.get("/{item_id}/files/{file_id}", response={200: None})
def download_file(request: HttpRequest, item_id: Id, file_id: Id):
    """The file itself (logged)."""
    from .views import serve_attachment

    item = get_object_or_404(_items(request), pk=item_id)
    attachment = get_object_or_404(
        Attachment.objects.select_related("school", "rectification"), rectification=item, pk=file_id
    )
    return serve_attachment(request, attachment)
