"""/api/v1/screenings, /api/v1/verifications and /api/v1/imports.

Campaigns, rounds and imports belong to a school: a school outside the user's schools answers
404; a write the role may not do answers 403; the children counted and listed always come from
Child.objects.visible_to(user), so a class teacher's progress is her class's.
"""

import datetime as dt
from functools import partial
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict, Field

from guanai.api_common import ErrorsOut
from guanai.children.models import Child, Enrolment
from guanai.children.services import StaleVersion
from guanai.jobs.models import Job
from guanai.lib.bounds import Grade, Id, LazyOut, Natural, Pages
from guanai.lib.grades import grade_name

from . import imports, services
from .models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
    schools_managed_by,
    schools_visible_to,
)

screenings_router = Router(tags=["screenings"])  # mounted at /api/v1/screenings
verifications_router = Router(tags=["verifications"])  # mounted at /api/v1/verifications
imports_router = Router(tags=["imports"])  # mounted at /api/v1/imports

WRITERS_ONLY = "只有校领导和镇管理员可以进行此操作"


def _forbid_read_only(request: HttpRequest, message: str = WRITERS_ONLY) -> None:
    """A read-only role may change nothing: 403 before the body, which names the target, is
    read (guanai/api.py: scope before the body)."""
    if request.user.is_read_only:
        raise PermissionDenied(message)


def _school_for_write(request: HttpRequest, code: str):
    """A school the user may run school-wide work for: unknown or out of scope 404, a role
    that may not (teachers, inspectors) 403."""
    school = get_object_or_404(schools_visible_to(request.user), code=code)
    if (
        request.user.is_read_only
        or not schools_managed_by(request.user).filter(pk=school.pk).exists()
    ):
        raise PermissionDenied(WRITERS_ONLY)
    return school


# --- imports ---------------------------------------------------------------------------------


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class ImportSummary(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict[str, Any]]


class ImportOut(Schema):
    id: int
    status: Literal["queued", "running", "succeeded", "failed"]
    school: str
    term: str
    filename: str
    dry_run: bool
    progress: ProgressOut
    message: str
    summary: ImportSummary | None
    preview_of: int | None
    confirmed_by_job: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


def import_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "school": job.school.code if job.school else "",
        "term": job.params.get("term", ""),
        "filename": job.params.get("filename", ""),
        "dry_run": bool(job.params.get("dry_run")),
        "progress": {"done": job.done, "total": job.total, "percent": job.percent},
        "message": job.message,
        "summary": imports.import_summary(job),
        "preview_of": job.params.get("preview_of"),
        "confirmed_by_job": job.params.get("confirmed_job"),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@imports_router.post("", response={202: ImportOut, 422: ErrorsOut})
def post_import(
    request: HttpRequest,
    file: File[UploadedFile],
    school: Form[str],
    term: Form[str | None] = None,
    dry_run: Form[bool] = False,
):
    """Upload a roster (.xlsx/.xls/.csv) for a school; the import (or with `dry_run` its
    preview) runs as a background job. Answers the job: poll GET /api/v1/imports/{id}."""
    _forbid_read_only(request)
    target = _school_for_write(request, school)
    job = imports.start_import(
        school=target, upload=file, term=term, dry_run=dry_run, by=request.user
    )
    job.refresh_from_db()
    return Status(202, import_out(job))


@imports_router.get("", response=list[ImportOut])
@paginate(Pages, page_size=50)
def list_imports(request: HttpRequest):
    """Imports of the schools the user may import into, newest first."""
    jobs = imports.import_jobs_visible_to(request.user).select_related("school")
    return LazyOut(jobs, import_out)


@imports_router.get("/{job_id}", response=ImportOut)
def get_import(request: HttpRequest, job_id: Id):
    """Status, progress and, once finished, the summary in SPEC §6.1's shape."""
    job = get_object_or_404(
        imports.import_jobs_visible_to(request.user).select_related("school"), pk=job_id
    )
    return import_out(job)


# --- screenings ------------------------------------------------------------------------------


class ClassProgress(Schema):
    id: int
    class_no: int
    label: str
    total: int
    done: int
    missing: int
    percent: int


class GradeProgress(Schema):
    grade: int
    name: str
    total: int
    done: int
    missing: int
    percent: int
    classes: list[ClassProgress]


class CampaignOut(Schema):
    id: int
    school: str
    school_name: str
    term: str
    status: Literal["open", "closed"]
    total: int
    done: int
    missing: int
    percent: int
    closed_at: dt.datetime | None
    close_reason: str


class MissingChild(Schema):
    id: int
    name: str
    grade: int
    class_no: int


class CampaignDetailOut(CampaignOut):
    grades: list[GradeProgress]
    missing_children: list[MissingChild]


class CampaignFilter(Schema):
    school: str | None = None
    term: str | None = None
    status: Literal["open", "closed"] | None = None


def _scope(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action)


def _campaign_base(c: ScreeningCampaign, total: int, done: int) -> dict[str, Any]:
    return {
        "id": c.pk,
        "school": c.school.code,
        "school_name": c.school.name,
        "term": c.term,
        "status": c.status,
        "total": total,
        "done": done,
        "missing": total - done,
        "percent": services._percent(done, total),
        "closed_at": c.closed_at,
        "close_reason": c.close_reason,
    }


def _progress_counts(request: HttpRequest, units: list, record_model, unit_field: str):
    """Enrolled children in scope per school, and per campaign/round how many of them have a
    record (screened / verified): the progress of each unit in one query each."""
    enrolled = _scope(request).filter(enrolment=Enrolment.ENROLLED)
    totals = dict(
        enrolled.filter(school__in=[u.school_id for u in units])
        .values_list("school_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    done = dict(
        record_model.objects.filter(**{f"{unit_field}__in": units, "child__in": enrolled})
        .filter(child__school_id=F(f"{unit_field}__school_id"))
        .values_list(f"{unit_field}_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return totals, done


@screenings_router.get("", response=list[CampaignOut])
@paginate(Pages, page_size=50)
def list_screenings(request: HttpRequest, f: Query[CampaignFilter]):
    """Screening campaigns of the user's schools with their progress (within the user's scope),
    newest term first."""
    qs = ScreeningCampaign.objects.visible_to(request.user).select_related("school")
    if f.school:
        qs = qs.filter(school__code=f.school)
    if f.term:
        qs = qs.filter(term=f.term)
    if f.status:
        qs = qs.filter(status=f.status)

    def page(campaigns: list[ScreeningCampaign]) -> list[dict[str, Any]]:
        totals, done = _progress_counts(request, campaigns, ScreeningRecord, "campaign")
        return [_campaign_base(c, totals.get(c.school_id, 0), done.get(c.pk, 0)) for c in campaigns]

    return LazyOut(qs.order_by("-term", "school_id", "id"), convert_page=page)


@screenings_router.get("/{campaign_id}", response=CampaignDetailOut)
def get_screening(request: HttpRequest, campaign_id: Id):
    """One campaign: progress per grade and class, and who is still missing (in scope)."""
    c = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"),
        pk=campaign_id,
    )
    progress = services.campaign_progress(c, _scope(request))
    missing = (
        services.screening_children(c, _scope(request))
        .exclude(pk__in=c.records.values("child_id"))
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name", "id")
    )
    out = _campaign_base(c, progress["total"], progress["done"])
    out["grades"] = progress["grades"]
    out["missing_children"] = [
        {
            "id": ch.pk,
            "name": ch.name,
            "grade": ch.school_class.grade,
            "class_no": ch.school_class.class_no,
        }
        for ch in missing
    ]
    return out


class CampaignIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str
    term: str | None = None


@screenings_router.post("", response={201: CampaignOut, 422: ErrorsOut})
def post_screening(request: HttpRequest, payload: CampaignIn):
    """Open a school's screening for a term (school leaders, town admins)."""
    _forbid_read_only(request)
    school = _school_for_write(request, payload.school)
    c = services.open_campaign(school=school, term=payload.term, by=request.user)
    return Status(201, _campaign_base(c, 0, 0))


class ScreeningMarkIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    version: Natural
    outcome: Literal["marked", "not_left_behind"] = "marked"
    note: str = ""


class ScreeningRecordOut(Schema):
    child: int
    outcome: str
    category: str
    screened_by: str | None
    screened_at: dt.datetime


def _record_out(r: ScreeningRecord) -> dict[str, Any]:
    return {
        "child": r.child_id,
        "outcome": r.outcome,
        "category": r.category,
        "screened_by": r.screened_by.username if r.screened_by else None,
        "screened_at": r.screened_at,
    }


@screenings_router.post(
    "/{campaign_id}/records", response={200: ScreeningRecordOut, 422: ErrorsOut}
)
def post_screening_record(request: HttpRequest, campaign_id: Id, payload: ScreeningMarkIn):
    """Mark a child screened: its card (changed beforehand with PATCH /children/{id} if need
    be) as it stands, or confirmed 非留守. The card's `version` guards concurrent edits."""
    c = get_object_or_404(ScreeningCampaign.objects.visible_to(request.user), pk=campaign_id)
    _forbid_read_only(request, "没有为这名学生摸排的权限")
    child = get_object_or_404(_scope(request), pk=payload.child)
    if not _scope(request, "change").filter(pk=child.pk).exists():
        raise PermissionDenied("没有为这名学生摸排的权限")
    if payload.outcome == "not_left_behind":
        record = services.confirm_not_left_behind(
            campaign=c,
            child=child,
            version=payload.version,
            by=request.user,
            note=payload.note,
        )
    else:
        record = services.mark_screened(
            campaign=c,
            child=child,
            data={},
            version=payload.version,
            by=request.user,
            note=payload.note,
        )
    return Status(200, _record_out(record))


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = ""


@screenings_router.post("/{campaign_id}/close", response={200: CampaignOut, 422: ErrorsOut})
def close_screening(request: HttpRequest, campaign_id: Id, payload: CloseIn):
    """Close a campaign; with students unscreened a `reason` is required."""
    c = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"),
        pk=campaign_id,
    )
    _school_for_write(request, c.school.code)
    c = services.close_campaign(campaign=c, by=request.user, reason=payload.reason)
    return Status(200, _campaign_base(c, c.summary["total"], c.summary["done"]))


# --- verifications ---------------------------------------------------------------------------


class RoundGradeProgress(GradeProgress):
    no_plan: int
    no_pledge: int
    signed_off: bool
    signed_by: str | None
    signed_at: dt.datetime | None


class RoundOut(Schema):
    id: int
    school: str
    school_name: str
    term: str
    vacation: Literal["winter", "summer"]
    deadline: dt.date
    overdue: bool
    status: Literal["open", "closed"]
    total: int
    done: int
    missing: int
    percent: int
    grades_signed_off: int
    plans: int
    pledges: int
    plans_of: Literal["left_behind", "all", "none"]
    pledges_of: Literal["left_behind", "all", "none"]
    closed_at: dt.datetime | None


class RoundDetailOut(RoundOut):
    grades: list[RoundGradeProgress]
    missing_children: list[MissingChild]


class RoundFilter(Schema):
    school: str | None = None
    term: str | None = None
    vacation: Literal["winter", "summer"] | None = None
    status: Literal["open", "closed"] | None = None


def _round_base(r: VerificationRound, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r.pk,
        "school": r.school.code,
        "school_name": r.school.name,
        "term": r.term,
        "vacation": r.vacation,
        "deadline": r.deadline,
        "overdue": r.overdue,
        "status": r.status,
        "total": p["total"],
        "done": p["done"],
        "missing": p["total"] - p["done"],
        "percent": services._percent(p["done"], p["total"]),
        "grades_signed_off": p.get("signed_off", 0),
        "plans": p.get("plans", 0),
        "pledges": p.get("pledges", 0),
        "plans_of": r.plans_of,
        "pledges_of": r.pledges_of,
        "closed_at": r.closed_at,
    }


@verifications_router.get("", response=list[RoundOut])
@paginate(Pages, page_size=50)
def list_verifications(request: HttpRequest, f: Query[RoundFilter]):
    """Verification rounds of the user's schools with progress (within the user's scope)."""
    qs = VerificationRound.objects.visible_to(request.user).select_related("school")
    if f.school:
        qs = qs.filter(school__code=f.school)
    if f.term:
        qs = qs.filter(term=f.term)
    if f.vacation:
        qs = qs.filter(vacation=f.vacation)
    if f.status:
        qs = qs.filter(status=f.status)
    return LazyOut(
        qs.order_by("-term", "school_id", "id"), convert_page=partial(_round_items, request)
    )


def _round_items(request: HttpRequest, rounds: list[VerificationRound]) -> list[dict[str, Any]]:
    """A page of rounds with their progress, counted for the whole page at once."""
    totals, done = _progress_counts(request, rounds, CardVerification, "round")
    enrolled = _scope(request).filter(enrolment=Enrolment.ENROLLED)
    signed = dict(
        VerificationRound.objects.filter(pk__in=[r.pk for r in rounds])
        .annotate(n=Count("signoffs"))
        .values_list("pk", "n")
    )
    plans = {
        row["round_id"]: row
        for row in (
            services.VacationPlan.objects.filter(round__in=rounds, child__in=enrolled)
            .values("round_id")
            .annotate(
                plans=Count("id", filter=~Q(destination="")),
                pledges=Count("id", filter=Q(pledge_returned=True)),
            )
            .order_by()
        )
    }
    items = []
    for r in rounds:
        p = {
            "total": totals.get(r.school_id, 0),
            "done": done.get(r.pk, 0),
            "signed_off": signed.get(r.pk, 0),
            "plans": plans.get(r.pk, {}).get("plans", 0),
            "pledges": plans.get(r.pk, {}).get("pledges", 0),
        }
        items.append(_round_base(r, p))
    return items


@verifications_router.get("/{round_id}", response=RoundDetailOut)
def get_verification(request: HttpRequest, round_id: Id):
    """One round: progress and sign-off per grade and class, and the cards still to verify."""
    r = get_object_or_404(
        VerificationRound.objects.visible_to(request.user).select_related("school"),
        pk=round_id,
    )
    p = services.round_progress(r, _scope(request))
    out = _round_base(r, p)
    out["grades"] = p["grades"]
    missing = (
        services.round_children(r, _scope(request))
        .exclude(pk__in=r.verifications.values("child_id"))
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name", "id")
    )
    out["missing_children"] = [
        {
            "id": ch.pk,
            "name": ch.name,
            "grade": ch.school_class.grade,
            "class_no": ch.school_class.class_no,
        }
        for ch in missing
    ]
    return out


class RoundIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str
    term: str | None = None
    vacation: Literal["winter", "summer"]
    deadline: str
    plans_of: Literal["left_behind", "all", "none"] = "left_behind"
    pledges_of: Literal["left_behind", "all", "none"] = "left_behind"


@verifications_router.post("", response={201: RoundOut, 422: ErrorsOut})
def post_verification(request: HttpRequest, payload: RoundIn):
    """Open a verification round before a vacation (school leaders, town admins)."""
    _forbid_read_only(request)
    school = _school_for_write(request, payload.school)
    r = services.open_round(
        school=school,
        term=payload.term,
        vacation=payload.vacation,
        deadline=payload.deadline,
        plans_of=payload.plans_of,
        pledges_of=payload.pledges_of,
        by=request.user,
    )
    return Status(201, _round_base(r, {"total": 0, "done": 0}))


class CardVerifyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    version: Natural
    # what the teacher actually checked with the guardian: nothing counts as checked unasked
    groups: list[str] = Field(default_factory=list, description="核对过的信息组，至少一项")
    note: str = ""


class CardVerificationOut(Schema):
    child: int
    result: str
    groups: list[str]
    verified_by: str | None
    verified_at: dt.datetime


@verifications_router.post(
    "/{round_id}/cards", response={200: CardVerificationOut, 409: dict, 422: ErrorsOut}
)
def post_card_verification(request: HttpRequest, round_id: Id, payload: CardVerifyIn):
    """Confirm a card as it stands (correct it first with PATCH /children/{id})."""
    r = get_object_or_404(VerificationRound.objects.visible_to(request.user), pk=round_id)
    _forbid_read_only(request, "没有核实这张档卡的权限")
    child = get_object_or_404(_scope(request), pk=payload.child)
    if not _scope(request, "change").filter(pk=child.pk).exists():
        raise PermissionDenied("没有核实这张档卡的权限")
    try:
        v = services.verify_card(
            round=r,
            child=child,
            data={},
            version=payload.version,
            groups=payload.groups,
            by=request.user,
            note=payload.note,
        )
    except StaleVersion:
        return Status(409, {"detail": "此档卡已被他人修改，请重新读取后再核实（version 已过期）"})
    return Status(
        200,
        {
            "child": v.child_id,
            "result": v.result,
            "groups": v.groups,
            "verified_by": request.user.username,
            "verified_at": v.verified_at,
        },
    )


class SignOffIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: str = ""


@verifications_router.post(
    "/{round_id}/grades/{grade}/signoff", response={200: RoundOut, 422: ErrorsOut}
)
def post_signoff(request: HttpRequest, round_id: Id, grade: Grade, payload: SignOffIn):
    """The grade leader signs off a grade once every card of it is verified."""
    r = get_object_or_404(
        VerificationRound.objects.visible_to(request.user).select_related("school"),
        pk=round_id,
    )
    if not services.can_sign_off(request.user, r, grade):
        raise PermissionDenied(f"只有{grade_name(grade)}的年级负责人或校领导可以签字")
    services.sign_off_grade(round=r, grade=grade, by=request.user, note=payload.note)
    r.refresh_from_db()
    return Status(200, _round_base(r, services.round_progress(r, _scope(request))))


class PlanIn(Schema):
    model_config = ConfigDict(extra="forbid")
    destination: str = ""
    place: str = ""
    with_whom: str = ""
    contact_phone: str = ""
    activities: str = ""
    pledge_returned: bool = False
    pledge_returned_on: str | None = None
    pledge_items: list[str] = []


class PlanOut(Schema):
    child: int
    destination: str
    place: str
    with_whom: str
    contact_phone: str
    activities: str
    pledge_returned: bool
    pledge_returned_on: dt.date | None
    pledge_items: list[str]


@verifications_router.put("/{round_id}/plans/{child_id}", response={200: PlanOut, 422: ErrorsOut})
def put_plan(request: HttpRequest, round_id: Id, child_id: Id, payload: PlanIn):
    """Record a child's vacation plan and whether the safety pledge came back."""
    r = get_object_or_404(VerificationRound.objects.visible_to(request.user), pk=round_id)
    child = get_object_or_404(_scope(request), pk=child_id)
    if request.user.is_read_only or not _scope(request, "change").filter(pk=child.pk).exists():
        raise PermissionDenied("没有登记这名学生假期去向的权限")
    plan = services.save_vacation_plan(
        round=r, child=child, data=payload.model_dump(), by=request.user
    )
    return Status(
        200,
        {"child": plan.child_id}
        | {k: getattr(plan, k) for k in PlanOut.model_fields if k != "child"},
    )


__all__ = ["imports_router", "screenings_router", "verifications_router"]
