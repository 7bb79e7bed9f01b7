"""/api/v1/homes (留守儿童之家): list and set up a home, the door (sign-in and sign-out), family
calls, a month's use, who never came this term, and the duty rota. Rights as in api.py: the
school's managers set up homes and the rota; the door follows the child (`contact`).

Operation ids are those the routes had in api.py, so clients generated from the schema keep
their names."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.lib.bounds import Id, LazyOut, Pages

from . import homes, services
from .api import _child_brief
from .models import Home

homes_router = Router(tags=["homes"])


class HomeOut(Schema):
    id: int
    school: str
    school_name: str
    name: str
    opening_hours: str
    equipment: str
    inside: int


class HomeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    name: str = Field(..., max_length=1000)
    opening_hours: str = Field("", max_length=1000)
    equipment: str = Field("", max_length=1000)


def home_out(h: Home) -> dict[str, Any]:
    return {
        "id": h.pk,
        "school": h.school.code,
        "school_name": h.school.name,
        "name": h.name,
        "opening_hours": h.opening_hours,
        "equipment": h.equipment,
        "inside": h.visits.filter(signed_out_at__isnull=True).count(),
    }


def _home(request: HttpRequest, pk: int) -> Home:
    return get_object_or_404(Home.objects.visible_to(request.user).select_related("school"), pk=pk)


@homes_router.get("", response=list[HomeOut])
@paginate(Pages, page_size=50)
def list_homes(request: HttpRequest):
    qs = Home.objects.visible_to(request.user).select_related("school").order_by("id")
    return LazyOut(qs, home_out)


@homes_router.post("", response={201: HomeOut, 422: ErrorsOut})
def create_home(request: HttpRequest, payload: HomeIn):
    services.check_manager(request.user)
    school = get_object_or_404(scope.schools(request.user, "manage"), code=payload.school.strip())
    home = homes.create_home(
        school=school, values=payload.model_dump(exclude={"school"}), by=request.user
    )
    return Status(201, home_out(home))


@homes_router.get("/{home_id}", response=HomeOut)
def get_home(request: HttpRequest, home_id: Id):
    return home_out(_home(request, home_id))


class VisitOut(Schema):
    id: int
    child: int
    name: str
    signed_in_at: dt.datetime
    signed_out_at: dt.datetime | None
    on_duty: str | None


def visit_out(v) -> dict[str, Any]:
    return {
        "id": v.pk,
        "child": v.child_id,
        "name": v.child.name,
        "signed_in_at": v.signed_in_at,
        "signed_out_at": v.signed_out_at,
        "on_duty": str(v.on_duty) if v.on_duty_id else None,
    }


@homes_router.get("/{home_id}/visits", response=list[VisitOut])
def list_visits(request: HttpRequest, home_id: Id):
    """The children inside now (signed in, not out)."""
    home = _home(request, home_id)
    return [visit_out(v) for v in homes.present_now(home, request.user)]


class VisitIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    action: Literal["in", "out"] = Field("in", description="in 签到，out 签退")


@homes_router.post(
    "/{home_id}/visits",
    response={200: VisitOut, 201: VisitOut, 422: ErrorsOut},
)
def sign(request: HttpRequest, home_id: Id, payload: VisitIn):
    """Sign a child in (201; 200 when she is already inside) or out (200)."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    child = services.visible_child(request.user, payload.child)
    if payload.action == "out":
        return Status(200, visit_out(homes.sign_out(home=home, child=child, by=request.user)))
    visit, created = homes.sign_in(home=home, child=child, by=request.user)
    return Status(201 if created else 200, visit_out(visit))


class CallIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    with_whom: str = Field(..., max_length=1000)
    notes: str = Field("", max_length=10000)


class CallOut(Schema):
    contact: int
    child: int
    kind: str
    with_whom: str
    at: dt.datetime


@homes_router.post(
    "/{home_id}/calls",
    response={201: CallOut, 422: ErrorsOut},
)
def family_call(request: HttpRequest, home_id: Id, payload: CallIn):
    """A call or video call with a parent at the home, logged as a `family_call` contact."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    child = services.visible_child(request.user, payload.child)
    contact = homes.log_family_call(
        home=home,
        child=child,
        with_whom=payload.with_whom,
        notes=payload.notes,
        by=request.user,
        key=request.headers.get("Idempotency-Key", ""),
    )
    return Status(
        201,
        {
            "contact": contact.pk,
            "child": child.pk,
            "kind": contact.kind,
            "with_whom": contact.with_whom,
            "at": contact.at,
        },
    )


class UseOut(Schema):
    month: str
    visits: int
    children: int
    per_child: list[dict[str, Any]]


@homes_router.get(
    "/{home_id}/use",
    response={200: UseOut, 422: ErrorsOut},
)
def monthly_use(request: HttpRequest, home_id: Id, month: str | None = Query(None)):
    """A month's sign-ins (`month` 2026-11, default this month)."""
    home = _home(request, home_id)
    return homes.monthly_use(home, request.user, month=month)


@homes_router.get(
    "/{home_id}/never-came",
    response=list[dict[str, Any]],
)
def never_came(request: HttpRequest, home_id: Id):
    """Left-behind children of the home's school who have not come this term."""
    home = _home(request, home_id)
    return [_child_brief(c) for c in homes.never_came(home, request.user)]


class DutyOut(Schema):
    id: int
    on: dt.date
    starts_at: dt.time
    ends_at: dt.time
    staff: str
    staff_name: str


class DutyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    on: dt.date
    starts_at: dt.time
    ends_at: dt.time
    staff: str = Field(..., max_length=150, description="值班人员的登录名（本校教职工）")


def duty_out(d) -> dict[str, Any]:
    return {
        "id": d.pk,
        "on": d.on,
        "starts_at": d.starts_at,
        "ends_at": d.ends_at,
        "staff": d.staff.username,
        "staff_name": str(d.staff),
    }


@homes_router.get("/{home_id}/duties", response=list[DutyOut])
def list_duties(request: HttpRequest, home_id: Id, days: int = Query(14, ge=1, le=92)):
    """The rota (值班表) from today for `days` days."""
    home = _home(request, home_id)
    return [duty_out(d) for d in homes.rota(home, days=days)]


@homes_router.post(
    "/{home_id}/duties",
    response={201: DutyOut, 422: ErrorsOut},
)
def add_duty(request: HttpRequest, home_id: Id, payload: DutyIn):
    """Put a member of the school's staff (login name) on the rota (the school's managers)."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    services.check_manager(request.user, home.school)
    staff = homes.home_staff(home).filter(username=payload.staff.strip()).first()
    values = payload.model_dump() | {"staff": staff.pk if staff else "x"}
    return Status(201, duty_out(homes.add_duty(home=home, values=values, by=request.user)))
