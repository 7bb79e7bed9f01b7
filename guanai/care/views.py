"""Pages of psychological care: the counselor's caseload, one child's psychological record
with the session form, a teacher's "心理关注" form (filed, then read back as 已提交 only), a
questionnaire, and the list of what one filed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.children.models import Child
from guanai.lib.errors import Invalid

from . import grants, services
from .forms import ObservationForm, SessionForm
from .models import Instrument, ScreeningResult


def _reader(request: HttpRequest) -> None:
    if not services.reads_psych(request.user):
        raise PermissionDenied("心理关爱记录仅限心理辅导老师和学校领导查看")


def _show_errors(form, exc: Invalid) -> None:
    for key, message in exc.errors.items():
        form.add_error(key if key in form.fields else None, message)


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    """The counselor's list: children at 重点关注 and 关注, reviews due first."""
    _reader(request)
    today = timezone.localdate()
    cases = services.caseload(request.user, today=today)
    for c in cases:
        c.due = c.review_due(today)
    return render(
        request,
        "care/caseload.html",
        {"cases": cases, "today": today, "due": sum(c.due for c in cases)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def child_record(request: HttpRequest, pk: int) -> HttpResponse:
    """One child's psychological record (observations, sessions, questionnaires) and the
    session form. Every opening is logged. A live psychology grant of this child opens the
    record for reading (no form), logged with the grant's reference."""
    # Nobody else's record: 404, for a role that never reads psychology as for another school.
    child = (
        services.psych_children(request.user)
        .select_related("school", "school_class")
        .filter(pk=pk)
        .first()
    )
    if child is None:
        return _granted_record(request, pk)
    form = SessionForm(request.POST or None)
    if request.method == "POST":
        if request.user.is_read_only:
            raise PermissionDenied("只读角色不能记录")
        if form.is_valid():
            try:
                services.add_session(
                    child=child,
                    by=request.user,
                    notes=form.cleaned_data["notes"],
                    level=form.cleaned_data["level"],
                    referral=form.cleaned_data.get("referral") or "",
                    next_review_on=form.cleaned_data.get("next_review_on"),
                )
            except Invalid as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, f"{child.name} 的辅导记录已保存")
                return redirect("care:child", pk=child.pk)
    else:
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail="查看心理关爱记录",
        )
    return render(
        request,
        "care/child.html",
        {
            "child": child,
            "records": _records(child),
            "form": form,
            "instruments": Instrument.objects.filter(active=True),
        },
        status=422 if form.errors else 200,
    )


def _granted_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The record read under a grant: reading only, each opening logged with its reference."""
    child, grant = grants.granted_child_or_404(request.user, pk)
    if request.method == "POST":
        raise PermissionDenied("依申请查看只能阅读，不能记录辅导")
    grants.log_granted_read(request, child, grant, what="查看心理关爱记录")
    return render(
        request,
        "care/child_granted.html",
        {"child": child, "grant": grant, "records": _records(child)},
    )


def _records(child: Child) -> list[dict]:
    """Observations, sessions and questionnaire results of one child, newest first."""
    return sorted(
        [
            *({"kind": "观察", "r": o} for o in child.psych_observations.select_related("by")),
            *({"kind": "辅导", "r": s} for s in child.psych_sessions.select_related("by")),
            *(
                {"kind": "测评", "r": r}
                for r in ScreeningResult.objects.filter(child=child).select_related(
                    "by", "instrument"
                )
            ),
        ],
        key=lambda e: e["r"].at,
        reverse=True,
    )


@writer_required
@require_http_methods(["GET", "POST"])
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    """A teacher's 心理关注: a minute's form on a phone; afterwards she reads only 已提交."""
    child = get_object_or_404(
        Child.objects.visible_to(request.user).select_related("school_class"), pk=pk
    )
    if not services.may_report(request.user):
        raise PermissionDenied("您的角色不能记录心理关注")
    form = ObservationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.file_observation(
                child=child,
                by=request.user,
                level=form.cleaned_data["level"],
                what=form.cleaned_data["what"],
                referral=form.cleaned_data.get("referral") or "",
            )
        except Invalid as exc:
            _show_errors(form, exc)
        else:
            messages.success(
                request,
                f"已提交：{child.name} 的心理关注已交给心理辅导老师（内容仅心理辅导老师和学校领导可查看）",
            )
            return redirect(reverse("children:detail", args=[child.pk]))
    return render(
        request,
        "care/flag.html",
        {"child": child, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """What the user filed: child, date, 已提交."""
    page = Paginator(services.my_filings(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "care/mine.html", {"page": page})


@writer_required
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, pk: int, instrument_id: int) -> HttpResponse:
    """A questionnaire for one child (the counselor, with the guardian's consent)."""
    child = get_object_or_404(services.psych_children(request.user), pk=pk)
    instrument = get_object_or_404(Instrument, pk=instrument_id, active=True)
    errors: list[str] = []
    if not child.psych_test_consent:
        errors.append("监护人尚未同意心理测评：请先在档卡“知情同意”中登记")
    if request.method == "POST" and not errors:
        raw = [request.POST.get(f"q{n}", "") for n in range(len(instrument.items))]
        if not all(a.isdigit() for a in raw):
            errors.append("请回答全部题目")
        else:
            try:
                result = services.record_screening(
                    child=child,
                    instrument=instrument,
                    by=request.user,
                    answers=[int(a) for a in raw],
                )
            except Invalid as exc:
                errors.extend(exc.errors.values())
            else:
                messages.success(
                    request,
                    f"{child.name}：总分 {result.score}，{result.get_level_display()}",
                )
                return redirect("care:child", pk=child.pk)
    return render(
        request,
        "care/screen.html",
        {"child": child, "instrument": instrument, "errors": errors, "answers": request.POST},
        status=422 if errors and request.method == "POST" else 200,
    )
