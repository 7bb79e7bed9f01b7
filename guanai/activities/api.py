"""/api/v1/activities, /api/v1/donations, /api/v1/homes (留守儿童之家); mounted in guanai/api.py.

Reading follows the school (`scope.schools(user, "view")`; a proxy parent also sees the
activities his children are on); planning, recording donations and setting up homes is the
school's managers' (403 for other roles, 404 for a school outside the scope); attendance and
door sign-ins follow the child (`contact`). The inspector changes nothing (403). Rights are
checked before the body is read (guanai/api.py, "scope before the body").
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.errors import Invalid

from . import services
from .models import Activity, ActivityKind, ActivityPhoto, Donation, Home, Participant

activities_router = Router(tags=["activities"])
donations_router = Router(tags=["donations"])
homes_router = Router(tags=["homes"])

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


# --- donations --------------------------------------------------------------------------------


class DonationOut(Schema):
    id: int
    school: str
    donor: str
    donor_kind: str
    donor_contact: str
    kind: str
    item: str
    amount: Decimal
    allocated: Decimal
    balance: Decimal
    received_on: dt.date
    notes: str
    stories: str


class DonationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    donor: str = Field(..., max_length=1000)
    donor_kind: Literal["person", "organisation"] = "person"
    donor_contact: str = Field("", max_length=1000)
    kind: Literal["money", "items"]
    item: str = Field("", max_length=1000)
    amount: Decimal = Field(..., description="现金为元，物品为件数")
    received_on: dt.date
    notes: str = Field("", max_length=10000)


def donation_out(d: Donation) -> dict[str, Any]:
    allocated = d.allocated()
    return {
        "id": d.pk,
        "school": d.school.code,
        "donor": d.donor,
        "donor_kind": d.donor_kind,
        "donor_contact": d.donor_contact,
        "kind": d.kind,
        "item": d.item,
        "amount": d.amount,
        "allocated": allocated,
        "balance": d.amount - allocated,
        "received_on": d.received_on,
        "notes": d.notes,
        "stories": d.stories,
    }


def _donation(request: HttpRequest, pk: int) -> Donation:
    qs = Donation.objects.visible_to(request.user).select_related("school").with_allocated()
    return get_object_or_404(qs, pk=pk)


@donations_router.get("", response=list[DonationOut])
@paginate(Pages, page_size=50)
def list_donations(request: HttpRequest, school: str | None = None):
    qs = Donation.objects.visible_to(request.user).select_related("school").with_allocated()
    if school:
        qs = qs.filter(school__code=school)
    return LazyOut(qs.order_by("id"), donation_out)


class FairnessChild(Schema):
    child: int
    name: str
    school: str
    grade: int
    class_no: int
    times: int
    reasons: list[str]


class FairnessOut(Schema):
    nothing: list[FairnessChild]
    several: list[FairnessChild]


@donations_router.get("/fairness", response=FairnessOut)
def fairness(request: HttpRequest):
    """Left-behind children who received nothing, and those who received several times."""
    found = services.fairness(request.user)

    def row(c: Child) -> dict[str, Any]:
        return {
            "child": c.pk,
            "name": c.name,
            "school": c.school.code,
            "grade": c.school_class.grade,
            "class_no": c.school_class.class_no,
            "times": c.n,
            "reasons": getattr(c, "reasons", []),
        }

    return {
        "nothing": [row(c) for c in found["nothing"]],
        "several": [row(c) for c in found["several"]],
    }


@donations_router.post("", response={201: DonationOut, 422: ErrorsOut})
def create_donation(request: HttpRequest, payload: DonationIn):
    """Record a gift received (the school's leaders, the town)."""
    services.check_manager(request.user)
    school = get_object_or_404(scope.schools(request.user, "manage"), code=payload.school.strip())
    values = payload.model_dump(exclude={"school"})
    donation = services.record_donation(school=school, values=values, by=request.user)
    return Status(201, donation_out(donation))


@donations_router.get("/{donation_id}", response=DonationOut)
def get_donation(request: HttpRequest, donation_id: Id):
    return donation_out(_donation(request, donation_id))


class StoriesIn(Schema):
    model_config = ConfigDict(extra="forbid")
    stories: str = Field(..., max_length=10000, description="匿名故事：不写儿童姓名、年级、班级")


@donations_router.patch("/{donation_id}", response={200: DonationOut, 422: ErrorsOut})
def patch_donation(request: HttpRequest, donation_id: Id, payload: StoriesIn):
    """Write the anonymised stories for the donor's certificate (the school's managers); 422
    naming `stories` when they name a child the donation went to, a grade or a class."""
    services.check_writer(request.user)
    donation = _donation(request, donation_id)
    services.check_manager(request.user, donation.school)
    services.set_stories(donation=donation, stories=payload.stories, by=request.user)
    return donation_out(_donation(request, donation_id))


@donations_router.get("/{donation_id}/certificate", response={200: None})
def donation_certificate(request: HttpRequest, donation_id: Id) -> HttpResponse:
    """The donor's certificate (PDF, A4): totals handed out per school, the anonymised
    stories, no child's name; the school's managers (403 for its readers), each download
    written to the access log."""
    from .views import certificate_response

    donation = _donation(request, donation_id)
    services.check_manager(request.user, donation.school)
    return certificate_response(request, donation)


class AllocationOut(Schema):
    id: int
    child: int
    name: str
    what: str
    amount: Decimal
    handed_on: dt.date
    handed_by: str
    receipt_code: str
    reason: str


class AllocationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    amount: Decimal
    what: str = Field("", max_length=1000)
    handed_on: dt.date
    handed_by: str = Field(..., max_length=1000)
    receipt_code: str = Field("", max_length=1000)
    reason: str = Field("", max_length=1000)


def allocation_out(a) -> dict[str, Any]:
    return {
        "id": a.pk,
        "child": a.child_id,
        "name": a.child.name,
        "what": a.what,
        "amount": a.amount,
        "handed_on": a.handed_on,
        "handed_by": a.handed_by,
        "receipt_code": a.receipt_code,
        "reason": a.reason,
    }


@donations_router.get("/{donation_id}/allocations", response=list[AllocationOut])
def list_allocations(request: HttpRequest, donation_id: Id):
    """What was handed to whom (only the children the user may see)."""
    donation = _donation(request, donation_id)
    rows = donation.allocations.filter(child__in=Child.objects.visible_to(request.user))
    return [allocation_out(a) for a in rows.select_related("child").order_by("id")]


@donations_router.post("/{donation_id}/allocations", response={201: AllocationOut, 422: ErrorsOut})
def allocate(request: HttpRequest, donation_id: Id, payload: AllocationIn):
    """Hand part of a donation to a child; never more than the balance (422 naming 数量)."""
    services.check_writer(request.user)
    donation = _donation(request, donation_id)
    services.check_manager(request.user, donation.school)
    child = services.visible_child(request.user, payload.child)
    values = payload.model_dump(exclude={"child"})
    allocation = services.allocate(donation=donation, child=child, values=values, by=request.user)
    return Status(201, allocation_out(allocation))


# --- children's homes -------------------------------------------------------------------------


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
    home = services.create_home(
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
    return [visit_out(v) for v in services.present_now(home, request.user)]


class VisitIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    action: Literal["in", "out"] = Field("in", description="in 签到，out 签退")


@homes_router.post("/{home_id}/visits", response={200: VisitOut, 201: VisitOut, 422: ErrorsOut})
def sign(request: HttpRequest, home_id: Id, payload: VisitIn):
    """Sign a child in (201; 200 when she is already inside) or out (200)."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    child = services.visible_child(request.user, payload.child)
    if payload.action == "out":
        return Status(200, visit_out(services.sign_out(home=home, child=child, by=request.user)))
    visit, created = services.sign_in(home=home, child=child, by=request.user)
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


@homes_router.post("/{home_id}/calls", response={201: CallOut, 422: ErrorsOut})
def family_call(request: HttpRequest, home_id: Id, payload: CallIn):
    """A call or video call with a parent at the home, logged as a `family_call` contact."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    child = services.visible_child(request.user, payload.child)
    contact = services.log_family_call(
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


@homes_router.get("/{home_id}/use", response={200: UseOut, 422: ErrorsOut})
def monthly_use(request: HttpRequest, home_id: Id, month: str | None = Query(None)):
    """A month's sign-ins (`month` 2026-11, default this month)."""
    home = _home(request, home_id)
    return services.monthly_use(home, request.user, month=month)


@homes_router.get("/{home_id}/never-came", response=list[dict[str, Any]])
def never_came(request: HttpRequest, home_id: Id):
    """Left-behind children of the home's school who have not come this term."""
    home = _home(request, home_id)
    return [_child_brief(c) for c in services.never_came(home, request.user)]


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
    return [duty_out(d) for d in services.rota(home, days=days)]


@homes_router.post("/{home_id}/duties", response={201: DutyOut, 422: ErrorsOut})
def add_duty(request: HttpRequest, home_id: Id, payload: DutyIn):
    """Put a member of the school's staff (login name) on the rota (the school's managers)."""
    services.check_writer(request.user)
    home = _home(request, home_id)
    services.check_manager(request.user, home.school)
    staff = services.home_staff(home).filter(username=payload.staff.strip()).first()
    values = payload.model_dump() | {"staff": staff.pk if staff else "x"}
    return Status(201, duty_out(services.add_duty(home=home, values=values, by=request.user)))
