"""/api/v1/inspections/{id}/findings, …/accuracy and /api/v1/inspections/corrections/{id}: what
the visit found for each sampled child, the card accuracy, and the class teacher's decision on
a proposed correction. The routes are on api.py's `router`, which imports this module last.

Operation ids are those the routes had in api.py, so clients generated from the schema keep
their names."""

from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Schema, Status
from pydantic import ConfigDict

from guanai.api_common import ErrorsOut
from guanai.children.models import Child
from guanai.lib.bounds import Id
from guanai.lib.errors import Invalid

from . import findings
from .api import _visible, _workable, may_inspect, router
from .models import CheckField, Correction, FindingCheck


class CheckIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: Literal[tuple(CheckField.values)]  # type: ignore[valid-type]
    correct: bool
    found: str = Field("", max_length=200)


class FindingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    visited: bool
    met_whom: str = Field("", max_length=100)
    notes: str = Field("", max_length=2000)
    checks: list[CheckIn] = Field(default_factory=list, max_length=len(CheckField.values))


class CheckOut(Schema):
    id: int
    field: str
    field_label: str
    correct: bool
    recorded: str
    found: str
    correction: str | None


class FindingOut(Schema):
    id: int
    child: int
    child_name: str
    visited: bool
    met_whom: str
    notes: str
    checks: list[CheckOut]


def finding_out(finding) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "child": finding.child_id,
        "child_name": finding.child.name,
        "visited": finding.visited,
        "met_whom": finding.met_whom,
        "notes": finding.notes,
        "checks": [
            {
                "id": c.pk,
                "field": c.field,
                "field_label": c.get_field_display(),
                "correct": c.correct,
                "recorded": c.recorded,
                "found": c.found,
                "correction": c.correction or None,
            }
            for c in finding.checks.all()
        ],
    }


@router.post(
    "/{inspection_id}/findings",
    response={201: FindingOut, 422: ErrorsOut},
)
def add_finding(request: HttpRequest, inspection_id: Id, payload: FindingIn):
    """What the visit found for a sampled child; wrong values become proposed corrections."""
    inspection = _workable(request, inspection_id)
    child = Child.objects.filter(pk=payload.child, school=inspection.school).first()
    if child is None or child.pk not in inspection.sample:
        raise Invalid({"child": "该儿童不在本次抽样名单中"})
    finding = findings.record_finding(
        inspection=inspection,
        child=child,
        visited=payload.visited,
        met_whom=payload.met_whom,
        notes=payload.notes,
        checks=[c.dict() for c in payload.checks],
        by=request.user,
    )
    return Status(201, finding_out(finding))


@router.get(
    "/{inspection_id}/findings",
    response=list[FindingOut],
)
def list_findings(request: HttpRequest, inspection_id: Id):
    inspection = _visible(request, inspection_id)
    if not (inspection.sample_open or may_inspect(request.user, inspection)):
        raise PermissionDenied("检查开始后才能查看走访结果")
    rows = inspection.findings.select_related("child").prefetch_related("checks")
    return [finding_out(f) for f in rows]


class DiscrepancyOut(Schema):
    check: int
    child: int
    child_name: str
    field: str
    field_label: str
    recorded: str
    found: str
    correction: str | None


class AccuracyOut(Schema):
    checked: int
    wrong: int
    rate: float | None
    discrepancies: list[DiscrepancyOut]


@router.get(
    "/{inspection_id}/accuracy",
    response=AccuracyOut,
)
def accuracy(request: HttpRequest, inspection_id: Id):
    """The school's card accuracy in this inspection (fields checked vs wrong) and the list of
    discrepancies."""
    inspection = _visible(request, inspection_id)
    if not (inspection.sample_open or may_inspect(request.user, inspection)):
        raise PermissionDenied("检查开始后才能查看走访结果")
    return findings.accuracy(inspection)


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    accept: bool


@router.post(
    "/corrections/{check_id}",
    response={200: CheckOut, 422: ErrorsOut},
)
def decide(request: HttpRequest, check_id: Id, payload: DecisionIn):
    """The class teacher (whoever may change the child's card) accepts or rejects a proposed
    correction; an accepted one is written to the card, the history naming the inspection."""
    check = get_object_or_404(
        FindingCheck.objects.filter(
            finding__child__in=Child.objects.visible_to(request.user),
            correction__in=[Correction.PROPOSED, Correction.ACCEPTED, Correction.REJECTED],
        ).select_related("finding"),
        pk=check_id,
    )
    findings.check_may_correct(request.user, check)  # before the body (guanai/api.py)
    check = findings.decide_correction(check=check, accept=payload.accept, by=request.user)
    return {
        "id": check.pk,
        "field": check.field,
        "field_label": check.get_field_display(),
        "correct": check.correct,
        "recorded": check.recorded,
        "found": check.found,
        "correction": check.correction or None,
    }
