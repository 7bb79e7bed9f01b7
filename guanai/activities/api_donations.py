"""/api/v1/donations (捐赠): list, record, one donation and its stories, the donor's certificate,
the fairness check and the allocations to children. Rights as in api.py: the school's managers
record and hand out; others of the school read.

Operation ids are those the routes had in api.py, so clients generated from the schema keep
their names."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages

from . import donations, services
from .models import Donation

donations_router = Router(tags=["donations"])


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
    found = donations.fairness(request.user)

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


@donations_router.post(
    "",
    response={201: DonationOut, 422: ErrorsOut},
)
def create_donation(request: HttpRequest, payload: DonationIn):
    """Record a gift received (the school's leaders, the town)."""
    services.check_manager(request.user)
    school = get_object_or_404(scope.schools(request.user, "manage"), code=payload.school.strip())
    values = payload.model_dump(exclude={"school"})
    donation = donations.record_donation(school=school, values=values, by=request.user)
    return Status(201, donation_out(donation))


@donations_router.get("/{donation_id}", response=DonationOut)
def get_donation(request: HttpRequest, donation_id: Id):
    return donation_out(_donation(request, donation_id))


class StoriesIn(Schema):
    model_config = ConfigDict(extra="forbid")
    stories: str = Field(..., max_length=10000, description="匿名故事：不写儿童姓名、年级、班级")


@donations_router.patch(
    "/{donation_id}",
    response={200: DonationOut, 422: ErrorsOut},
)
def patch_donation(request: HttpRequest, donation_id: Id, payload: StoriesIn):
    """Write the anonymised stories for the donor's certificate (the school's managers); 422
    naming `stories` when they name a child the donation went to, a grade or a class."""
    services.check_writer(request.user)
    donation = _donation(request, donation_id)
    services.check_manager(request.user, donation.school)
    donations.set_stories(donation=donation, stories=payload.stories, by=request.user)
    return donation_out(_donation(request, donation_id))


@donations_router.get(
    "/{donation_id}/certificate",
    response={200: None},
)
def donation_certificate(request: HttpRequest, donation_id: Id) -> HttpResponse:
    """The donor's certificate (PDF, A4): totals handed out per school, the anonymised
    stories, no child's name; the school's managers (403 for its readers), each download
    written to the access log."""
    from .views_donations import certificate_response

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


@donations_router.get(
    "/{donation_id}/allocations",
    response=list[AllocationOut],
)
def list_allocations(request: HttpRequest, donation_id: Id):
    """What was handed to whom (only the children the user may see)."""
    donation = _donation(request, donation_id)
    rows = donation.allocations.filter(child__in=Child.objects.visible_to(request.user))
    return [allocation_out(a) for a in rows.select_related("child").order_by("id")]


@donations_router.post(
    "/{donation_id}/allocations",
    response={201: AllocationOut, 422: ErrorsOut},
)
def allocate(request: HttpRequest, donation_id: Id, payload: AllocationIn):
    """Hand part of a donation to a child; never more than the balance (422 naming 数量)."""
    services.check_writer(request.user)
    donation = _donation(request, donation_id)
    services.check_manager(request.user, donation.school)
    child = services.visible_child(request.user, payload.child)
    values = payload.model_dump(exclude={"child"})
    allocation = donations.allocate(donation=donation, child=child, values=values, by=request.user)
    return Status(201, allocation_out(allocation))
