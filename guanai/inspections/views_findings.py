"""督导检查 pages of findings: the phone form of a visit to a sampled child, and the teacher's
corrections (accept or reject what the visit found)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from guanai.children.models import Child
from guanai.lib.errors import Invalid

from . import findings
from .forms import (
    FindingForm,
)
from .models import (
    CARD_KEY,
    Correction,
    FindingCheck,
)
from .views import _workable


@login_required
def visit(request: HttpRequest, pk: int, child_id: int) -> HttpResponse:
    """The phone form of one sampled child's visit."""
    inspection = _workable(request, pk)
    if child_id not in inspection.sample:
        raise Http404
    child = get_object_or_404(
        Child.objects.select_related("school_class", "guardian").prefetch_related("parents"),
        pk=child_id,
    )
    recorded = {f: findings.card_value(child, f) for f in CARD_KEY}
    form = FindingForm(request.POST or None, recorded=recorded)
    if request.method == "POST" and form.is_valid():
        try:
            findings.record_finding(
                inspection=inspection,
                child=child,
                visited=form.cleaned_data["visited"],
                met_whom=form.cleaned_data["met_whom"],
                notes=form.cleaned_data["notes"],
                checks=form.checks(),
                by=request.user,
            )
        except Invalid as exc:
            for message in exc.errors.values():
                form.add_error(None, message)
        else:
            messages.success(request, f"已记录 {child.name} 的走访结果")
            return redirect("inspections:detail", pk=pk)
    return render(
        request, "inspections/visit.html", {"inspection": inspection, "child": child, "form": form}
    )


def _corrections(request: HttpRequest):
    return FindingCheck.objects.filter(
        finding__child__in=Child.objects.visible_to(request.user, "change"),
        correction=Correction.PROPOSED,
    ).select_related("finding__child__school_class", "finding__inspection__school")


@login_required
def corrections(request: HttpRequest) -> HttpResponse:
    """Corrections the inspections proposed for the cards the user keeps: accept or reject."""
    rows = _corrections(request).order_by(
        "finding__child__school_class__grade", "finding__child__school_class__class_no", "id"
    )
    return render(request, "inspections/corrections.html", {"rows": rows})


@require_POST
@login_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(_corrections(request), pk=pk)
    accept = request.POST.get("accept") == "1"
    try:
        findings.decide_correction(check=check, accept=accept, by=request.user)
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        name = check.finding.child.name
        messages.success(request, f"已更正 {name} 的档卡" if accept else f"未采纳对 {name} 的更正")
    return redirect("inspections:corrections")
