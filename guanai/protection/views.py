"""Pages of child protection: the one-minute report form (报告疑似侵害), the leaders' incident
list and detail, dropout cases (控辍保学) and guardian alerts (独居 / 脱离监护); the home panel.
Thin: scope (access.py, the models' querysets) → form → service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.lib.errors import Invalid

from . import alerts as alert_rules
from . import services
from .access import case_to_change, check_may, child_for_case, child_to_report, may
from .forms import (
    AttemptForm,
    CaseForm,
    CloseForm,
    DateNoteForm,
    IncidentForm,
    IncidentUpdateForm,
    ResolveForm,
    show_errors,
)
from .models import CaseStatus, DropoutCase, Incident

PICK_LIMIT = 30


def home_panel_context(user) -> dict:
    """The context of protection/_home_panel.html: open incidents (their readers), open dropout
    cases (the user's units) and open guardian alerts (the school's leaders, the town). Empty
    parts are left out; `protection_panel` is None when there is nothing for this user."""
    today = timezone.localdate()
    panel: dict = {"today": today}
    if may(user, "incidents"):
        panel["incidents"] = list(open_incidents_for(user)[:5])
        panel["incident_count"] = open_incidents_for(user).count()
    if may(user, "view"):
        cases = DropoutCase.objects.visible_to(user).open().select_related("child__school_class")
        panel["case_count"] = cases.count()
        panel["cases"] = list(cases[:5])
    if may(user, "alerts"):
        found = alert_rules.open_alerts_for(user, today=today)
        panel["alert_count"] = found.count()
        panel["alerts"] = [(c, alert_rules.REASONS[c.alert_reason]) for c in found[:5]]
    shown = any(panel.get(k) for k in ("incident_count", "case_count", "alert_count"))
    return {"protection_panel": panel if shown else None}


def open_incidents_for(user):
    """Open incidents (no outcome yet) the user reads, oldest first: the reminder to leaders
    until an outcome is recorded. The list names child and date only; opening one logs."""
    return (
        Incident.objects.readable_by(user)
        .open()
        .select_related("child__school", "child__school_class")
        .order_by("filed_at", "id")
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """/protection/: the first page the user may use (the nav link's target)."""
    if may(request.user, "incidents") or may(request.user, "report"):
        return redirect("protection:incidents")
    return redirect("protection:cases")


# --- 强制报告 ----------------------------------------------------------------------------------


def _pick(request: HttpRequest, children, *, title: str, target: str) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    found = list(
        children.search(q)
        .select_related("school", "school_class")
        .order_by("name", "pk")[:PICK_LIMIT]
        if q
        else []
    )
    return render(
        request,
        "protection/pick.html",
        {"q": q, "found": found, "title": title, "target": target, "limit": PICK_LIMIT},
    )


@login_required
def report_pick(request: HttpRequest) -> HttpResponse:
    """Find the child to report on (the card's link goes straight to the form)."""
    check_may(request.user, "report", "这个账号不能提交强制报告")
    return _pick(
        request,
        Child.objects.visible_to(request.user).active(),
        title="报告疑似侵害",
        target="protection:report",
    )


@login_required
def report_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """报告疑似侵害: a one-minute form on a phone."""
    check_may(request.user, "report", "这个账号不能提交强制报告")
    child = child_to_report(request.user, child_pk)
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.file_incident(child=child, by=request.user, **form.cleaned_data)
        except Invalid as exc:
            show_errors(form, exc)
        else:
            when = timezone.localtime(incident.filed_at)
            messages.success(
                request,
                f"已提交 于 {when:%Y-%m-%d %H:%M}。学校领导会处理并按规定报告；"
                "为保护孩子，提交后内容不再显示。",
            )
            return redirect("protection:incidents")
    return render(request, "protection/report.html", {"child": child, "form": form})


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """Leaders: the incidents of their schools, open first. Everyone else who files: her own
    filings as "已提交 于 …" (child and date, no content)."""
    reader, reporter = may(request.user, "incidents"), may(request.user, "report")
    if not (reader or reporter):
        raise PermissionDenied("这个账号不能提交或查看强制报告")
    state = request.GET.get("state", "open")
    page = None
    if reader:
        qs = Incident.objects.readable_by(request.user).select_related(
            "child__school", "child__school_class", "filed_by"
        )
        qs = qs.filter(outcome="") if state == "open" else qs
        page = Paginator(qs.order_by("-filed_at", "-id"), 50).get_page(request.GET.get("page"))
    mine = Incident.objects.filed_by(request.user).select_related("child")[:50]
    return render(
        request,
        "protection/incidents.html",
        {"reader": reader, "page": page, "mine": mine, "state": state, "reporter": reporter},
    )


def _readable_incident(request: HttpRequest, pk: int) -> Incident:
    incident = get_object_or_404(
        Incident.objects.readable_by(request.user).select_related(
            "child__school", "child__school_class", "filed_by"
        ),
        pk=pk,
    )
    return incident


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident, for its readers only (404 for everyone else, the filer too); the reading
    is logged. Leaders record whom they told, the receipt, the outcome and follow-ups."""
    incident = _readable_incident(request, pk)
    services.log_incident_read(request=request, user=request.user, incident=incident)
    update = IncidentUpdateForm(
        initial={
            "told": incident.told,
            "told_at": timezone.localtime(incident.told_at) if incident.told_at else None,
            "receipt_no": incident.receipt_no,
            "outcome": incident.outcome,
        }
    )
    follow = DateNoteForm(initial={"on": timezone.localdate()})
    if request.method == "POST":
        if request.POST.get("form") == "follow":
            follow = DateNoteForm(request.POST)
            if follow.is_valid():
                try:
                    services.add_incident_follow_up(
                        incident, by=request.user, **follow.cleaned_data
                    )
                except Invalid as exc:
                    show_errors(follow, exc)
                else:
                    messages.success(request, "跟进情况已记录")
                    return redirect("protection:incident", pk=pk)
        else:
            update = IncidentUpdateForm(request.POST)
            if update.is_valid():
                try:
                    services.update_incident(incident, by=request.user, **update.cleaned_data)
                except Invalid as exc:
                    show_errors(update, exc)
                    incident.refresh_from_db()
                else:
                    messages.success(request, "已保存")
                    return redirect("protection:incident", pk=pk)
    return render(
        request,
        "protection/incident.html",
        {
            "incident": incident,
            "follow_ups": incident.follow_ups.select_related("by"),
            "update": update,
            "follow": follow,
        },
    )


# --- 控辍保学 ----------------------------------------------------------------------------------


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    """Dropout cases of the user's schools, grades or classes; per school for the town."""
    schools = list(scope.schools(request.user, "view").order_by("code"))
    qs = DropoutCase.objects.visible_to(request.user).select_related(
        "child__school", "child__school_class"
    )
    school_id = request.GET.get("school", "")
    if school_id.isdigit():
        qs = qs.filter(child__school_id=int(school_id))
    state = request.GET.get("state", "open")
    if state in CaseStatus.values:
        qs = qs.filter(status=state)
    page = Paginator(qs.order_by("-opened_at", "-id"), 50).get_page(request.GET.get("page"))
    per_school = []
    if len(schools) > 1:  # the town's view: open cases and reports per school
        counts = {
            (row["child__school"], row["status"]): row["n"]
            for row in DropoutCase.objects.visible_to(request.user)
            .values("child__school", "status")
            .annotate(n=Count("pk"))
        }
        per_school = [
            (s, counts.get((s.pk, "open"), 0), counts.get((s.pk, "reported"), 0),
             counts.get((s.pk, "returned"), 0))
            for s in schools
        ]  # fmt: skip
    return render(
        request,
        "protection/cases.html",
        {
            "page": page,
            "per_school": per_school,
            "schools": schools if len(schools) > 1 else [],
            "school_id": school_id,
            "state": state,
            "states": CaseStatus.choices,
            "writer": may(request.user, "change"),
        },
    )


@login_required
def case_pick(request: HttpRequest) -> HttpResponse:
    check_may(request.user, "change", "只读账号不能建立控辍保学记录")
    cond = scope.unit_q(
        request.user,
        "change",
        town="school__town_id",
        school="school_id",
        grade="school_class__grade",
        klass="school_class_id",
    )
    children = Child.objects.active()
    return _pick(
        request,
        children if cond is None else children.filter(cond),
        title="新建控辍保学记录",
        target="protection:case_new",
    )


@login_required
def case_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    check_may(request.user, "change", "只读账号不能建立控辍保学记录")
    child = child_for_case(request.user, child_pk)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_dropout_case(child=child, by=request.user, **form.cleaned_data)
        except Invalid as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"已为{child.name}建立控辍保学记录，请记录每次劝返")
            return redirect("protection:case", pk=case.pk)
    return render(request, "protection/case_new.html", {"child": child, "form": form})


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        DropoutCase.objects.visible_to(request.user).select_related(
            "child__school", "child__school_class", "opened_by", "closed_by"
        ),
        pk=pk,
    )
    writer = DropoutCase.objects.visible_to(request.user, "change").filter(pk=pk).exists()
    attempt = AttemptForm(initial={"on": timezone.localdate()})
    close = CloseForm(initial={"on": timezone.localdate()})
    if request.method == "POST":
        check_may(request.user, "change", "只读账号不能修改控辍保学记录")
        case = case_to_change(request.user, pk)
        which = request.POST.get("form")
        try:
            if which == "close":
                close = CloseForm(request.POST)
                if close.is_valid():
                    services.close_case(case, by=request.user, **close.cleaned_data)
                    messages.success(request, f"已结案：{case.get_status_display()}")
                    return redirect("protection:case", pk=pk)
            else:
                attempt = AttemptForm(request.POST)
                if attempt.is_valid():
                    services.add_attempt(case, by_user=request.user, **attempt.cleaned_data)
                    messages.success(request, "劝返记录已保存")
                    return redirect("protection:case", pk=pk)
        except Invalid as exc:
            show_errors(close if which == "close" else attempt, exc)
    return render(
        request,
        "protection/case.html",
        {
            "case": case,
            "attempts": case.attempts.select_related("recorded_by"),
            "writer": writer,
            "attempt": attempt,
            "close": close,
        },
    )


@login_required
def case_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The written report to the county education office and the town government (PDF)."""
    from .report import case_report_pdf

    case = get_object_or_404(DropoutCase.objects.visible_to(request.user), pk=pk)
    if case.status == CaseStatus.RETURNED:
        raise Http404("学生已返校，不需要书面报告")
    response = HttpResponse(case_report_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="dropout-report-{case.pk}.pdf"'
    return response


# --- 独居 / 脱离监护 ---------------------------------------------------------------------------


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    check_may(request.user, "alerts", "只有校领导、镇管理员、儿童主任和儿童督导员处理监护缺失提醒")
    found = alert_rules.open_alerts_for(request.user)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    for child in page:
        child.reason_label = alert_rules.REASONS[child.alert_reason]
    from .models import AlertResolution

    resolved = (
        AlertResolution.objects.filter(child__in=alert_rules.children_in_scope(request.user))
        .select_related("child", "resolved_by")
        .order_by("-resolved_at")[:20]
    )
    for r in resolved:
        r.reason_label = alert_rules.REASONS.get(r.reason, "")
    return render(
        request,
        "protection/alerts.html",
        {"page": page, "resolved": resolved, "form": ResolveForm()},
    )


@login_required
@require_POST
def alert_resolve(request: HttpRequest, child_pk: int) -> HttpResponse:
    check_may(request.user, "alerts", "只有校领导、镇管理员、儿童主任和儿童督导员处理监护缺失提醒")
    child = alert_rules.open_alerts_for(request.user).filter(pk=child_pk).first()
    if child is None:
        raise Http404("未找到该学生的监护缺失提醒")
    form = ResolveForm(request.POST)
    if form.is_valid():
        services.resolve_alert(
            child=child, by=request.user, reason=child.alert_reason, **form.cleaned_data
        )
        messages.success(request, f"{child.name}：已记录采取的措施")
    else:
        messages.error(request, f"{child.name}：" + "；".join(form.errors["action"]))
    return redirect(reverse("protection:alerts"))
