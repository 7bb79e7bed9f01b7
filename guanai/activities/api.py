"""/api/v1/activities; /api/v1/donations is api_donations.py, /api/v1/homes (留守儿童之家)
api_homes.py; all three mounted in guanai/api.py.

Reading follows the school (`scope.schools(user, "view")`; a proxy parent also sees the
activities his children are on); planning, recording donations and setting up homes is the
school's managers' (403 for other roles, 404 for a school outside the scope); attendance and
door sign-ins follow the child (`contact`). The inspector changes nothing (403). Rights are
checked before the body is read (guanai/api.py, "scope before the body").
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.errors import Invalid

from . import services
from .models import Activity, ActivityKind, ActivityPhoto, Participant

activities_router = Router(tags=["activities"])

Kind = Literal[tuple(ActivityKind.values)]  # type: ignore[valid-type]


def _child_brief(child: Child) -> dict[str, Any]:
    return {
        "child": child.pk,
        "name": child.name,
        "grade": child.school_class.grade,
        "class_no": child.school_class.class_no,
        "category": child.category,
    }


# --- activities -------------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    school: str
    school_name: str
    kind: str
    kind_label: str
    title: str
    goal: str
    starts_on: dt.date
    ends_on: dt.date
    place: str
    organiser: str
    partners: str
    budget: Decimal | None
    summary: str
    participants: int
    present: int


class ActivityIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    kind: Kind
    title: str = Field(..., max_length=1000)
    goal: str = Field("", max_length=10000)
    starts_on: dt.date
    ends_on: dt.date | None = None
    place: str = Field("", max_length=1000)
    organiser: str = Field("", max_length=1000)
    partners: str = Field("", max_length=1000)
    budget: Decimal | None = Field(None, description="预算，元")
    summary: str = Field("", max_length=10000)


class ActivityPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = None
    title: str | None = Field(None, max_length=1000)
    goal: str | None = Field(None, max_length=10000)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    place: str | None = Field(None, max_length=1000)
    organiser: str | None = Field(None, max_length=1000)
    partners: str | None = Field(None, max_length=1000)
    budget: Decimal | None = None
    summary: str | None = Field(None, max_length=10000)


def activity_out(a: Activity) -> dict[str, Any]:
    counts = getattr(a, "_counts", None)
    if counts is None:
        rows = list(a.participants.values_list("present", flat=True))
        counts = (len(rows), sum(1 for p in rows if p))
    return {
        "id": a.pk,
        "school": a.school.code,
        "school_name": a.school.name,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "title": a.title,
        "goal": a.goal,
        "starts_on": a.starts_on,
        "ends_on": a.ends_on,
        "place": a.place,
        "organiser": a.organiser,
        "partners": a.partners,
        "budget": a.budget,
        "summary": a.summary,
        "participants": counts[0],
        "present": counts[1],
    }


def _activity(request: HttpRequest, pk: int) -> Activity:
    qs = Activity.objects.visible_to(request.user).select_related("school")
    return get_object_or_404(qs, pk=pk)


@activities_router.get("", response=list[ActivityOut])
@paginate(Pages, page_size=50)
def list_activities(
    request: HttpRequest,
    school: str | None = None,
    kind: Kind | None = None,
    term: str | None = None,
):
    """Activities the user sees, by id; filters `school` (code), `kind`, `term` (2026-2027-1)."""
    qs = Activity.objects.visible_to(request.user).select_related("school")
    if school:
        qs = qs.filter(school__code=school)
    if kind:
        qs = qs.filter(kind=kind)
    if term:
        try:
            first, last = services.term_range(term)
        except ValueError as exc:
            raise Invalid({"term": str(exc)}, source="query") from None
        qs = qs.filter(starts_on__gte=first, starts_on__lte=last)
    return LazyOut(qs.order_by("id"), activity_out)


class CoverageRow(Schema):
    school: str
    grade: int
    class_no: int
    left_behind: int
    reached: int
    not_reached: list[dict[str, Any]]


@activities_router.get("/coverage", response=list[CoverageRow])
def coverage(request: HttpRequest, term: str | None = None):
    """Per class: left-behind children of the user's scope and those who took part in no
    activity this term (or `term`)."""
    try:
        rows = services.coverage(request.user, term=term)
    except ValueError as exc:
        raise Invalid({"term": str(exc)}, source="query") from None
    return [
        {
            "school": r["school"].code,
            "grade": r["klass"].grade,
            "class_no": r["klass"].class_no,
            "left_behind": r["total"],
            "reached": r["reached"],
            "not_reached": [{"child": c.pk, "name": c.name} for c in r["missed"]],
        }
        for r in rows
    ]


class PhotoOut(Schema):
    id: int
    child: int
    name: str
    created_at: dt.datetime
    url: str


def photo_out(p: ActivityPhoto) -> dict[str, Any]:
    return {
        "id": p.pk,
        "child": p.child_id,
        "name": p.child.name,
        "created_at": p.created_at,
        "url": f"/api/v1/activities/photos/{p.pk}",
    }


@activities_router.get("/photos/{photo_id}", response={200: None})
def download_photo(request: HttpRequest, photo_id: Id):
    """One photo's file (image/jpeg or image/png), for users who see both the activity and
    the child; else 404."""
    item = get_object_or_404(
        ActivityPhoto.objects.filter(
            activity__in=Activity.objects.visible_to(request.user),
            child__in=Child.objects.visible_to(request.user),
        ),
        pk=photo_id,
    )
    ext = item.file.name.rsplit(".", 1)[-1].lower()
    kind = {"jpg": "image/jpeg", "png": "image/png"}.get(ext, "application/octet-stream")
    response = FileResponse(item.file.open("rb"), content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response


@activities_router.post("", response={201: ActivityOut, 422: ErrorsOut})
def create_activity(request: HttpRequest, payload: ActivityIn):
    """Plan an activity (the school's leaders, the town)."""
    services.check_manager(request.user)  # before the body
    school = get_object_or_404(scope.schools(request.user, "manage"), code=payload.school.strip())
    values = payload.model_dump(exclude={"school"})
    activity = services.create_activity(school=school, values=values, by=request.user)
    return Status(201, activity_out(activity))


@activities_router.get("/{activity_id}", response=ActivityOut)
def get_activity(request: HttpRequest, activity_id: Id):
    return activity_out(_activity(request, activity_id))


@activities_router.patch("/{activity_id}", response={200: ActivityOut, 422: ErrorsOut})
def patch_activity(request: HttpRequest, activity_id: Id, payload: ActivityPatch):
    """Change the plan or write the summary afterwards."""
    services.check_writer(request.user)
    activity = _activity(request, activity_id)
    services.check_manager(request.user, activity.school)
    values = payload.model_dump(exclude_unset=True)
    for key in ("kind", "title", "starts_on"):
        if key in values and values[key] is None:
            raise Invalid({key: "不能为空"})
    activity = services.update_activity(activity=activity, values=values, by=request.user)
    return activity_out(activity)


class ParticipantOut(Schema):
    child: int
    name: str
    grade: int
    class_no: int
    category: str
    present: bool | None
    late_added: bool


def participant_out(p: Participant) -> dict[str, Any]:
    return _child_brief(p.child) | {"present": p.present, "late_added": p.late_added}


@activities_router.get("/{activity_id}/participants", response=list[ParticipantOut])
def list_participants(request: HttpRequest, activity_id: Id):
    """The list, only the children the user may see (a proxy parent: his own)."""
    activity = _activity(request, activity_id)
    rows = activity.participants.filter(child__in=Child.objects.visible_to(request.user))
    rows = rows.select_related("child__school_class").order_by(
        "child__school_class__grade", "child__school_class__class_no", "child__name_pinyin", "id"
    )
    return [participant_out(p) for p in rows]


class ParticipantsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    children: list[Id] = Field(..., max_length=2000)


@activities_router.post(
    "/{activity_id}/participants", response={200: list[ParticipantOut], 422: ErrorsOut}
)
def add_participants(request: HttpRequest, activity_id: Id, payload: ParticipantsIn):
    """Put children (ids) on the list; ids already on it are left as they are."""
    services.check_writer(request.user)
    activity = _activity(request, activity_id)
    services.check_manager(request.user, activity.school)
    if not payload.children:
        raise Invalid({"children": "请至少选择一名儿童"})
    rows = services.add_participants(
        activity=activity, child_ids=list(payload.children), by=request.user
    )
    return [participant_out(p) for p in rows]


class AttendanceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    present: bool


@activities_router.post("/{activity_id}/attendance", response={200: ParticipantOut, 422: ErrorsOut})
def attendance(request: HttpRequest, activity_id: Id, payload: AttendanceIn):
    """Mark one child present or absent; a child not on the list is added (a late-comer)."""
    services.check_writer(request.user)
    activity = _activity(request, activity_id)
    child = services.visible_child(request.user, payload.child)
    p = services.mark(activity=activity, child=child, present=payload.present, by=request.user)
    return participant_out(p)


@activities_router.get("/{activity_id}/photos", response=list[PhotoOut])
def list_photos(request: HttpRequest, activity_id: Id):
    """The activity's photos of the children the user sees."""
    activity = _activity(request, activity_id)
    return [photo_out(p) for p in services.photos_for(activity, request.user)]


@activities_router.post("/{activity_id}/photos", response={201: PhotoOut, 422: ErrorsOut})
def upload_photo(
    request: HttpRequest,
    activity_id: Id,
    child: Form[str],
    photo: File[UploadedFile],
):
    """A photo (JPG or PNG, multipart `photo`) of a child on the list (`child`): refused, 422
    naming `photos` with the reason, when her card records no photo consent; the child must
    be one the user takes the attendance of (else 403; outside the scope 404)."""
    services.check_writer(request.user)
    activity = _activity(request, activity_id)
    raw = str(child).strip()
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid({"child": "请填写儿童编号"})
    found = services.visible_child(request.user, int(raw))
    item = services.add_photo(activity=activity, child=found, upload=photo, by=request.user)
    return Status(201, photo_out(item))


class PublicityIn(Schema):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["news", "wall", "wechat", "other"]
    issued_on: dt.date | None = None


class PublicityOut(Schema):
    id: int
    channel: str
    channel_label: str
    issued_on: dt.date


@activities_router.post("/{activity_id}/publicity", response={201: PublicityOut, 422: ErrorsOut})
def issue_publicity(request: HttpRequest, activity_id: Id, payload: PublicityIn):
    """Record that the activity's publicity summary was issued (news, wall, wechat, other),
    counted as 宣传; the school's managers."""
    services.check_writer(request.user)
    activity = _activity(request, activity_id)
    services.check_manager(request.user, activity.school)
    item = services.issue_publicity(activity=activity, values=payload.model_dump(), by=request.user)
    return Status(
        201,
        {
            "id": item.pk,
            "channel": item.channel,
            "channel_label": item.get_channel_display(),
            "issued_on": item.issued_on,
        },
    )
