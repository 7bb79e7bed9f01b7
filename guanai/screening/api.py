"""/api/v1/screenings (摸底排查 campaigns), and what the screening, verification and import routes
share: the write checks and the progress counts. Verifications are in `api_verify.py`, imports
in `api_imports.py`.

Campaigns, rounds and imports belong to a school: a school outside the user's schools answers
404; a write the role may not do answers 403; the children counted and listed always come from
Child.objects.visible_to(user), so a class teacher's progress is her class's.
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.api_common import ErrorsOut
from guanai.children.models import Child, Enrolment
from guanai.lib.bounds import Id, LazyOut, Natural, Pages

from . import services
from .models import (
    ScreeningCampaign,
    ScreeningRecord,
    schools_managed_by,
    schools_visible_to,
)

screenings_router = Router(tags=["screenings"])  # mounted at /api/v1/screenings

WRITERS_ONLY = "只有校领导和镇管理员可以进行此操作"


def forbid_read_only(request: HttpRequest, message: str = WRITERS_ONLY) -> None:
    """A read-only role may change nothing: 403 before the body, which names the target, is
    read (guanai/api.py: scope before the body)."""
    if request.user.is_read_only:
        raise PermissionDenied(message)


def school_for_write(request: HttpRequest, code: str):
    """A school the user may run school-wide work for: unknown or out of scope 404, a role
    that may not (teachers, inspectors) 403."""
    school = get_object_or_404(schools_visible_to(request.user), code=code)
    if (
        request.user.is_read_only
        or not schools_managed_by(request.user).filter(pk=school.pk).exists()
    ):
        raise PermissionDenied(WRITERS_ONLY)
    return school


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


# --- screenings ------------------------------------------------------------------------------


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


def scoped_children(request: HttpRequest, action: str = "view"):
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
        "percent": services.percent(done, total),
        "closed_at": c.closed_at,
        "close_reason": c.close_reason,
    }


def missing_children_out(children) -> list[dict[str, Any]]:
    """The children a campaign or a round still misses, as the API lists them."""
    return [
        {
            "id": ch.pk,
            "name": ch.name,
            "grade": ch.school_class.grade,
            "class_no": ch.school_class.class_no,
        }
        for ch in children
    ]


def progress_counts(request: HttpRequest, units: list, record_model, unit_field: str):
    """Enrolled children in scope per school, and per campaign/round how many of them have a
    record (screened / verified): the progress of each unit in one query each."""
    enrolled = scoped_children(request).filter(enrolment=Enrolment.ENROLLED)
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
        totals, done = progress_counts(request, campaigns, ScreeningRecord, "campaign")
        return [_campaign_base(c, totals.get(c.school_id, 0), done.get(c.pk, 0)) for c in campaigns]

    return LazyOut(qs.order_by("-term", "school_id", "id"), convert_page=page)


@screenings_router.get("/{campaign_id}", response=CampaignDetailOut)
def get_screening(request: HttpRequest, campaign_id: Id):
    """One campaign: progress per grade and class, and who is still missing (in scope)."""
    c = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"),
        pk=campaign_id,
    )
    progress = services.campaign_progress(c, scoped_children(request))
    missing = (
        services.screening_children(c, scoped_children(request))
        .exclude(pk__in=c.records.values("child_id"))
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name", "id")
    )
    out = _campaign_base(c, progress["total"], progress["done"])
    out["grades"] = progress["grades"]
    out["missing_children"] = missing_children_out(missing)
    return out


class CampaignIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str
    term: str | None = None


@screenings_router.post("", response={201: CampaignOut, 422: ErrorsOut})
def post_screening(request: HttpRequest, payload: CampaignIn):
    """Open a school's screening for a term (school leaders, town admins)."""
    forbid_read_only(request)
    school = school_for_write(request, payload.school)
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
    forbid_read_only(request, "没有为这名学生摸排的权限")
    child = get_object_or_404(scoped_children(request), pk=payload.child)
    if not scoped_children(request, "change").filter(pk=child.pk).exists():
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
    school_for_write(request, c.school.code)
    c = services.close_campaign(campaign=c, by=request.user, reason=payload.reason)
    return Status(200, _campaign_base(c, c.summary["total"], c.summary["done"]))
