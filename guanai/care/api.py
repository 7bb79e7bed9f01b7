"""/api/v1/psych: observations (any staff member files one; the counselor and school leaders
read them), the counselor's sessions, questionnaires and their results, the caseload. Reading
is for the scope table's `psych` holders only (403 for other roles, 404 outside their units);
each read of a record is written to the access log. A live psychology grant of one child
(`care/grants.py`) opens that child's records for reading: the lists asked for that child
(`?child=`) and its observations one by one, each reading logged with the grant's reference."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, Pages

from . import grants, services
from .models import Instrument, Observation, ScreeningResult, Session

router = Router(tags=["psych"])

Level = Literal["normal", "watch", "high"]
ReferralCode = Literal["", "counselor", "outside"]
SHOWN = "已提交"


class ObservationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    level: Level
    what: str = Field(max_length=1000)
    referral: ReferralCode = ""
    next_review_on: dt.date | None = None


class SessionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    notes: str = Field(max_length=2000)
    level: Level
    referral: ReferralCode = ""
    next_review_on: dt.date | None = None
    at: dt.datetime | None = None


class ScreeningIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    instrument: Id
    answers: list[Annotated[int, Field(ge=0, le=99)]] = Field(max_length=200)


class SubmittedOut(Schema):
    """What the filer reads back of an observation she may not read."""

    id: int
    child: int
    child_name: str
    submitted_at: dt.datetime
    status: str


class ObservationOut(Schema):
    id: int
    child: int
    child_name: str
    at: dt.datetime
    by: str
    level: str
    what: str
    referral: str
    next_review_on: dt.date | None


class SessionOut(Schema):
    id: int
    child: int
    child_name: str
    at: dt.datetime
    by: str
    notes: str
    level: str
    referral: str
    next_review_on: dt.date | None


class ScreeningOut(Schema):
    id: int
    child: int
    child_name: str
    instrument: str
    at: dt.datetime
    by: str
    score: int
    level: str
    answers: list[int]


class InstrumentOut(Schema):
    id: int
    name: str
    description: str
    items: list[dict[str, Any]]
    thresholds: list[dict[str, Any]]


class CaseOut(Schema):
    child: int
    child_name: str
    grade: int
    class_no: int
    level: str
    last_at: dt.datetime
    next_review_on: dt.date | None
    review_due: bool
    referral: str


class RecordFilter(FilterSchema):
    child: Id | None = None
    level: Level | None = None


def _reader(request: HttpRequest) -> None:
    if not services.reads_psych(request.user):
        raise PermissionDenied("心理关爱记录仅限心理辅导老师和学校领导查看")


def _child_for_report(request: HttpRequest, payload: "ObservationIn") -> Child:
    # The role first, before the body is read (guanai/api.py: scope before body).
    if not services.may_report(request.user):
        raise PermissionDenied("您的角色不能记录心理关注")
    return get_object_or_404(Child.objects.visible_to(request.user), pk=payload.child)


def _log(request: HttpRequest, child: Child, what: str) -> None:
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.VIEW_SENSITIVE,
        child=child,
        detail=f"查看心理记录：{what}",
    )


def _granted(request: HttpRequest, filters: RecordFilter, model, what: str) -> QuerySet | None:
    """The records of the one child a live grant opens to a reader who does not hold it by
    role, when a list asks for that child (logged once, naming the grant); None otherwise."""
    if filters.child is None:
        return None
    found = grants.granted_child(request.user, filters.child)
    if found is None:
        return None
    child, grant = found
    grants.log_granted_read(request, child, grant, what=f"查看心理记录：{what}")
    return filters.filter(model.objects.filter(child=child).select_related("child", "by"))


def _common(r) -> dict[str, Any]:
    return {
        "id": r.pk,
        "child": r.child_id,
        "child_name": r.child.name,
        "at": r.at,
        "by": str(r.by),
        "level": r.level,
    }


def observation_out(o) -> dict[str, Any]:
    return _common(o) | {"what": o.what, "referral": o.referral, "next_review_on": o.next_review_on}


def session_out(s) -> dict[str, Any]:
    return _common(s) | {
        "notes": s.notes,
        "referral": s.referral,
        "next_review_on": s.next_review_on,
    }


def screening_out(r) -> dict[str, Any]:
    return _common(r) | {"instrument": r.instrument.name, "score": r.score, "answers": r.answers}


@router.post(
    "/observations",
    response={201: ObservationOut | SubmittedOut, 403: ErrorsOut, 404: ErrorsOut},
)
def file_observation(request: HttpRequest, payload: ObservationIn):
    """File an observation (心理关注). Any staff member who may see the child; she reads back
    "已提交" unless she reads psychology."""
    child = _child_for_report(request, payload)
    o = services.file_observation(
        child=child,
        by=request.user,
        level=payload.level,
        what=payload.what,
        referral=payload.referral,
        next_review_on=payload.next_review_on,
    )
    if services.psych_children(request.user).filter(pk=child.pk).exists():
        return Status(201, observation_out(o))
    return Status(
        201,
        {
            "id": o.pk,
            "child": child.pk,
            "child_name": child.name,
            "submitted_at": o.created_at,
            "status": SHOWN,
        },
    )


@router.get("/observations", response=list[ObservationOut])
@paginate(Pages, page_size=50)
def list_observations(request: HttpRequest, filters: Query[RecordFilter]):
    """Observations of the children in the reader's units, newest first; those of a child a
    live grant opens when asked for that child."""
    granted = _granted(request, filters, Observation, "心理观察")
    if granted is not None:
        return [observation_out(o) for o in granted]
    _reader(request)
    return [observation_out(o) for o in filters.filter(services.observations_for(request.user))]


@router.get("/observations/{obs_id}", response=ObservationOut)
def get_observation(request: HttpRequest, obs_id: Id):
    own = services.reads_psych(request.user)
    o = services.observations_for(request.user).filter(pk=obs_id).first() if own else None
    if o is None:
        child_id = Observation.objects.filter(pk=obs_id).values_list("child_id", flat=True)
        found = grants.granted_child(request.user, child_id.first() or 0)
        if found is not None:
            o = Observation.objects.select_related("child", "by").get(pk=obs_id)
            grants.log_granted_read(request, o.child, found[1], what="查看心理记录：心理观察")
            return observation_out(o)
    _reader(request)
    if o is None:
        raise Http404("没有找到这条心理观察")
    _log(request, o.child, "心理观察")
    return observation_out(o)


@router.get("/my-observations", response=list[SubmittedOut])
@paginate(Pages, page_size=50)
def my_observations(request: HttpRequest):
    """What the user filed: the child, when, "已提交"."""
    return [
        {
            "id": o.pk,
            "child": o.child_id,
            "child_name": o.child.name,
            "submitted_at": o.created_at,
            "status": SHOWN,
        }
        for o in services.my_filings(request.user)
    ]


@router.post("/sessions", response={201: SessionOut, 403: ErrorsOut, 404: ErrorsOut})
def add_session(request: HttpRequest, payload: SessionIn):
    """A follow-up session by the counselor or a school leader."""
    _reader(request)
    child = get_object_or_404(services.psych_children(request.user), pk=payload.child)
    if request.user.is_read_only:
        raise PermissionDenied("只读角色不能记录")
    s = services.add_session(
        child=child,
        by=request.user,
        notes=payload.notes,
        level=payload.level,
        referral=payload.referral,
        next_review_on=payload.next_review_on,
        at=payload.at,
    )
    return Status(201, session_out(s))


@router.get("/sessions", response=list[SessionOut])
@paginate(Pages, page_size=50)
def list_sessions(request: HttpRequest, filters: Query[RecordFilter]):
    granted = _granted(request, filters, Session, "辅导记录")
    if granted is not None:
        return [session_out(s) for s in granted]
    _reader(request)
    return [session_out(s) for s in filters.filter(services.sessions_for(request.user))]


@router.get("/instruments", response=list[InstrumentOut])
@paginate(Pages, page_size=50)
def list_instruments(request: HttpRequest):
    _reader(request)
    return Instrument.objects.filter(active=True)


@router.post("/screenings", response={201: ScreeningOut, 403: ErrorsOut, 404: ErrorsOut})
def add_screening(request: HttpRequest, payload: ScreeningIn):
    """A questionnaire's answers (one option index per item) → score and level; needs the
    guardian's consent on the card."""
    _reader(request)
    child = get_object_or_404(services.psych_children(request.user), pk=payload.child)
    instrument = get_object_or_404(Instrument, pk=payload.instrument)
    result = services.record_screening(
        child=child, instrument=instrument, by=request.user, answers=payload.answers
    )
    return Status(201, screening_out(result))


@router.get("/screenings", response=list[ScreeningOut])
@paginate(Pages, page_size=50)
def list_screenings(request: HttpRequest, filters: Query[RecordFilter]):
    granted = _granted(request, filters, ScreeningResult, "心理测评")
    if granted is not None:
        return [screening_out(r) for r in granted.select_related("instrument")]
    _reader(request)
    return [screening_out(r) for r in filters.filter(services.screenings_for(request.user))]


@router.get("/caseload", response=list[CaseOut])
@paginate(Pages, page_size=50)
def caseload(request: HttpRequest):
    """Children at 关注 or 重点关注 (or with a review set), 重点关注 first, then by review."""
    _reader(request)
    from django.utils import timezone

    today = timezone.localdate()
    return [
        {
            "child": c.child.pk,
            "child_name": c.child.name,
            "grade": c.child.school_class.grade,
            "class_no": c.child.school_class.class_no,
            "level": c.level,
            "last_at": c.last_at,
            "next_review_on": c.next_review_on,
            "review_due": c.review_due(today),
            "referral": c.referral,
        }
        for c in services.caseload(request.user, today=today)
    ]
