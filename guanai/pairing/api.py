"""/api/v1/pairs: list, propose, accept, swap, end, follow. A pair is visible when its child is
visible. The routers of /api/v1/responsibilities and /api/v1/proxy-parents live beside this
module and are re-exported here, where guanai/api.py mounts them."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict, model_validator

from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, Pages
from guanai.lib.errors import Invalid
from guanai.org.models import School

from .api_proxies import proxy_parents_router
from .api_responsibility import responsibilities_router
from .models import Pair
from .permissions import check_manage_pair, class_for_proposal, school_for_proposal
from .services import (
    PairingError,
    accept_pairs,
    end_pair,
    propose_pairs,
    school_staff,
    set_follow_teacher,
    swap_buddy,
)

router = Router(tags=["pairs"])


class PairFilter(FilterSchema):
    school: str | None = None
    status: Literal["draft", "active", "ended"] | None = None
    child: Id | None = None


class PairOut(Schema):
    id: int
    child: int
    child_name: str
    buddy: int
    buddy_name: str
    school: str
    status: str
    follow_teacher: str | None
    cost: float
    distance_m: float | None
    same_village: bool
    same_group: bool
    age_gap_days: int
    explanation: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str

    @staticmethod
    def resolve_child(obj: Pair) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: Pair) -> str:
        return obj.child.name

    @staticmethod
    def resolve_buddy(obj: Pair) -> int:
        return obj.buddy_id

    @staticmethod
    def resolve_buddy_name(obj: Pair) -> str:
        return obj.buddy.name

    @staticmethod
    def resolve_school(obj: Pair) -> str:
        return obj.school.code

    @staticmethod
    def resolve_follow_teacher(obj: Pair) -> str | None:
        return str(obj.follow_teacher) if obj.follow_teacher_id else None

    @staticmethod
    def resolve_cost(obj: Pair) -> float:
        return float(obj.cost)


class ProposeIn(Schema):
    """A whole school, or one class of it (`grade` and `class_no` together)."""

    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    grade: int | None = Field(None, ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    dry_run: bool = False

    @model_validator(mode="after")
    def _class_needs_both(self) -> "ProposeIn":
        if (self.grade is None) != (self.class_no is None):
            raise ValueError("为一个班提建议时，年级 grade 和班级 class_no 要一起填写")
        return self


class ProposedPairOut(Schema):
    child: int
    child_name: str
    buddy: int
    buddy_name: str
    distance_m: float | None
    same_village: bool
    same_group: bool
    age_gap_days: int
    cost: float


class ProposalOut(Schema):
    pairs: list[ProposedPairOut]
    unpaired: list[int]
    total_cost: float


class EndIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=200)


class SwapIn(Schema):
    model_config = ConfigDict(extra="forbid")
    buddy: Id


class SwapOut(Schema):
    pair: PairOut
    cost_change: float


def _pairs(request: HttpRequest) -> QuerySet[Pair]:
    return Pair.objects.visible_to(request.user).select_related(
        "child", "buddy", "school", "follow_teacher"
    )


def _conflict(exc: PairingError) -> HttpError:
    return HttpError(409, str(exc))


@router.get("", response=list[PairOut])
@paginate(Pages, page_size=50)
def list_pairs(request: HttpRequest, filters: Query[PairFilter]):
    """Pairs whose child is in the user's scope, ordered by id; filters `school`, `status`."""
    qs = _pairs(request)
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.child is not None:
        qs = qs.filter(child_id=filters.child)
    return qs.order_by("id")


@router.post("/propose", response=ProposalOut)
def propose(request: HttpRequest, payload: ProposeIn) -> dict[str, Any]:
    """Optimal pairs for a school (as `guanai pair --json`), or for one class with `grade` and
    `class_no`; saved as drafts unless dry_run (replacing that school's or class's drafts).
    A whole school needs a school leader or town administrator; a class, whoever arranges it."""
    if request.user.is_read_only:  # before the body, which names the school (guanai/api.py)
        raise PermissionDenied("只读账号不能生成结对建议")
    school_class = None
    if payload.grade is None:
        school = school_for_proposal(request.user, payload.school)
    else:
        school = School.objects.filter(code=payload.school.strip()).first()
        if school is None:
            raise HttpError(404, "未找到该学校")
        school_class = class_for_proposal(request.user, school, payload.grade, payload.class_no)
    proposal = propose_pairs(
        school=school, school_class=school_class, by=request.user, dry_run=payload.dry_run
    )
    return proposal.as_dict()


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")
    pairs: list[Id] = Field(..., min_length=1, max_length=500)


@router.post("/accept", response=list[PairOut])
def accept_many(request: HttpRequest, payload: AcceptIn):
    """Accept several drafts at once (all or none)."""
    if request.user.is_read_only:  # before the body, which names the pairs (guanai/api.py)
        raise PermissionDenied("只读账号不能修改结对")
    ids = set(payload.pairs)
    chosen = list(_pairs(request).filter(pk__in=ids))
    if len(chosen) != len(ids):
        raise HttpError(404, "未找到")
    for pair in chosen:
        check_manage_pair(request.user, pair)
    try:
        accept_pairs(pairs=chosen, by=request.user)
    except PairingError as exc:
        raise _conflict(exc) from exc
    return list(_pairs(request).filter(pk__in=ids).order_by("id"))


@router.get("/{pair_id}", response=PairOut)
def get_pair(request: HttpRequest, pair_id: Id):
    """One pair; out of scope: 404."""
    return get_object_or_404(_pairs(request), pk=pair_id)


@router.post("/{pair_id}/accept", response=PairOut)
def accept(request: HttpRequest, pair_id: Id):
    """Accept a draft: it becomes active (进行中)."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    check_manage_pair(request.user, pair)
    try:
        accept_pairs(pairs=[pair], by=request.user)
    except PairingError as exc:
        raise _conflict(exc) from exc
    return _pairs(request).get(pk=pair_id)


@router.post("/{pair_id}/swap", response=SwapOut)
def swap(request: HttpRequest, pair_id: Id, payload: SwapIn) -> dict[str, Any]:
    """Give the pair another buddy (a child in the user's scope); answers the cost change."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    check_manage_pair(request.user, pair)
    buddy = get_object_or_404(Child.objects.visible_to(request.user), pk=payload.buddy)
    try:
        change = swap_buddy(pair=pair, buddy=buddy, by=request.user)
    except PairingError as exc:
        raise _conflict(exc) from exc
    return {"pair": _pairs(request).get(pk=pair_id), "cost_change": change}


@router.post("/{pair_id}/end", response=PairOut)
def end(request: HttpRequest, pair_id: Id, payload: EndIn):
    """End a pair with a reason."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    check_manage_pair(request.user, pair)
    try:
        end_pair(pair=pair, by=request.user, reason=payload.reason)
    except PairingError as exc:
        raise _conflict(exc) from exc
    return _pairs(request).get(pk=pair_id)


class FollowIn(Schema):
    model_config = ConfigDict(extra="forbid")
    teacher: str | None = Field(..., max_length=150, description="教职工的登录名；null 为不指定")


@router.post("/{pair_id}/follow", response={200: PairOut, 422: ErrorsOut})
def follow(request: HttpRequest, pair_id: Id, payload: FollowIn):
    """Name the teacher who follows the pair (a staff member of the school, by username)."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    check_manage_pair(request.user, pair)
    teacher = None
    if payload.teacher:
        teacher = school_staff(pair.school).filter(username=payload.teacher.strip()).first()
        if teacher is None:
            raise Invalid({"teacher": f"{payload.teacher} 不是{pair.school.name}的教职工"})
    try:
        set_follow_teacher(pair=pair, teacher=teacher, by=request.user)
    except PairingError as exc:
        raise _conflict(exc) from exc
    return Status(200, _pairs(request).get(pk=pair_id))


__all__ = ["proxy_parents_router", "responsibilities_router", "router"]
