"""Findings of an inspection visit (走访结果): the card values checked against what the visit
found, the corrections they propose to the class teacher and her decision (written to the card
with the history naming the inspection), and the card accuracy per inspection and per school."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.children.validation import CardInvalid, clean_card
from guanai.lib.errors import Invalid

from .models import (
    CARD_KEY,
    CheckField,
    Correction,
    Finding,
    FindingCheck,
    Inspection,
    Status,
)


def card_value(child: Child, field: str) -> str:
    """The card's value of a checked field, in words (the 档卡记载 column)."""
    guardian = getattr(child, "guardian", None)
    father, mother = child.parent("father"), child.parent("mother")
    if field == "address":
        return " ".join(x for x in (child.village, child.group, child.address) if x)
    if field == "guardian":
        return guardian.name if guardian else ""
    if field == "guardian_phone":
        return guardian.phone if guardian else ""
    if field == "father_status":
        return father.get_status_display() if father and father.status else ""
    if field == "mother_status":
        return mother.get_status_display() if mother and mother.status else ""
    if field == "work_place":
        places = [
            f"{p.get_relation_display()}：{p.work_place or p.work_city or p.work_province}"
            for p in (father, mother)
            if p and (p.work_place or p.work_city or p.work_province)
        ]
        return "；".join(places)
    return child.get_category_display()


def card_key(child: Child, field: str) -> str | None:
    """The card key a correction of `field` writes; work place goes to the parent away (the
    father when both or neither are)."""
    if field != "work_place":
        return CARD_KEY[field]
    mother = child.parent("mother")
    father = child.parent("father")
    if mother and mother.status == "away" and not (father and father.status == "away"):
        return "mother.work_place"
    return "father.work_place"


@transaction.atomic
def record_finding(
    *,
    inspection: Inspection,
    child: Child,
    visited: bool,
    checks: list[dict[str, Any]],
    by,
    met_whom: str = "",
    notes: str = "",
) -> Finding:
    """Record (or replace) what the visit found for a sampled child. Each wrong value of a
    typed field must be a valid card value and becomes a correction proposed to the class
    teacher; a wrong category is a discrepancy only (the category is derived)."""
    if inspection.status != Status.IN_PROGRESS:
        raise Invalid({"child": "检查开始后（进行中）才能记录走访结果"})
    if child.pk not in inspection.sample:
        raise Invalid({"child": "该儿童不在本次抽样名单中"})
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for i, check in enumerate(checks):
        field = check.get("field")
        if field not in CheckField.values:
            errors[f"checks.{i}.field"] = "核对项目不在清单中"
            continue
        if field in seen:
            errors[f"checks.{i}.field"] = f"“{CheckField(field).label}”重复了"
        seen.add(field)
        found = (check.get("found") or "").strip()
        if check.get("correct"):
            continue
        if not found:
            errors[f"checks.{i}.found"] = f"“{CheckField(field).label}”不正确时请填写实际情况"
            continue
        key = card_key(child, field)
        if key:
            try:
                clean_card({key: found})
            except CardInvalid as exc:
                errors[f"checks.{i}.found"] = next(iter(exc.errors.values()))
    if errors:
        raise Invalid(errors)
    Finding.objects.filter(inspection=inspection, child=child).delete()
    finding = Finding.objects.create(
        inspection=inspection,
        child=child,
        visited=visited,
        met_whom=met_whom.strip(),
        notes=notes.strip(),
        by=by,
    )
    FindingCheck.objects.bulk_create(
        FindingCheck(
            finding=finding,
            field=c["field"],
            correct=bool(c.get("correct")),
            recorded=card_value(child, c["field"])[:200],
            found=(c.get("found") or "").strip()[:200],
            correction=(
                Correction.PROPOSED
                if not c.get("correct") and card_key(child, c["field"])
                else Correction.NONE
            ),
        )
        for c in checks
    )
    return finding


def accuracy(inspection: Inspection) -> dict[str, Any]:
    """The card accuracy of the inspected school in this inspection: fields checked, wrong,
    the rate (None before any check) and the discrepancies."""
    checks = list(
        FindingCheck.objects.filter(finding__inspection=inspection).select_related("finding__child")
    )
    wrong = [c for c in checks if not c.correct]
    rate = round((len(checks) - len(wrong)) / len(checks), 4) if checks else None
    return {
        "checked": len(checks),
        "wrong": len(wrong),
        "rate": rate,
        "discrepancies": [
            {
                "check": c.pk,
                "child": c.finding.child_id,
                "child_name": c.finding.child.name,
                "field": c.field,
                "field_label": c.get_field_display(),
                "recorded": c.recorded,
                "found": c.found,
                "correction": c.correction or None,
            }
            for c in wrong
        ],
    }


@transaction.atomic
def decide_correction(*, check: FindingCheck, accept: bool, by) -> FindingCheck:
    """The class teacher accepts a proposed correction (written to the card, the history naming
    the inspection) or rejects it."""
    check = (
        FindingCheck.objects.select_for_update()
        .select_related("finding__inspection")
        .get(pk=check.pk)
    )
    if check.correction != Correction.PROPOSED:
        raise Invalid({"correction": "这条更正已经处理过了"})
    child = Child.objects.get(pk=check.finding.child_id)
    if accept:
        key = card_key(child, check.field)
        inspection = check.finding.inspection
        update_child(
            child=child,
            data={key: check.found},
            version=child.version,
            by=by,
            reason=f"督导检查（{inspection}）核实更正：{check.get_field_display()}",
        )
    check.correction = Correction.ACCEPTED if accept else Correction.REJECTED
    check.decided_by = by
    check.decided_at = timezone.now()
    check.save(update_fields=["correction", "decided_by", "decided_at"])
    return check


def check_may_correct(user, check: FindingCheck) -> None:
    """403 unless the user may change the card the correction is for (its class teacher, the
    school's leaders, the town): a reader who sees the child — the inspector — may not."""
    if not Child.objects.visible_to(user, "change").filter(pk=check.finding.child_id).exists():
        raise PermissionDenied("只有能修改该档卡的老师可以处理更正")


def accuracy_by_school(inspections) -> list[dict[str, Any]]:
    """Card accuracy per school over the given inspections (checked fields, wrong ones, rate),
    in one query: how true each school's cards are."""
    from django.db.models import Count

    rows = (
        FindingCheck.objects.filter(finding__inspection__in=inspections)
        .values("finding__inspection__school__name", "finding__inspection__school__code")
        .annotate(checked=Count("id"), wrong=Count("id", filter=Q(correct=False)))
        .order_by("finding__inspection__school__code")
    )
    return [
        {
            "school": r["finding__inspection__school__name"],
            "checked": r["checked"],
            "wrong": r["wrong"],
            "percent": f"{(r['checked'] - r['wrong']) / r['checked'] * 100:.1f}%",
        }
        for r in rows
    ]
