"""Who reads psychological care, filing an observation, the counselor's sessions, scoring a
questionnaire and the caseload. Scope comes from the scope table (`psych` to read, `report` to
file); nothing here branches on a role."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.lib.errors import Invalid

from .models import (
    RISK_ORDER,
    Instrument,
    Observation,
    Referral,
    RiskLevel,
    ScreeningResult,
    Session,
)

WHAT_MAX, NOTES_MAX = 1000, 2000


def reads_psych(user) -> bool:
    """Whether the user holds psychology for any unit (the counselor, school leaders)."""
    return bool(user.is_authenticated and (user.is_superuser or scope.units(user, "psych")))


def may_report(user) -> bool:
    """Whether the user may file an observation (every staff member but read-only ones)."""
    return bool(
        user.is_authenticated
        and not user.is_read_only
        and (user.is_superuser or scope.units(user, "report"))
    )


def psych_children(user) -> QuerySet[Child]:
    """The children whose psychology the user reads: inside her `psych` units only."""
    qs = Child.objects.visible_to(user)
    cond = scope.unit_children_q(user, "psych")
    return qs if cond is None else qs.filter(cond)


def _records(model, user) -> QuerySet:
    cond = scope.unit_children_q(user, "psych", prefix="child__")
    qs = model.objects.select_related("child", "child__school_class", "by")
    return qs if cond is None else qs.filter(cond)


def observations_for(user) -> QuerySet[Observation]:
    return _records(Observation, user)


def sessions_for(user) -> QuerySet[Session]:
    return _records(Session, user)


def screenings_for(user) -> QuerySet[ScreeningResult]:
    return _records(ScreeningResult, user).select_related("instrument")


def my_filings(user) -> QuerySet[Observation]:
    """What the user filed: she reads back the child, the date and "已提交" only."""
    return Observation.objects.filter(by=user).select_related("child").order_by("-created_at")


def _review_date(value, errors: dict[str, str], today: dt.date) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            errors["next_review_on"] = "日期格式不对，应为 2026-12-10"
            return None
    if value < today:
        errors["next_review_on"] = "下次回访日期不能早于今天"
    return value


def _check_common(level: str, referral: str, errors: dict[str, str]) -> None:
    if level not in RiskLevel.values:
        errors["level"] = "应为 正常、关注 或 重点关注"
    if referral not in Referral.values:
        errors["referral"] = "应为 暂不转介、转介心理辅导老师 或 转介校外专业机构"


@transaction.atomic
def file_observation(
    *,
    child: Child,
    by,
    level: str,
    what: str,
    referral: str = "",
    next_review_on: dt.date | str | None = None,
) -> Observation:
    """A teacher's observation. Raises Invalid naming each bad field."""
    errors: dict[str, str] = {}
    what = (what or "").strip()
    if not what:
        errors["what"] = "请写下看到或听到的情况"
    elif len(what) > WHAT_MAX:
        errors["what"] = f"不能超过 {WHAT_MAX} 个字"
    _check_common(level, referral or "", errors)
    review = _review_date(next_review_on, errors, timezone.localdate())
    if errors:
        raise Invalid(errors)
    return Observation.objects.create(
        child=child,
        by=by,
        level=level,
        what=what,
        referral=referral or "",
        next_review_on=review,
    )


@transaction.atomic
def add_session(
    *,
    child: Child,
    by,
    notes: str,
    level: str,
    referral: str = "",
    next_review_on: dt.date | str | None = None,
    at: dt.datetime | None = None,
) -> Session:
    """The counselor's follow-up. Raises Invalid naming each bad field."""
    errors: dict[str, str] = {}
    notes = (notes or "").strip()
    if not notes:
        errors["notes"] = "请填写辅导记录"
    elif len(notes) > NOTES_MAX:
        errors["notes"] = f"不能超过 {NOTES_MAX} 个字"
    _check_common(level, referral or "", errors)
    review = _review_date(next_review_on, errors, timezone.localdate())
    if at is not None and at > timezone.now():
        errors["at"] = "时间不能晚于现在"
    if level == RiskLevel.HIGH and review is None and "next_review_on" not in errors:
        errors["next_review_on"] = "重点关注的学生请定下次回访日期"
    if errors:
        raise Invalid(errors)
    return Session.objects.create(
        child=child,
        by=by,
        notes=notes,
        level=level,
        referral=referral or "",
        next_review_on=review,
        at=at or timezone.now(),
    )


def score(instrument: Instrument, answers: list) -> tuple[int, str]:
    """The total of the chosen options (one option index per item) and the level its
    thresholds give. Raises Invalid when an answer is missing or not an option."""
    items = instrument.items
    if not isinstance(answers, list) or len(answers) != len(items):
        raise Invalid({"answers": f"应回答全部 {len(items)} 题"})
    total = 0
    for n, (item, answer) in enumerate(zip(items, answers, strict=True), start=1):
        options = item["options"]
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise Invalid({"answers": f"第 {n} 题的回答应为选项序号"})
        if not 0 <= answer < len(options):
            raise Invalid({"answers": f"第 {n} 题没有第 {answer + 1} 个选项"})
        total += int(options[answer]["score"])
    level = RiskLevel.NORMAL.value
    for threshold in sorted(instrument.thresholds, key=lambda t: t["min"]):
        if total >= threshold["min"]:
            level = threshold["level"]
    # An item marked critical (thoughts of self-harm) gives 重点关注 whatever the total.
    if any(
        item.get("critical") and item["options"][a]["score"] > 0
        for item, a in zip(items, answers, strict=True)
    ):
        level = RiskLevel.HIGH.value
    return total, level


@transaction.atomic
def record_screening(*, child: Child, instrument: Instrument, by, answers: list) -> ScreeningResult:
    """A questionnaire's result; only with the guardian's consent to psychological tests on
    the card. A 重点关注 result is referred to the counselor (an observation she sees on her
    caseload)."""
    if not child.psych_test_consent:
        raise Invalid({"child": "监护人尚未同意心理测评：请先在档卡“知情同意”中登记"})
    if not instrument.active:
        raise Invalid({"instrument": "这份问卷已停用"})
    total, level = score(instrument, answers)
    result = ScreeningResult.objects.create(
        child=child, instrument=instrument, by=by, answers=answers, score=total, level=level
    )
    if level == RiskLevel.HIGH:
        Observation.objects.create(
            child=child,
            by=by,
            level=level,
            what=f"《{instrument.name}》测评总分 {total}，达到重点关注分数线",
            referral=Referral.COUNSELOR,
            next_review_on=timezone.localdate() + dt.timedelta(days=7),
        )
    return result


@dataclass
class Case:
    """One child on the caseload: the level of the latest record, the next review."""

    child: Child
    level: str
    last_at: dt.datetime
    next_review_on: dt.date | None = None
    referral: str = ""
    records: int = 0
    kinds: set[str] = field(default_factory=set)

    @property
    def level_label(self) -> str:
        return RiskLevel(self.level).label

    @property
    def referral_label(self) -> str:
        return Referral(self.referral).label if self.referral else ""

    def review_due(self, today: dt.date) -> bool:
        return self.next_review_on is not None and self.next_review_on <= today


def caseload(user, *, today: dt.date | None = None, school=None) -> list[Case]:
    """Children with any psychological record in the user's `psych` units, at the level of
    their latest record (observation, session or screening); 重点关注 first, then reviews due
    soonest. Children whose latest record says 正常 and who have no review set leave it."""
    today = today or timezone.localdate()
    cases: dict[int, Case] = {}
    rows: list = []
    for qs in (observations_for(user), sessions_for(user), screenings_for(user)):
        if school is not None:
            qs = qs.filter(child__school=school)
        rows.extend(qs.filter(child__enrolment="enrolled"))
    rows.sort(key=lambda r: (r.at, r.created_at if hasattr(r, "created_at") else r.at))
    for r in rows:
        case = cases.get(r.child_id)
        if case is None:
            case = cases[r.child_id] = Case(child=r.child, level=r.level, last_at=r.at)
        case.level, case.last_at = r.level, r.at
        case.records += 1
        if not isinstance(r, ScreeningResult):
            case.next_review_on = r.next_review_on
            case.referral = r.referral
    out = [c for c in cases.values() if c.level != RiskLevel.NORMAL or c.next_review_on]
    far = dt.date.max
    out.sort(key=lambda c: (-RISK_ORDER[c.level], c.next_review_on or far, c.child.name))
    return out


def high_risk(user, *, today: dt.date | None = None) -> list[Case]:
    """重点关注 children of the user's `psych` units, for the leaders' home page."""
    return [c for c in caseload(user, today=today) if c.level == RiskLevel.HIGH]
