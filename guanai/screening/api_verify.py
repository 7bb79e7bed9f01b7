"""/api/v1/verifications: 核实 rounds before a vacation, a card's verification, a grade's
sign-off and a child's vacation plan."""

import datetime as dt
from functools import partial
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, Field

from guanai.api_common import ErrorsOut
from guanai.children.models import Enrolment
from guanai.children.services import StaleVersion
from guanai.lib.bounds import Grade, Id, LazyOut, Natural, Pages
from guanai.lib.grades import grade_name

from . import services, verification
from .api import (
    GradeProgress,
    MissingChild,
    forbid_read_only,
    missing_children_out,
    progress_counts,
    school_for_write,
    scoped_children,
)
from .models import (
    CardVerification,
    VacationPlan,
    VerificationRound,
)

verifications_router = Router(tags=["verifications"])  # mounted at /api/v1/verifications

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
        "percent": services.percent(p["done"], p["total"]),
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
    totals, done = progress_counts(request, rounds, CardVerification, "round")
    enrolled = scoped_children(request).filter(enrolment=Enrolment.ENROLLED)
    signed = dict(
        VerificationRound.objects.filter(pk__in=[r.pk for r in rounds])
        .annotate(n=Count("signoffs"))
        .values_list("pk", "n")
    )
    plans = {
        row["round_id"]: row
        for row in (
            VacationPlan.objects.filter(round__in=rounds, child__in=enrolled)
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
    p = verification.round_progress(r, scoped_children(request))
    out = _round_base(r, p)
    out["grades"] = p["grades"]
    missing = (
        verification.round_children(r, scoped_children(request))
        .exclude(pk__in=r.verifications.values("child_id"))
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name", "id")
    )
    out["missing_children"] = missing_children_out(missing)
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
    forbid_read_only(request)
    school = school_for_write(request, payload.school)
    r = verification.open_round(
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
    forbid_read_only(request, "没有核实这张档卡的权限")
    child = get_object_or_404(scoped_children(request), pk=payload.child)
    if not scoped_children(request, "change").filter(pk=child.pk).exists():
        raise PermissionDenied("没有核实这张档卡的权限")
    try:
        v = verification.verify_card(
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
    if not verification.can_sign_off(request.user, r, grade):
        raise PermissionDenied(f"只有{grade_name(grade)}的年级负责人或校领导可以签字")
    verification.sign_off_grade(round=r, grade=grade, by=request.user, note=payload.note)
    r.refresh_from_db()
    return Status(200, _round_base(r, verification.round_progress(r, scoped_children(request))))


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
    child = get_object_or_404(scoped_children(request), pk=child_id)
    if (
        request.user.is_read_only
        or not scoped_children(request, "change").filter(pk=child.pk).exists()
    ):
        raise PermissionDenied("没有登记这名学生假期去向的权限")
    plan = verification.save_vacation_plan(
        round=r, child=child, data=payload.model_dump(), by=request.user
    )
    return Status(
        200,
        {"child": plan.child_id}
        | {k: getattr(plan, k) for k in PlanOut.model_fields if k != "child"},
    )
