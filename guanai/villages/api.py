"""/api/v1/villages (mounted in guanai/api.py): the 委托监护确认书 of the children in scope."""

import base64
import binascii
import datetime as dt

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts import scope
from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.errors import Invalid

from . import services
from .models import Entrustment

router = Router(tags=["villages"])

# 10 MB as base64 (4 characters for every 3 bytes), and a little more.
MAX_SCAN_BASE64 = 10 * 2**20 * 4 // 3 + 8
ENTRUSTERS_ONLY = "只有儿童主任、儿童督导员、校领导和镇管理员可以登记委托监护确认书"


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


class EntrustmentIn(Schema):
    """A signed confirmation; `scan` is the file (JPG, PNG or PDF of at most 10 MB) in base64."""

    model_config = ConfigDict(extra="forbid")
    child: Id
    guardian_name: str = Field(..., max_length=50)
    guardian_relation: str = Field(..., max_length=20)
    signed_on: dt.date
    scan: str = Field(..., max_length=MAX_SCAN_BASE64, description="扫描件（base64）")


def _upload(data: str) -> SimpleUploadedFile:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid({"scan": "扫描件应为 base64 编码的 JPG、PNG 照片或 PDF 文件"}) from None
    return SimpleUploadedFile("scan", raw)


@router.post("/entrustments", response={201: EntrustmentOut, 422: ErrorsOut})
def post_entrustment(request: HttpRequest, payload: EntrustmentIn):
    """Record a signed 委托监护确认书. Roles without the `entrust` action: 403 (before the
    body); a child outside the scope: 404; a child seen but outside the `entrust` units: 403."""
    if not scope.acts_as(request.user, "entrust"):
        raise PermissionDenied(ENTRUSTERS_ONLY)
    target = get_object_or_404(Child.objects.visible_to(request.user), pk=payload.child)
    if not services.entrust_children(request.user).filter(pk=target.pk).exists():
        raise PermissionDenied(ENTRUSTERS_ONLY)
    record = services.record_entrustment(
        child=target,
        guardian_name=payload.guardian_name,
        guardian_relation=payload.guardian_relation,
        signed_on=payload.signed_on,
        scan=_upload(payload.scan) if payload.scan else None,
        by=request.user,
    )
    record = Entrustment.objects.select_related("child", "child__school", "recorded_by").get(
        pk=record.pk
    )
    return Status(201, entrustment_out(record))
