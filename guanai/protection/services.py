"""The workflows of child protection, shared by pages and the API. Each checks its input and
raises lib.errors.Invalid ({field: Chinese message}); scope is the caller's (it looks the
child, incident or case up through scope first)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import AccessAction, User
from guanai.accounts.services import log_access
from guanai.lib.dates import plausible
from guanai.lib.errors import Invalid

from .models import (
    AGENCY_LABELS,
    AlertResolution,
    CaseStatus,
    DropoutAttempt,
    DropoutCase,
    HarmKind,
    Incident,
    IncidentFollowUp,
    Source,
)

MAX_TEXT = 2000


def _free(value) -> str:
    """Free text as written: trimmed only (NFKC would turn Chinese punctuation ，into ,)."""
    return "" if value is None else str(value).strip(" \t\r\n\u3000")


def _text(errors: dict, field: str, value, label: str, *, required: bool, limit: int = MAX_TEXT):
    text = _free(value)
    if required and not text:
        errors[field] = f"{label}不能为空"
    elif len(text) > limit:
        errors[field] = f"{label}最多 {limit} 个字（现在 {len(text)} 个）"
    return text


def _not_future(errors: dict, field: str, moment, label: str):
    if moment is None:
        return None
    now = timezone.now()
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment > now + dt.timedelta(minutes=5):
            errors[field] = f"{label}不能晚于现在"
        elif not plausible(timezone.localtime(moment).date(), timezone.localdate()):
            errors[field] = f"{label}不在合理范围内"
    else:
        if moment > timezone.localdate():
            errors[field] = f"{label}不能晚于今天"
        elif not plausible(moment, timezone.localdate()):
            errors[field] = f"{label}不在合理范围内"
    return moment


def _choice(errors: dict, field: str, value, choices, label: str) -> str:
    if value in dict(choices):
        return value
    errors[field] = f"{label}未选择" if not value else f"{label}不在可选范围内"
    return ""


def log_incident_read(*, request, user: User, incident: Incident) -> None:
    """Every opening of an incident is written to the access log (SPEC §4)."""
    log_access(
        request=request,
        user=user,
        action=AccessAction.VIEW_INCIDENT,
        child=incident.child,
        detail=f"强制报告 {incident.pk}",
    )


@transaction.atomic
def file_incident(
    *,
    child,
    by: User,
    observed_at: dt.datetime | None,
    source: str,
    harm_kind: str,
    what: str,
) -> Incident:
    """A staff member files a report of suspected harm; afterwards she reads it only as
    "已提交"."""
    errors: dict[str, str] = {}
    if observed_at is None:
        errors["observed_at"] = "发现时间不能为空"
    observed_at = _not_future(errors, "observed_at", observed_at, "发现时间")
    source = _choice(errors, "source", source, Source.choices, "怎么知道的")
    harm_kind = _choice(errors, "harm_kind", harm_kind, HarmKind.choices, "疑似侵害类型")
    what = _text(errors, "what", what, "看到或听到的情况", required=True)
    if errors:
        raise Invalid(errors)
    return Incident.objects.create(
        child=child,
        filed_by=by,
        observed_at=observed_at,
        source=source,
        harm_kind=harm_kind,
        what=what,
    )


_UNSET = object()


@transaction.atomic
def update_incident(
    incident: Incident,
    *,
    by: User,
    told=_UNSET,
    told_at=_UNSET,
    receipt_no=_UNSET,
    outcome=_UNSET,
) -> Incident:
    """Record whom the school told (公安 / 民政 / 教育, several), when, the receipt number and
    the outcome. Fields not given stay as they are."""
    errors: dict[str, str] = {}
    if told is not _UNSET:
        told = list(dict.fromkeys(told or []))
        bad = [a for a in told if a not in AGENCY_LABELS]
        if bad:
            errors["told"] = "已报告部门只能是 公安、民政、教育"
        incident.told = told
    if told_at is not _UNSET:
        incident.told_at = _not_future(errors, "told_at", told_at, "报告部门时间")
    if receipt_no is not _UNSET:
        incident.receipt_no = _text(
            errors, "receipt_no", receipt_no, "回执编号", required=False, limit=60
        )
    if outcome is not _UNSET:
        text = _text(errors, "outcome", outcome, "处理结果", required=False)
        if text != incident.outcome:
            incident.outcome_at = timezone.now() if text else None
        incident.outcome = text
    if incident.told and incident.told_at is None and "told_at" not in errors:
        errors["told_at"] = "填写了已报告部门，请同时填写报告时间"
    if incident.told_at and not incident.told and "told" not in errors:
        errors["told"] = "已报告部门未选择"
    if incident.told_at and incident.told_at < incident.observed_at and "told_at" not in errors:
        errors["told_at"] = "报告部门时间不能早于发现时间"
    if errors:
        raise Invalid(errors)
    incident._change_reason = f"{by} 更新"
    incident.save()
    return incident


@transaction.atomic
def add_incident_follow_up(
    incident: Incident, *, by: User, on: dt.date | None, note: str
) -> IncidentFollowUp:
    errors: dict[str, str] = {}
    if on is None:
        errors["on"] = "日期不能为空"
    _not_future(errors, "on", on, "日期")
    note = _text(errors, "note", note, "跟进情况", required=True)
    if errors:
        raise Invalid(errors)
    return IncidentFollowUp.objects.create(incident=incident, on=on, note=note, by=by)


# --- 控辍保学 --------------------------------------------------------------------------------


@transaction.atomic
def open_dropout_case(
    *, child, by: User, absent_since: dt.date | None, absent_days, reason_asked: str
) -> DropoutCase:
    errors: dict[str, str] = {}
    if absent_since is None:
        errors["absent_since"] = "开始缺课日期不能为空"
    _not_future(errors, "absent_since", absent_since, "开始缺课日期")
    if absent_days is None or absent_days == "":
        errors["absent_days"] = "缺课天数不能为空"
    elif not isinstance(absent_days, int) or not 1 <= absent_days <= 400:
        errors["absent_days"] = "缺课天数应为 1 到 400 之间的整数"
    reason_asked = _text(errors, "reason_asked", reason_asked, "了解到的原因", required=False)
    if not errors and DropoutCase.objects.filter(child=child, status=CaseStatus.OPEN).exists():
        errors["child"] = f"{child.name}已有正在劝返的控辍保学记录，请在那条记录里继续"
    if errors:
        raise Invalid(errors)
    return DropoutCase.objects.create(
        child=child,
        absent_since=absent_since,
        absent_days=absent_days,
        reason_asked=reason_asked,
        opened_by=by,
    )


def _check_open(case: DropoutCase) -> None:
    if case.status != CaseStatus.OPEN:
        raise Invalid({"status": f"这条记录已结案（{case.get_status_display()}），不能再修改"})


@transaction.atomic
def add_attempt(
    case: DropoutCase,
    *,
    by_user: User,
    on: dt.date | None,
    by: str,
    with_whom: str,
    result: str,
) -> DropoutAttempt:
    _check_open(case)
    errors: dict[str, str] = {}
    if on is None:
        errors["on"] = "日期不能为空"
    _not_future(errors, "on", on, "日期")
    if on and on < case.absent_since and "on" not in errors:
        errors["on"] = "日期不能早于开始缺课日期"
    by = _text(errors, "by", by, "劝返人员", required=True, limit=100)
    with_whom = _text(errors, "with_whom", with_whom, "见到谁", required=True, limit=100)
    result = _text(errors, "result", result, "劝返结果", required=True)
    if errors:
        raise Invalid(errors)
    return DropoutAttempt.objects.create(
        case=case, on=on, by=by, with_whom=with_whom, result=result, recorded_by=by_user
    )


@transaction.atomic
def close_case(
    case: DropoutCase, *, by: User, status: str, on: dt.date | None, note: str
) -> DropoutCase:
    """Close as returned (已返校), or as reported when persuasion failed — which needs at
    least one recorded attempt (the report tells the county what was tried)."""
    _check_open(case)
    errors: dict[str, str] = {}
    if status not in (CaseStatus.RETURNED, CaseStatus.REPORTED):
        errors["status"] = "结案方式只能是 已返校 或 劝返无效、书面报告"
    if on is None:
        errors["on"] = "日期不能为空"
    _not_future(errors, "on", on, "日期")
    if on and on < case.absent_since and "on" not in errors:
        errors["on"] = "日期不能早于开始缺课日期"
    note = _text(errors, "note", note, "结案说明", required=status == CaseStatus.REPORTED)
    if status == CaseStatus.REPORTED and not case.attempts.exists():
        errors["status"] = "还没有劝返记录：请先记录劝返，劝返无效再书面报告"
    if errors:
        raise Invalid(errors)
    case.status, case.closed_on, case.closed_by, case.closing_note = status, on, by, note
    case.save()
    return case


# --- 独居 / 脱离监护 ---------------------------------------------------------------------------


@transaction.atomic
def resolve_alert(*, child, by: User, reason: str, action: str) -> AlertResolution:
    errors: dict[str, str] = {}
    action = _text(errors, "action", action, "采取的措施", required=True)
    if errors:
        raise Invalid(errors)
    return AlertResolution.objects.create(child=child, reason=reason, action=action, resolved_by=by)
