"""/api/v1/pairs: list, propose, accept, swap, end. A pair is visible when its child is visible."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate
from pydantic import ConfigDict

from guanai.accounts.models import Role
from guanai.children.models import Child
from guanai.org.models import School

from .models import Pair
from .services import PairingError, accept_pairs, end_pair, propose_pairs, swap_buddy

router = Router(tags=["pairs"])

# Roles that manage pairs of the children in their scope; whole-school proposals need a
# school-wide role.
MANAGE_ROLES = (Role.TOWN_ADMIN, Role.SCHOOL_LEADER, Role.GRADE_LEADER, Role.CLASS_TEACHER)


class PairFilter(FilterSchema):
    school: str | None = None
    status: Literal["draft", "active", "ended"] | None = None
    child: int | None = None


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
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    dry_run: bool = False


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
    buddy: int


class SwapOut(Schema):
    pair: PairOut
    cost_change: float


def _pairs(request: HttpRequest):
    return Pair.objects.visible_to(request.user).select_related(
        "child", "buddy", "school", "follow_teacher"
    )


def _may_manage(request: HttpRequest, pair: Pair) -> None:
    """403 unless the user manages pairs and may change the pair's child."""
    user = request.user
    if user.is_read_only:
        raise HttpError(403, "只读账号不能修改结对")
    if user.is_superuser:
        return
    if not user.has_role(*MANAGE_ROLES):
        raise HttpError(403, "没有管理结对的权限")
    if not Child.objects.visible_to(user, action="change").filter(pk=pair.child_id).exists():
        raise HttpError(403, "没有管理这对结对的权限")


def _school_for_proposal(request: HttpRequest, code: str) -> School:
    """The school if the user may propose for all of it; 404 outside the scope, else 403."""
    user = request.user
    school = School.objects.filter(code=code.strip()).first()
    if school is None:
        raise HttpError(404, "未找到该学校")
    if user.is_superuser:
        return school
    roles = user.active_roles()
    in_scope = any(
        ra.school_id == school.pk or (ra.town_id and ra.town_id == school.town_id) for ra in roles
    )
    if not in_scope and not Child.objects.visible_to(user).filter(school=school).exists():
        raise HttpError(404, "未找到该学校")
    if user.is_read_only:
        raise HttpError(403, "只读账号不能生成结对建议")
    allowed = any(
        (ra.role == Role.TOWN_ADMIN and ra.town_id == school.town_id)
        or (ra.role == Role.SCHOOL_LEADER and ra.school_id == school.pk)
        for ra in roles
    )
    if not allowed:
        raise HttpError(403, "只有校领导或镇管理员可以为全校生成结对建议")
    return school


@router.get("", response=list[PairOut])
@paginate(PageNumberPagination, page_size=50)
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
    """Optimal pairs for a school (as `guanai pair --json`); saved as drafts unless dry_run."""
    school = _school_for_proposal(request, payload.school)
    proposal = propose_pairs(school=school, by=request.user, dry_run=payload.dry_run)
    return proposal.as_dict()


@router.get("/{pair_id}", response=PairOut)
def get_pair(request: HttpRequest, pair_id: int):
    """One pair; out of scope: 404."""
    return get_object_or_404(_pairs(request), pk=pair_id)


@router.post("/{pair_id}/accept", response=PairOut)
def accept(request: HttpRequest, pair_id: int):
    """Accept a draft: it becomes active (进行中)."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    _may_manage(request, pair)
    try:
        accept_pairs(pairs=[pair], by=request.user)
    except PairingError as exc:
        raise HttpError(409, str(exc)) from exc
    return _pairs(request).get(pk=pair_id)


@router.post("/{pair_id}/swap", response=SwapOut)
def swap(request: HttpRequest, pair_id: int, payload: SwapIn) -> dict[str, Any]:
    """Give the pair another buddy (a child in the user's scope); answers the cost change."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    buddy = get_object_or_404(Child.objects.visible_to(request.user), pk=payload.buddy)
    _may_manage(request, pair)
    try:
        change = swap_buddy(pair=pair, buddy=buddy, by=request.user)
    except PairingError as exc:
        raise HttpError(409, str(exc)) from exc
    return {"pair": _pairs(request).get(pk=pair_id), "cost_change": change}


@router.post("/{pair_id}/end", response=PairOut)
def end(request: HttpRequest, pair_id: int, payload: EndIn):
    """End a pair with a reason."""
    pair = get_object_or_404(_pairs(request), pk=pair_id)
    _may_manage(request, pair)
    try:
        end_pair(pair=pair, by=request.user, reason=payload.reason)
    except PairingError as exc:
        raise HttpError(409, str(exc)) from exc
    return _pairs(request).get(pk=pair_id)


responsibilities_router = Router(tags=["responsibilities"])  # /api/v1/responsibilities
proxy_parents_router = Router(tags=["proxy-parents"])  # /api/v1/proxy-parents
