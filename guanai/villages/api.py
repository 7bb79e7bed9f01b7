"""/api/v1/villages (mounted in guanai/api.py): the 委托监护确认书 of the children in scope."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages

from . import services
from .models import Entrustment

router = Router(tags=["villages"])

ENTRUSTERS_ONLY = "只有儿童主任、儿童督导员和校领导可以登记委托监护确认书"


class EntrustmentOut(Schema):
    id: int
    child: int
    child_name: str
    school: str
    guardian_name: str
    guardian_relation: str
    signed_on: dt.date
    scan_kind: str  # "pdf" or "image"
    scan_url: str
    recorded_by: str
    created_at: dt.datetime


def entrustment_out(e: Entrustment) -> dict:
    return {
        "id": e.pk,
        "child": e.child_id,
        "child_name": e.child.name,
        "school": e.child.school.code,
        "guardian_name": e.guardian_name,
        "guardian_relation": e.guardian_relation,
        "signed_on": e.signed_on,
        "scan_kind": "pdf" if e.scan.name.lower().endswith(".pdf") else "image",
        "scan_url": reverse("villages:scan", args=[e.pk]),
        "recorded_by": str(e.recorded_by),
        "created_at": e.created_at,
    }


@router.get("/entrustments", response=list[EntrustmentOut])
@paginate(Pages, page_size=50)
def list_entrustments(request: HttpRequest, child: Id | None = None):
    """Confirmations of the children the user sees, newest signing first; `child` narrows to
    one child."""
    qs = Entrustment.objects.visible_to(request.user).select_related(
        "child", "child__school", "recorded_by"
    )
    if child is not None:
        qs = qs.filter(child_id=child)
    return LazyOut(qs, entrustment_out)


@router.post("/entrustments", response={201: EntrustmentOut, 422: ErrorsOut})
def post_entrustment(
    request: HttpRequest,
    child: Form[Id],
    guardian_name: Form[str],
    guardian_relation: Form[str],
    signed_on: Form[dt.date],
    scan: File[UploadedFile | None] = None,
):
    """Record a signed 委托监护确认书 (multipart: the fields and `scan`, a JPG, PNG or PDF of at
    most 10 MB). Roles without the `entrust` action: 403; a child outside the scope: 404; a
    child seen but outside the `entrust` units: 403."""
    if not scope.acts_as(request.user, "entrust"):
        raise PermissionDenied(ENTRUSTERS_ONLY)
    target = get_object_or_404(Child.objects.visible_to(request.user), pk=child)
    if not services.entrust_children(request.user).filter(pk=target.pk).exists():
        raise PermissionDenied(ENTRUSTERS_ONLY)
    record = services.record_entrustment(
        child=target,
        guardian_name=guardian_name,
        guardian_relation=guardian_relation,
        signed_on=signed_on,
        scan=scan,
        by=request.user,
    )
    record = Entrustment.objects.select_related("child", "child__school", "recorded_by").get(
        pk=record.pk
    )
    return Status(201, entrustment_out(record))
