"""Workflows of screening (摸底排查), verification (核实) and vacation plans (roster imports in the
pages: guanai/screening/imports.py). Shared by pages, API and job handlers. Callers fetch children and schools through scope
first (Child.objects.visible_to, schools_visible_to / schools_managed_by); these functions
enforce the workflow rules and raise CardInvalid with Chinese messages keyed by field.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanai.children.models import Category, Child, Enrolment
from guanai.children.services import StaleVersion, update_child
from guanai.children.validation import CardInvalid
from guanai.lib.dates import DateError, current_term, parse_term
from guanai.lib.grades import grade_name
from guanai.lib.text import clean
from guanai.org.models import School

from .models import (
    CampaignStatus,
    CardCheck,
    CheckSource,
    FieldGroup,
    ScreeningCampaign,
    ScreeningOutcome,
    ScreeningRecord,
)

SCREENING_GROUPS = [FieldGroup.PARENTS, FieldGroup.GUARDIAN]


def this_term() -> str:
    return current_term(timezone.localdate())


def checked_term(value: str | None, *, key: str = "term") -> str:
    if not clean(value):
        return this_term()
    try:
        return parse_term(value or "")
    except DateError as exc:
        raise CardInvalid({key: str(exc)}) from None


# --- progress --------------------------------------------------------------------------------


def percent(done: int, total: int) -> int:
    return done * 100 // total if total else 0


def progress_of(children: QuerySet, done: QuerySet) -> dict[str, Any]:
    """Completion of `children` (enrolled, in scope) where `done` holds the child ids done:
    overall, per grade and per class."""
    rows = (
        children.values("school_class_id", "school_class__grade", "school_class__class_no")
        .annotate(total=Count("id"), done=Count("id", filter=Q(pk__in=done)))
        .order_by("school_class__grade", "school_class__class_no")
    )
    grades: dict[int, dict[str, Any]] = {}
    for r in rows:
        g = grades.setdefault(
            r["school_class__grade"],
            {
                "grade": r["school_class__grade"],
                "name": grade_name(r["school_class__grade"]),
                "total": 0,
                "done": 0,
                "classes": [],
            },
        )
        g["total"] += r["total"]
        g["done"] += r["done"]
        g["classes"].append(
            {
                "id": r["school_class_id"],
                "class_no": r["school_class__class_no"],
                "label": f"{grade_name(r['school_class__grade'])}({r['school_class__class_no']})班",
                "total": r["total"],
                "done": r["done"],
                "missing": r["total"] - r["done"],
                "percent": percent(r["done"], r["total"]),
            }
        )
    out_grades = []
    for g in grades.values():
        g["missing"] = g["total"] - g["done"]
        g["percent"] = percent(g["done"], g["total"])
        out_grades.append(g)
    total = sum(g["total"] for g in out_grades)
    done_n = sum(g["done"] for g in out_grades)
    return {
        "total": total,
        "done": done_n,
        "missing": total - done_n,
        "percent": percent(done_n, total),
        "grades": out_grades,
    }


# --- field-group freshness -------------------------------------------------------------------


def record_checks(*, child: Child, groups: list[str], by, source: str) -> None:
    """Mark groups of the card's fields verified now by `by`."""
    now = timezone.now()
    term = this_term()
    for group in groups:
        CardCheck.objects.update_or_create(
            child=child,
            group=group,
            defaults={"term": term, "source": source, "checked_by": by, "checked_at": now},
        )


def card_freshness(child: Child) -> list[dict[str, Any]]:
    """Each field group of the card with when it was last verified, by whom and whether that
    was this term."""
    term = this_term()
    checks = {c.group: c for c in child.checks.select_related("checked_by")}
    out = []
    for value, label in FieldGroup.choices:
        c = checks.get(value)
        out.append(
            {
                "group": value,
                "label": label,
                "checked_at": c.checked_at if c else None,
                "by": str(c.checked_by) if c and c.checked_by else None,
                "source": c.get_source_display() if c else "",
                "current": bool(c and c.term == term),
            }
        )
    return out


def stale_cards(children: QuerySet, term: str | None = None) -> QuerySet:
    """Enrolled children with some field group not verified in `term` (default this term)."""
    term = term or this_term()
    fresh = (
        CardCheck.objects.filter(term=term)
        .values("child_id")
        .annotate(n=Count("id"))
        .filter(n__gte=len(FieldGroup.values))
        .values("child_id")
    )
    return children.filter(enrolment=Enrolment.ENROLLED).exclude(pk__in=fresh)


# --- 摸底排查 -----------------------------------------------------------------------------------


@transaction.atomic
def open_campaign(*, school: School, term: str | None, by) -> ScreeningCampaign:
    """Start the term's screening of a school. Raises CardInvalid for a bad or duplicate term."""
    term = checked_term(term)
    if ScreeningCampaign.objects.filter(school=school, term=term).exists():
        raise CardInvalid({"term": f"{school.name}已有 {term} 学期的摸底排查"})
    try:
        with transaction.atomic():
            return ScreeningCampaign.objects.create(school=school, term=term, started_by=by)
    except IntegrityError:
        raise CardInvalid({"term": f"{school.name}已有 {term} 学期的摸底排查"}) from None


def screening_children(campaign: ScreeningCampaign, scope: QuerySet) -> QuerySet:
    """The campaign's students within a scope: the school's enrolled children."""
    return scope.filter(school_id=campaign.school_id, enrolment=Enrolment.ENROLLED)


def campaign_progress(campaign: ScreeningCampaign, scope: QuerySet) -> dict[str, Any]:
    done = ScreeningRecord.objects.filter(campaign=campaign).values("child_id")
    return progress_of(screening_children(campaign, scope), done)


def _check_campaign(campaign: ScreeningCampaign, child: Child) -> None:
    status = ScreeningCampaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
    if status.first() != CampaignStatus.OPEN:
        raise CardInvalid({"campaign": "本次摸底排查已结束，不能再标记"})
    if child.school_id != campaign.school_id or child.enrolment != Enrolment.ENROLLED:
        raise CardInvalid({"child": "该学生不在本校在读名单中"})


def _record_screening(
    *,
    campaign: ScreeningCampaign,
    child: Child,
    outcome: str,
    note: str,
    by,
    groups: list[str] = SCREENING_GROUPS,
) -> ScreeningRecord:
    record, _ = ScreeningRecord.objects.update_or_create(
        campaign=campaign,
        child=child,
        defaults={
            "outcome": outcome,
            "category": child.category,
            "note": clean(note)[:200],
            "screened_by": by,
            "screened_at": timezone.now(),
        },
    )
    record_checks(child=child, groups=groups, by=by, source=CheckSource.SCREENING)
    return record


@transaction.atomic
def mark_screened(
    *,
    campaign: ScreeningCampaign,
    child: Child,
    data: dict[str, Any],
    version: int,
    by,
    note: str = "",
) -> ScreeningRecord:
    """Screen a child: apply any changes to the situation (parents, guardian …) through
    update_child — the card's version guards concurrent edits — and mark the child screened.
    The parents' status must be known afterwards."""
    _check_campaign(campaign, child)
    if data:
        child = update_child(
            child=child, data=data, version=version, by=by, reason=f"{campaign.term} 摸底排查"
        )
    else:
        child = Child.objects.get(pk=child.pk)
        if child.version != version:
            raise StaleVersion()
    if child.category == Category.UNKNOWN:
        raise CardInvalid(
            {"father.status": "请填写父亲状况和母亲状况后再标记已摸排（不清楚时先联系家长）"}
        )
    return _record_screening(
        campaign=campaign, child=child, outcome=ScreeningOutcome.MARKED, note=note, by=by
    )


def not_left_behind_changes(child: Child) -> dict[str, str]:
    """What confirming "非留守" records on the card: each parent status still blank becomes
    在家 (the confirmation page says so before anything is written)."""
    data = {}
    for relation in ("father", "mother"):
        parent = child.parent(relation)
        if parent is None or not parent.status:
            data[f"{relation}.status"] = "home"
    return data


@transaction.atomic
def confirm_not_left_behind(
    *, campaign: ScreeningCampaign, child: Child, version: int, by, note: str = ""
) -> ScreeningRecord:
    """Confirm "非留守": a parent status still blank is recorded as 在家. Refused when the parents'
    facts make the child left-behind (change the parents' status instead). Only the parents'
    group counts as checked: nothing else of the card was looked at."""
    _check_campaign(campaign, child)
    child = Child.objects.prefetch_related("parents").get(pk=child.pk)
    if child.category in (Category.SINGLE, Category.DOUBLE):
        raise CardInvalid(
            {
                "category": f"按父母状况，该学生为{child.get_category_display()}，"
                "不能确认为非留守；如父母已返乡，请在“核对情况”中修改父母状况"
            }
        )
    data = not_left_behind_changes(child)
    if data:
        child = update_child(
            child=child,
            data=data,
            version=version,
            by=by,
            reason=f"{campaign.term} 摸底排查：确认非留守",
        )
    return _record_screening(
        campaign=campaign,
        child=child,
        outcome=ScreeningOutcome.NOT_LEFT_BEHIND,
        note=note,
        by=by,
        groups=[FieldGroup.PARENTS],
    )


@transaction.atomic
def close_campaign(*, campaign: ScreeningCampaign, by, reason: str = "") -> ScreeningCampaign:
    """Close a campaign. With students of the school still unscreened a reason is required;
    the completion at closing is kept."""
    campaign = ScreeningCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open:
        raise CardInvalid({"campaign": "本次摸底排查已经结束"})
    progress = campaign_progress(campaign, Child.objects.all())
    reason = clean(reason)
    if progress["missing"] and not reason:
        raise CardInvalid(
            {"reason": f"还有 {progress['missing']} 名学生未摸排，提前结束请填写原因"}
        )
    if len(reason) > 200:
        raise CardInvalid({"reason": "原因不能超过 200 个字"})
    missing = (
        screening_children(campaign, Child.objects.all())
        .exclude(pk__in=campaign.records.values("child_id"))
        .values_list("pk", flat=True)
    )
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_by = by
    campaign.closed_at = timezone.now()
    campaign.close_reason = reason
    campaign.summary = {
        "total": progress["total"],
        "done": progress["done"],
        "missing": progress["missing"],
        "missing_ids": list(missing[:2000]),
    }
    campaign.save()
    return campaign
