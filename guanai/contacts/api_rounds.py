"""/api/v1/visit-rounds: 普访轮次 — list with coverage, create, and one round's coverage per
school and class with the children not yet visited."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from guanai.api_common import ErrorsOut
from guanai.lib.bounds import Id, LazyOut, Pages

from .models import VisitRound
from .rounds import (
    create_round,
    percent,
    round_children,
    round_coverage,
    round_to_change,
    round_totals,
    round_unit,
    rounds_visible_to,
    update_round,
)
from .rules import SHANGHAI

rounds_router = Router(tags=["visit-rounds"])  # mounted at /api/v1/visit-rounds


class VisitRoundIn(Schema):
    """A 普访 round: for one school (`school`, its code) or, without it, for the town."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    since: dt.date
    until: dt.date = Field(..., description="含这一天；可以与其他轮次重叠")
    left_behind_only: bool = False
    notes: str = ""
    school: str | None = Field(None, description="学校代码；不填则为全镇的轮次")
    town: Id | None = Field(None, description="管理多个镇时，全镇轮次所属的镇（id）")


class VisitRoundPatchIn(Schema):
    """A round's new name, dates or notes; fields left out keep their value. The town or
    school a round belongs to cannot change."""

    model_config = ConfigDict(extra="forbid")
    # Optional, but never null: a default without `| None` makes an explicit null a 422.
    name: str = None
    since: dt.date = None
    until: dt.date = Field(None, description="含这一天")
    left_behind_only: bool = None
    notes: str = None


class VisitRoundOut(Schema):
    id: int
    name: str
    town: str | None
    school: str | None
    since: dt.date
    until: dt.date
    left_behind_only: bool
    notes: str
    created_by: str | None
    created_at: dt.datetime
    total: int
    visited: int
    percent: int


# The coverage tree is plain pydantic: ninja's Schema wraps each of a town's tens of thousands
# of not-visited children in its attribute getter first, which costs more than the query.
class ChildRefOut(BaseModel):
    id: int
    name: str


class ClassCoverageOut(BaseModel):
    class_id: int
    label: str
    grade: int
    class_no: int
    total: int
    visited: int
    percent: int
    not_visited: list[ChildRefOut]


class SchoolCoverageOut(BaseModel):
    school: str
    name: str
    total: int
    visited: int
    percent: int
    classes: list[ClassCoverageOut]


class RoundCoverageOut(BaseModel):
    round: VisitRoundOut
    schools: list[SchoolCoverageOut]


class CoverageFilter(FilterSchema):
    school: str | None = Field(None, description="只看一所学校（代码）")


def round_out(visit_round: VisitRound, visited: int, total: int) -> dict[str, Any]:
    r = visit_round
    return {
        "id": r.pk,
        "name": r.name,
        "town": r.town.name if r.town_id else None,
        "school": r.school.code if r.school_id else None,
        "since": r.since,
        "until": r.until,
        "left_behind_only": r.left_behind_only,
        "notes": r.notes,
        "created_by": r.created_by.username if r.created_by_id else None,
        "created_at": r.created_at.astimezone(SHANGHAI),
        "total": total,
        "visited": visited,
        "percent": percent(visited, total),
    }


@rounds_router.get("", response=list[VisitRoundOut])
@paginate(Pages, page_size=50)
def list_rounds(request: HttpRequest):
    """The rounds of the user's town and schools, latest start first, each with its coverage
    over the children the user may see. Proxy parents see none."""
    user = request.user

    def fetch(ids: list[int]) -> dict[int, VisitRound]:
        rows = rounds_visible_to(user).in_bulk(ids)
        totals = round_totals(list(rows.values()), user)
        for r in rows.values():
            r.visited, r.total = totals[r.pk]
        return rows

    return LazyOut(rounds_visible_to(user), lambda r: round_out(r, r.visited, r.total), fetch=fetch)


@rounds_router.post("", response={201: VisitRoundOut, 422: ErrorsOut})
def post_round(request: HttpRequest, payload: VisitRoundIn):
    """Create a round: town administrators for their town (or one of its schools), school
    leaders for their school; other roles 403. Overlapping dates are allowed."""
    if request.user.is_read_only:  # before the body, which names the school (guanai/api.py)
        raise PermissionDenied("督导员为只读角色，不能创建普访轮次")
    town, school = round_unit(request.user, town_id=payload.town, school_code=payload.school)
    visit_round = create_round(
        by=request.user,
        town=town,
        school=school,
        **payload.model_dump(include={"name", "since", "until", "left_behind_only", "notes"}),
    )
    return Status(
        201, round_out(visit_round, *round_totals([visit_round], request.user)[visit_round.pk])
    )


@rounds_router.patch("/{int:round_id}", response={200: VisitRoundOut, 422: ErrorsOut})
def patch_round(request: HttpRequest, round_id: Id, payload: VisitRoundPatchIn):
    """Change a round's name, dates, left_behind_only or notes: whoever may create a round for
    its town or school; others who see it 403, the rest 404. The history keeps each version."""
    visit_round = round_to_change(request.user, round_id)
    visit_round, _changed = update_round(
        visit_round=visit_round, by=request.user, **payload.model_dump(exclude_unset=True)
    )
    totals = round_totals([visit_round], request.user)[visit_round.pk]
    return round_out(visit_round, *totals)


@rounds_router.get("/{int:round_id}/coverage", response=RoundCoverageOut)
def get_round_coverage(request: HttpRequest, round_id: Id, filters: Query[CoverageFilter]):
    """Per school and class: enrolled children (only the left-behind if the round says so)
    the user may see, how many had a home visit within the round (its first and last days
    included, Asia/Shanghai), and who has not yet."""
    visit_round = get_object_or_404(rounds_visible_to(request.user), pk=round_id)
    children = round_children(visit_round, request.user)
    if filters.school:
        children = children.filter(school__code=filters.school)
    result = round_coverage(visit_round, children)
    visited, total = sum(s.visited for s in result), sum(s.total for s in result)
    return {
        "round": round_out(visit_round, visited, total),
        "schools": [
            {
                "school": s.code,
                "name": s.name,
                "total": s.total,
                "visited": s.visited,
                "percent": s.percent,
                "classes": [
                    {
                        **{k: getattr(c, k) for k in ("class_id", "label", "grade", "class_no")},
                        "total": c.total,
                        "visited": c.visited,
                        "percent": c.percent,
                        "not_visited": [{"id": pk, "name": name} for pk, name in c.not_visited],
                    }
                    for c in s.classes
                ],
            }
            for s in result
        ],
    }
