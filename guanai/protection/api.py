"""/api/v1/incidents (强制报告), /api/v1/dropout-cases (控辍保学), /api/v1/alerts (独居 / 脱离监护);
mounted in guanai/api.py. Who may do what: access.py."""

import datetime as dt
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.api_common import ErrorsOut
from guanai.lib.bounds import Id, LazyOut, Pages

from . import alerts as alert_rules
from . import services
from .access import case_to_change, check_may, child_for_case, child_to_report
from .models import AlertResolution, DropoutCase, Incident

incidents_router = Router(tags=["incidents"])
dropout_router = Router(tags=["dropout-cases"])
alerts_router = Router(tags=["alerts"])

HarmKindIn = Literal["physical", "sexual", "neglect", "bullying", "abuse", "other"]
SourceIn = Literal["seen", "child", "heard"]
AgencyIn = Literal["police", "civil", "education"]


# --- 强制报告 ----------------------------------------------------------------------------------


class IncidentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    observed_at: dt.datetime = Field(..., description="发现时间（ISO 8601）")
    source: SourceIn = Field(..., description="seen 亲眼看到 / child 孩子自己说的 / heard 听说")
    harm_kind: HarmKindIn
    what: str = Field(..., max_length=services.MAX_TEXT, description="看到或听到的情况")


class FiledOut(Schema):
    """What the filer reads back: that it was filed, when, on whom — never the content."""

    id: int
    child: int
    child_name: str
    filed_at: dt.datetime
    status: str = "已提交"

    @staticmethod
    def resolve_child(obj: Incident) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: Incident) -> str:
        return obj.child.name


class FollowUpOut(Schema):
    on: dt.date
    note: str
    by: str

    @staticmethod
    def resolve_by(obj) -> str:
        return str(obj.by)


class IncidentOut(Schema):
    id: int
    child: int
    child_name: str
    school: str
    school_class: str
    filed_by: str
    filed_at: dt.datetime
    observed_at: dt.datetime
    source: str
    source_label: str
    harm_kind: str
    harm_kind_label: str
    what: str
    told: list[str]
    told_labels: list[str]
    told_at: dt.datetime | None
    receipt_no: str
    outcome: str
    outcome_at: dt.datetime | None
    open: bool
    follow_ups: list[FollowUpOut]

    @staticmethod
    def resolve_child(obj: Incident) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: Incident) -> str:
        return obj.child.name

    @staticmethod
    def resolve_school(obj: Incident) -> str:
        return obj.child.school.name

    @staticmethod
    def resolve_school_class(obj: Incident) -> str:
        return str(obj.child.school_class)

    @staticmethod
    def resolve_filed_by(obj: Incident) -> str:
        return str(obj.filed_by)

    @staticmethod
    def resolve_source_label(obj: Incident) -> str:
        return obj.get_source_display()

    @staticmethod
    def resolve_harm_kind_label(obj: Incident) -> str:
        return obj.get_harm_kind_display()

    @staticmethod
    def resolve_open(obj: Incident) -> bool:
        return obj.is_open

    @staticmethod
    def resolve_follow_ups(obj: Incident) -> list:
        return list(obj.follow_ups.all())


class IncidentFilter(FilterSchema):
    open: bool | None = None
    child: Id | None = None


class IncidentPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    told: list[AgencyIn] | None = Field(None, max_length=3)
    told_at: dt.datetime | None = None
    receipt_no: str | None = Field(None, max_length=60)
    outcome: str | None = Field(None, max_length=services.MAX_TEXT)


class FollowUpIn(Schema):
    model_config = ConfigDict(extra="forbid")
    on: dt.date
    note: str = Field(..., max_length=services.MAX_TEXT)


def _readable(request: HttpRequest):
    return Incident.objects.readable_by(request.user).select_related(
        "child__school", "child__school_class", "filed_by"
    )


def _read_one(request: HttpRequest, incident_id: int) -> Incident:
    """One incident for its readers (404 for everyone else); the read is logged."""
    incident = get_object_or_404(_readable(request), pk=incident_id)
    services.log_incident_read(request=request, user=request.user, incident=incident)
    return incident


@incidents_router.post("", response={201: FiledOut, 422: ErrorsOut})
def file_incident(request: HttpRequest, payload: IncidentIn):
    """File a report of suspected harm on a child the user may read. Afterwards the filer
    reads it back only as 已提交 (GET /mine); school leaders and the town read it whole."""
    check_may(request.user, "report", "这个账号不能提交强制报告")
    child = child_to_report(request.user, payload.child)
    incident = services.file_incident(
        child=child,
        by=request.user,
        observed_at=payload.observed_at,
        source=payload.source,
        harm_kind=payload.harm_kind,
        what=payload.what,
    )
    return Status(201, incident)


@incidents_router.get("/mine", response=list[FiledOut])
@paginate(Pages, page_size=50)
def my_filings(request: HttpRequest):
    """The reports the user filed: child and date only ("已提交 于 …")."""
    return Incident.objects.filed_by(request.user).select_related("child")


@incidents_router.get("", response=list[IncidentOut])
@paginate(Pages, page_size=20)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilter]):
    """Incidents of the user's schools, newest first (school leaders, the town); `open=true`
    those without an outcome. Each incident listed is written to the access log."""
    check_may(request.user, "incidents", "只有校领导和镇管理员可以查看强制报告")
    qs = _readable(request).prefetch_related("follow_ups__by")
    if filters.open is not None:
        qs = qs.filter(outcome="") if filters.open else qs.exclude(outcome="")
    if filters.child is not None:
        qs = qs.filter(child_id=filters.child)
    return _LoggedPage(qs, request)


class _LoggedPage:
    """The incidents of a page, each read logged as the page is sliced."""

    def __init__(self, qs, request: HttpRequest) -> None:
        self.qs, self.request = qs, request

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        rows = list(self.qs[item])
        for incident in rows:
            services.log_incident_read(
                request=self.request, user=self.request.user, incident=incident
            )
        return rows


@incidents_router.get("/{incident_id}", response=IncidentOut)
def get_incident(request: HttpRequest, incident_id: Id):
    """One incident; 404 for anyone who does not read incidents of its school — the filer
    included."""
    return _read_one(request, incident_id)


@incidents_router.patch("/{incident_id}", response={200: IncidentOut, 422: ErrorsOut})
def update_incident(request: HttpRequest, incident_id: Id, payload: IncidentPatch):
    """Record whom the school told (`told`: police 公安 / civil 民政 / education 教育, several),
    when (`told_at`), the receipt number and the outcome. Fields left out stay as they are."""
    check_may(request.user, "incidents", "只有校领导和镇管理员可以跟进强制报告")
    incident = _read_one(request, incident_id)
    services.update_incident(incident, by=request.user, **payload.dict(exclude_unset=True))
    return _readable(request).get(pk=incident_id)  # one read, logged above


@incidents_router.post("/{incident_id}/follow-ups", response={201: IncidentOut, 422: ErrorsOut})
def add_follow_up(request: HttpRequest, incident_id: Id, payload: FollowUpIn):
    """A dated note of what was done since."""
    check_may(request.user, "incidents", "只有校领导和镇管理员可以跟进强制报告")
    incident = _read_one(request, incident_id)
    services.add_incident_follow_up(incident, by=request.user, on=payload.on, note=payload.note)
    return Status(201, _readable(request).get(pk=incident_id))


# --- 控辍保学 ----------------------------------------------------------------------------------


class AttemptOut(Schema):
    on: dt.date
    by: str
    with_whom: str
    result: str
    recorded_by: str

    @staticmethod
    def resolve_recorded_by(obj) -> str:
        return str(obj.recorded_by)


class CaseOut(Schema):
    id: int
    child: int
    child_name: str
    school: str
    school_class: str
    absent_since: dt.date
    absent_days: int
    reason_asked: str
    opened_by: str
    opened_at: dt.datetime
    status: str
    status_label: str
    closed_on: dt.date | None
    closing_note: str
    attempts: list[AttemptOut]

    @staticmethod
    def resolve_child(obj: DropoutCase) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: DropoutCase) -> str:
        return obj.child.name

    @staticmethod
    def resolve_school(obj: DropoutCase) -> str:
        return obj.child.school.name

    @staticmethod
    def resolve_school_class(obj: DropoutCase) -> str:
        return str(obj.child.school_class)

    @staticmethod
    def resolve_opened_by(obj: DropoutCase) -> str:
        return str(obj.opened_by)

    @staticmethod
    def resolve_status_label(obj: DropoutCase) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_attempts(obj: DropoutCase) -> list:
        return list(obj.attempts.all())


class CaseFilter(FilterSchema):
    status: Literal["open", "returned", "reported"] | None = None
    school: str | None = Field(None, max_length=20, description="学校代码")
    child: Id | None = None


class CaseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    absent_since: dt.date
    absent_days: int = Field(..., ge=1, le=400)
    reason_asked: str = Field("", max_length=services.MAX_TEXT)


class AttemptIn(Schema):
    model_config = ConfigDict(extra="forbid")
    on: dt.date
    by: str = Field(..., max_length=100, description="劝返人员")
    with_whom: str = Field(..., max_length=100)
    result: str = Field(..., max_length=services.MAX_TEXT)


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: Literal["returned", "reported"]
    on: dt.date
    note: str = Field("", max_length=services.MAX_TEXT)


def _cases(request: HttpRequest, action: str = "view"):
    return (
        DropoutCase.objects.visible_to(request.user, action)
        .select_related("child__school", "child__school_class", "opened_by")
        .prefetch_related("attempts__recorded_by")
    )


@dropout_router.get("", response=list[CaseOut])
@paginate(Pages, page_size=50)
def list_cases(request: HttpRequest, filters: Query[CaseFilter]):
    """Cases of the children of the user's schools, grades or classes, newest first;
    filters `status`, `school` (code), `child`."""
    qs = _cases(request)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.school:
        qs = qs.filter(child__school__code=filters.school.strip())
    if filters.child is not None:
        qs = qs.filter(child_id=filters.child)
    return qs


@dropout_router.post("", response={201: CaseOut, 422: ErrorsOut})
def open_case(request: HttpRequest, payload: CaseIn):
    """Open a case for a child with unexplained absences (one open case per child)."""
    check_may(request.user, "change", "只读账号不能建立控辍保学记录")
    child = child_for_case(request.user, payload.child)
    case = services.open_dropout_case(
        child=child,
        by=request.user,
        absent_since=payload.absent_since,
        absent_days=payload.absent_days,
        reason_asked=payload.reason_asked,
    )
    return Status(201, _cases(request).get(pk=case.pk))


@dropout_router.get("/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: Id):
    return get_object_or_404(_cases(request), pk=case_id)


@dropout_router.post("/{case_id}/attempts", response={201: CaseOut, 422: ErrorsOut})
def add_attempt(request: HttpRequest, case_id: Id, payload: AttemptIn):
    """One 劝返 attempt: when, who went (`by`), whom they met, the result."""
    check_may(request.user, "change", "只读账号不能修改控辍保学记录")
    case = case_to_change(request.user, case_id)
    services.add_attempt(
        case,
        by_user=request.user,
        on=payload.on,
        by=payload.by,
        with_whom=payload.with_whom,
        result=payload.result,
    )
    return Status(201, _cases(request).get(pk=case.pk))


@dropout_router.post("/{case_id}/close", response={200: CaseOut, 422: ErrorsOut})
def close(request: HttpRequest, case_id: Id, payload: CloseIn):
    """Close as `returned` (已返校), or `reported` when persuasion failed (the written report
    to the county education office and the town government: GET /{id}/report.pdf)."""
    check_may(request.user, "change", "只读账号不能修改控辍保学记录")
    case = case_to_change(request.user, case_id)
    services.close_case(
        case, by=request.user, status=payload.status, on=payload.on, note=payload.note
    )
    return _cases(request).get(pk=case.pk)


@dropout_router.get("/{case_id}/report.pdf", response={200: None})
def report_pdf(request: HttpRequest, case_id: Id):
    """The written report (劝返无效情况报告) as PDF, drafted from the case: for a case still
    open (a draft to sign) or closed as reported; a child who returned needs none (409)."""
    from .report import case_report_pdf

    case = get_object_or_404(_cases(request), pk=case_id)
    if case.status == "returned":
        raise HttpError(409, "学生已返校，不需要书面报告")
    response = HttpResponse(case_report_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="dropout-report-{case.pk}.pdf"'
    return response


# --- 独居 / 脱离监护 ---------------------------------------------------------------------------


class AlertOut(Schema):
    child: int
    child_name: str
    school: str
    school_class: str
    reason: str
    reason_label: str
    guardian: str


class ResolveIn(Schema):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(..., max_length=services.MAX_TEXT, description="采取的措施")


class ResolutionOut(Schema):
    child: int
    child_name: str
    reason: str
    reason_label: str
    action: str
    resolved_by: str
    resolved_at: dt.datetime

    @staticmethod
    def resolve_child(obj: AlertResolution) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: AlertResolution) -> str:
        return obj.child.name

    @staticmethod
    def resolve_reason_label(obj: AlertResolution) -> str:
        return alert_rules.REASONS.get(obj.reason, obj.reason)

    @staticmethod
    def resolve_resolved_by(obj: AlertResolution) -> str:
        return str(obj.resolved_by)


def alert_item(child) -> dict:
    guardian = getattr(child, "guardian", None)
    return {
        "child": child.pk,
        "child_name": child.name,
        "school": child.school.name,
        "school_class": str(child.school_class),
        "reason": child.alert_reason,
        "reason_label": alert_rules.REASONS[child.alert_reason],
        "guardian": f"{guardian.relation} {guardian.name}".strip() if guardian else "",
    }


@alerts_router.get("", response=list[AlertOut])
@paginate(Pages, page_size=50)
def list_alerts(request: HttpRequest):
    """Open alerts: children under 16 of the user's schools whose card records no adult
    guardian living with them (rules: guanai/protection/alerts.py)."""
    check_may(request.user, "alerts", "只有校领导、镇管理员、儿童主任和儿童督导员处理监护缺失提醒")
    return LazyOut(alert_rules.open_alerts_for(request.user), alert_item)


@alerts_router.get("/resolved", response=list[ResolutionOut])
@paginate(Pages, page_size=50)
def list_resolutions(request: HttpRequest):
    """What was done about earlier alerts, newest first."""
    check_may(request.user, "alerts", "只有校领导、镇管理员、儿童主任和儿童督导员处理监护缺失提醒")
    children = alert_rules.children_in_scope(request.user)
    return AlertResolution.objects.filter(child__in=children).select_related("child", "resolved_by")


@alerts_router.post("/{child_id}/resolve", response={201: ResolutionOut, 422: ErrorsOut})
def resolve(request: HttpRequest, child_id: Id, payload: ResolveIn):
    """Resolve a child's open alert with what was done; 404 when the child has none the
    user may see."""
    check_may(request.user, "alerts", "只有校领导、镇管理员、儿童主任和儿童督导员处理监护缺失提醒")
    child = (
        alert_rules.open_alerts_for(request.user, today=timezone.localdate())
        .filter(pk=child_id)
        .first()
    )
    if child is None:
        raise HttpError(404, "未找到该学生的监护缺失提醒")
    resolution = services.resolve_alert(
        child=child, by=request.user, reason=child.alert_reason, action=payload.action
    )
    return Status(201, resolution)


__all__ = ["alerts_router", "dropout_router", "incidents_router"]
