"""核实 (verification before a vacation): rounds, who is asked and what is missing, verifying a
card, vacation plans and a grade's sign-off. 摸底排查 and the shared progress and freshness
helpers are in `services.py`."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.children.services import StaleVersion, update_child
from guanai.children.validation import CardInvalid
from guanai.lib.dates import DateError, parse_date
from guanai.lib.grades import grade_name
from guanai.lib.phone import PhoneError, parse_phone
from guanai.lib.text import clean
from guanai.lib.vocab import VocabError, parse_yes_no
from guanai.org.models import School

from .models import (
    VACATION_TERM,
    AskedOf,
    CardVerification,
    CheckSource,
    Destination,
    FieldGroup,
    GradeSignOff,
    PledgeItem,
    RoundStatus,
    Vacation,
    VacationPlan,
    VerificationResult,
    VerificationRound,
)
from .services import checked_term, progress_of, record_checks


@transaction.atomic
def open_round(
    *,
    school: School,
    term: str | None,
    vacation: str,
    deadline: Any,
    by,
    plans_of: str = AskedOf.LEFT_BEHIND,
    pledges_of: str = AskedOf.LEFT_BEHIND,
) -> VerificationRound:
    """Start a verification round before a vacation (寒假 closes the autumn term …-1, 暑假 the
    spring term …-2), with a deadline not in the past, asking for the vacation plans and the
    returned safety pledges of the left-behind children (`plans_of`, `pledges_of`: AskedOf)."""
    errors: dict[str, str] = {}
    for key, value in (("plans_of", plans_of), ("pledges_of", pledges_of)):
        if value not in AskedOf.values:
            errors[key] = "应为 " + "、".join(AskedOf.labels)
    try:
        term = checked_term(term)
    except CardInvalid as exc:
        errors.update(exc.errors)
    if vacation not in Vacation.values:
        errors["vacation"] = "假期应为 寒假 或 暑假"
    elif not errors and term and term[-1] != VACATION_TERM[Vacation(vacation)]:
        season = "秋季（…-1）" if vacation == Vacation.WINTER else "春季（…-2）"
        errors["vacation"] = f"{Vacation(vacation).label}在{season}学期末，与学期 {term} 不符"
    try:
        day = parse_date(deadline) if not isinstance(deadline, dt.date) else deadline
    except DateError as exc:
        errors["deadline"] = f"截止日期：{exc}"
        day = None
    if "deadline" not in errors:
        if day is None:
            errors["deadline"] = "请填写截止日期"
        elif day < timezone.localdate():
            errors["deadline"] = "截止日期不能早于今天"
        elif day > timezone.localdate() + dt.timedelta(days=365):
            errors["deadline"] = "截止日期不能晚于一年以后"
    if (
        not errors
        and VerificationRound.objects.filter(school=school, term=term, vacation=vacation).exists()
    ):
        errors["vacation"] = f"{school.name}已有 {term} 学期的{Vacation(vacation).label}前核实"
    if errors:
        raise CardInvalid(errors)
    return VerificationRound.objects.create(
        school=school,
        term=term,
        vacation=vacation,
        deadline=day,
        created_by=by,
        plans_of=plans_of,
        pledges_of=pledges_of,
    )


def round_children(round: VerificationRound, scope: QuerySet) -> QuerySet:
    return scope.filter(school_id=round.school_id, enrolment=Enrolment.ENROLLED)


def asked_children(children: QuerySet, asked_of: str) -> QuerySet:
    """The children of `children` whom a round asks a plan or a pledge of (AskedOf)."""
    if asked_of == AskedOf.ALL:
        return children
    if asked_of == AskedOf.LEFT_BEHIND:
        return children.filter(category__in=LEFT_BEHIND)
    return children.none()


def unverified(round: VerificationRound, children: QuerySet) -> QuerySet:
    return children.exclude(pk__in=round.verifications.values("child_id"))


def missing_plans(round: VerificationRound, children: QuerySet) -> QuerySet:
    """Children the round asks a vacation plan of who have none with a destination."""
    have = round.vacation_plans.exclude(destination="").values("child_id")
    return asked_children(children, round.plans_of).exclude(pk__in=have)


def missing_pledges(round: VerificationRound, children: QuerySet) -> QuerySet:
    """Children the round asks a safety pledge of whose pledge has not come back."""
    have = round.vacation_plans.filter(pledge_returned=True).values("child_id")
    return asked_children(children, round.pledges_of).exclude(pk__in=have)


def round_todo(round: VerificationRound, children: QuerySet) -> QuerySet:
    """Children with work left in the round: the card, or a plan or pledge it asks for."""
    return children.filter(
        Q(pk__in=unverified(round, children).values("pk"))
        | Q(pk__in=missing_plans(round, children).values("pk"))
        | Q(pk__in=missing_pledges(round, children).values("pk"))
    )


def _by_grade(children: QuerySet) -> dict[int, int]:
    rows = children.values("school_class__grade").annotate(n=Count("id")).order_by()
    return {r["school_class__grade"]: r["n"] for r in rows}


def round_progress(round: VerificationRound, scope: QuerySet) -> dict[str, Any]:
    """Cards verified per grade and class, the grade sign-offs, vacation plans and pledges,
    and per grade the plans and pledges the round asks for that are still missing."""
    children = round_children(round, scope)
    progress = progress_of(children, round.verifications.values("child_id"))
    signoffs = {s.grade: s for s in round.signoffs.select_related("signed_by")}
    no_plan = _by_grade(missing_plans(round, children))
    no_pledge = _by_grade(missing_pledges(round, children))
    for g in progress["grades"]:
        s = signoffs.get(g["grade"])
        g["signed_off"] = s is not None
        g["signed_by"] = str(s.signed_by) if s and s.signed_by else None
        g["signed_at"] = s.signed_at if s else None
        g["no_plan"] = no_plan.get(g["grade"], 0)
        g["no_pledge"] = no_pledge.get(g["grade"], 0)
        g["ready"] = not (g["missing"] or g["no_plan"] or g["no_pledge"])
    plans = round.vacation_plans.filter(child__in=children)
    progress["plans"] = plans.exclude(destination="").count()
    progress["pledges"] = plans.filter(pledge_returned=True).count()
    progress["no_plan"] = sum(no_plan.values())
    progress["no_pledge"] = sum(no_pledge.values())
    progress["signed_off"] = sum(1 for g in progress["grades"] if g["signed_off"])
    return progress


def _round_is_open(round: VerificationRound) -> bool:
    status = VerificationRound.objects.filter(pk=round.pk).values_list("status", flat=True)
    return status.first() == RoundStatus.OPEN


def _check_round(round: VerificationRound, child: Child) -> None:
    if not _round_is_open(round):
        raise CardInvalid({"round": "本轮核实已结束"})
    if child.school_id != round.school_id or child.enrolment != Enrolment.ENROLLED:
        raise CardInvalid({"child": "该学生不在本校在读名单中"})
    if round.signoffs.filter(grade=child.school_class.grade).exists():
        raise CardInvalid({"child": "该年级已签字确认，不能再修改核实结果"})


@transaction.atomic
def verify_card(
    *,
    round: VerificationRound,
    child: Child,
    data: dict[str, Any],
    version: int,
    groups: list[str],
    by,
    note: str = "",
) -> CardVerification:
    """Confirm a card (no changes) or correct it (changes through update_child, version
    guarded). The checked field groups get this check's date and name."""
    child = Child.objects.select_related("school_class").get(pk=child.pk)
    _check_round(round, child)
    bad = [g for g in groups if g not in FieldGroup.values]
    if bad or not groups:
        raise CardInvalid({"groups": "请勾选已核对的信息组（至少一项）"})
    result = VerificationResult.CONFIRMED
    if data:
        before = child.version
        child = update_child(
            child=child,
            data=data,
            version=version,
            by=by,
            reason=f"{round.term} {round.get_vacation_display()}前核实：更正",
        )
        if child.version != before:
            result = VerificationResult.CORRECTED
    elif version != child.version:
        raise StaleVersion()
    record, _ = CardVerification.objects.update_or_create(
        round=round,
        child=child,
        defaults={
            "result": result,
            "groups": sorted(set(groups)),
            "note": clean(note)[:200],
            "verified_by": by,
            "verified_at": timezone.now(),
        },
    )
    record_checks(child=child, groups=groups, by=by, source=CheckSource.VERIFICATION)
    return record


def clean_vacation_plan(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a vacation plan's raw input; Chinese messages keyed by field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    dest = clean(data.get("destination"))
    if dest and dest not in Destination.values:
        labels = {str(label): value for value, label in Destination.choices}
        if dest in labels:
            dest = labels[dest]
        else:
            errors["destination"] = "假期去向应为：" + "、".join(Destination.labels)
    out["destination"] = dest
    limits = {"place": ("去向地点", 100), "with_whom": ("看护人", 50), "activities": ("活动", 300)}
    for key, (label, limit) in limits.items():
        text = clean(data.get(key))
        if len(text) > limit:
            errors[key] = f"{label}不能超过 {limit} 个字"
        out[key] = text
    try:
        out["contact_phone"] = parse_phone(data.get("contact_phone") or "").number
    except PhoneError as exc:
        errors["contact_phone"] = f"看护人电话：{exc}"
    try:
        out["pledge_returned"] = bool(parse_yes_no(data.get("pledge_returned")))
    except VocabError as exc:
        errors["pledge_returned"] = f"责任书交回：{exc}"
        out["pledge_returned"] = False
    try:
        out["pledge_returned_on"] = parse_date(data.get("pledge_returned_on"))
    except DateError as exc:
        errors["pledge_returned_on"] = f"交回日期：{exc}"
    if out.get("pledge_returned_on") and out["pledge_returned_on"] > timezone.localdate():
        errors["pledge_returned_on"] = "交回日期不能晚于今天"
    if out["pledge_returned"] and not out.get("pledge_returned_on") and not errors:
        out["pledge_returned_on"] = timezone.localdate()
    if not out["pledge_returned"]:
        out["pledge_returned_on"] = None
    items = data.get("pledge_items") or []
    if isinstance(items, str):
        items = [items]
    bad = [i for i in items if i not in PledgeItem.values]
    if bad:
        errors["pledge_items"] = "责任书条目不正确：" + "、".join(map(str, bad))
    out["pledge_items"] = [i for i in PledgeItem.values if i in items]
    if (
        dest in (Destination.RELATIVES, Destination.PARENTS, Destination.OTHER)
        and not (out["place"])
    ):
        errors["place"] = "外出过假期请填写去向地点"
    if errors:
        raise CardInvalid(errors)
    return out


@transaction.atomic
def save_vacation_plan(
    *, round: VerificationRound, child: Child, data: dict[str, Any], by
) -> VacationPlan:
    """Record the child's vacation plan and whether the safety pledge came back."""
    child = Child.objects.select_related("school_class").get(pk=child.pk)
    if not _round_is_open(round):
        raise CardInvalid({"round": "本轮核实已结束"})
    if child.school_id != round.school_id or child.enrolment != Enrolment.ENROLLED:
        raise CardInvalid({"child": "该学生不在本校在读名单中"})
    values = clean_vacation_plan(data)
    plan, _ = VacationPlan.objects.update_or_create(
        round=round, child=child, defaults=values | {"updated_by": by}
    )
    return plan


def can_sign_off(user, round: VerificationRound, grade: int) -> bool:
    """The grade's leader (领导包年级), a leader of the school or a town admin."""
    if user.is_read_only:
        return False
    return scope.classes(user, "sign_off").filter(school_id=round.school_id, grade=grade).exists()


@transaction.atomic
def sign_off_grade(*, round: VerificationRound, grade: int, by, note: str = "") -> GradeSignOff:
    """Sign off a grade once every card of it is verified and the vacation plans and returned
    pledges the round asks for are in (a sign-off is the leader's word that the grade was
    checked, not a stamp); the round closes when every grade with students is signed off."""
    round = VerificationRound.objects.select_for_update().get(pk=round.pk)
    if not round.is_open:
        raise CardInvalid({"round": "本轮核实已结束"})
    children = round_children(round, Child.objects.all())
    grade_children = children.filter(school_class__grade=grade)
    total = grade_children.count()
    if not total:
        raise CardInvalid({"grade": f"本校{grade_name(grade)}没有在读学生"})
    if round.signoffs.filter(grade=grade).exists():
        raise CardInvalid({"grade": f"{grade_name(grade)}已经签字确认"})
    left = [
        (unverified(round, grade_children).count(), "张档卡未核实"),
        (missing_plans(round, grade_children).count(), "人未登记假期去向"),
        (missing_pledges(round, grade_children).count(), "人的安全责任书未交回"),
    ]
    if any(n for n, _what in left):
        what = "、".join(f"{n} {label}" for n, label in left if n)
        raise CardInvalid({"grade": f"{grade_name(grade)}还有 {what}，不能签字"})
    signoff = GradeSignOff.objects.create(
        round=round, grade=grade, signed_by=by, note=clean(note)[:200]
    )
    grades = set(children.values_list("school_class__grade", flat=True).distinct())
    if grades <= set(round.signoffs.values_list("grade", flat=True)):
        round.status = RoundStatus.CLOSED
        round.closed_at = timezone.now()
        round.save(update_fields=["status", "closed_at", "updated_at"])
    return signoff
