"""动态管理 pages: transfer a child on purpose, roll the school year over, counts on a date.

For school leaders and town administrators (schools_managed_by); a child is found through
Child.objects.visible_to(user, "change") within those schools, so anything else is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from guanai.accounts.permissions import writer_required
from guanai.children.access import search_children
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.jobs.services import start_job
from guanai.org.models import SchoolClass
from guanai.screening.transitions import (
    default_top_grade,
    rollover_preview,
    school_counts_on,
    school_year_of,
    transfer_child,
)

from .forms import CountsForm, RolloverForm, TransferForm
from .models import Rollover, Transition, schools_managed_by, schools_visible_to
from .tasks import ROLLOVER_KIND


def _managed_or_403(request: HttpRequest):
    schools = schools_managed_by(request.user)
    if not schools.exists():
        raise PermissionDenied("只有校领导和镇管理员可以办理转学和学年升级")
    return schools


def _movable(request: HttpRequest):
    """Children the user may transfer: editable, in a school the user manages."""
    return Child.objects.visible_to(request.user, "change").filter(
        school__in=schools_managed_by(request.user)
    )


@writer_required
def transfer_list(request: HttpRequest) -> HttpResponse:
    """Find an enrolled child to transfer; the recent transitions of the user's schools."""
    schools = _managed_or_403(request)
    q = request.GET.get("q", "")
    found = None
    if q:
        found = (
            search_children(request, _movable(request).active(), q)
            .select_related("school", "school_class")
            .order_by("school_id", "name", "id")[:30]
        )
    recent = (
        Transition.objects.filter(Q(from_school__in=schools) | Q(to_school__in=schools))
        .select_related("child", "from_school", "to_school", "from_class", "to_class", "by")
        .order_by("-created_at", "-id")
    )
    page = Paginator(recent, 30).get_page(request.GET.get("page"))
    return render(request, "screening/transfers.html", {"found": found, "q": q, "page": page})


@writer_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Transfer one child, with reason and date, to another school of the town or out of it."""
    _managed_or_403(request)
    child = get_object_or_404(
        _movable(request).select_related("school", "school_class"), pk=child_pk
    )
    classes = (
        SchoolClass.objects.filter(
            school__town_id=child.school.town_id, school__active=True, active=True
        )
        .exclude(school_id=child.school_id)
        .select_related("school")
        .order_by("school_id", "grade", "class_no")
    )
    form = TransferForm(request.POST or None, classes=classes, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        out = form.cleaned_data["destination"] == "out"
        to_class = None if out else form.cleaned_data["to_class"]
        if not out and to_class is None:  # never read a missing class as "out of the town"
            form.add_error("to_class", "请选择转入的班级")
            return render(
                request, "screening/transfer.html", {"child": child, "form": form}, status=422
            )
        try:
            transfer_child(
                child=child,
                to_school=None if out or to_class is None else to_class.school,
                to_class=to_class,
                by=request.user,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
            )
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                key = "to_class" if key == "to_school" else key
                form.add_error(key if key in form.fields else None, message)
        else:
            where = "转出本镇" if out else f"转入{to_class.school.name}{to_class}"
            messages.success(request, f"{child.name} 已{where}；变更已记入档卡历史")
            return redirect("screening:transfers")
    return render(
        request,
        "screening/transfer.html",
        {"child": child, "form": form},
        status=422 if form.errors else 200,
    )


def _school_param(request: HttpRequest):
    """The school named by ?school=CODE (or the only one): visible (404) and managed (403)."""
    visible = schools_visible_to(request.user)
    managed = _managed_or_403(request)
    code = request.GET.get("school") or request.POST.get("school")
    if not code:
        return managed.order_by("id").first() if managed.count() == 1 else None
    school = get_object_or_404(visible, code=code)
    if not managed.filter(pk=school.pk).exists():
        raise PermissionDenied("只有校领导和镇管理员可以进行学年升级")
    return school


@writer_required
@require_http_methods(["GET", "POST"])
def rollover(request: HttpRequest) -> HttpResponse:
    """Preview a school's roll-over (counts per grade), then run it as a background job."""
    school = _school_param(request)
    schools = schools_managed_by(request.user).order_by("id")
    if school is None:
        return render(request, "screening/rollover.html", {"schools": schools})
    top = request.POST.get("top_grade") or request.GET.get("top_grade")
    top_grade = int(top) if top and top.isdigit() and 1 <= int(top) <= 12 else None
    form = RolloverForm(
        request.POST or None,
        initial={"top_grade": top_grade or default_top_grade(school)},
    )
    preview = rollover_preview(school=school, top_grade=top_grade)
    year = school_year_of(timezone.localdate())
    done = Rollover.objects.filter(school=school, school_year=year).first()
    if request.method == "POST" and form.is_valid():
        on = form.cleaned_data["on"] or timezone.localdate()
        if on > timezone.localdate():
            form.add_error("on", "升级日期不能晚于今天")
        elif Rollover.objects.filter(school=school, school_year=school_year_of(on)).exists():
            form.add_error(None, f"{school.name}已升级到 {school_year_of(on)} 学年，不能重复升级")
        else:
            job = start_job(
                kind=ROLLOVER_KIND,
                params={"on": on.isoformat(), "top_grade": form.cleaned_data["top_grade"]},
                by=request.user,
                school=school,
            )
            return redirect("jobs:detail", pk=job.pk)
    return render(
        request,
        "screening/rollover.html",
        {
            "schools": schools,
            "school": school,
            "preview": preview,
            "form": form,
            "year": year,
            "done": done,
        },
        status=422 if form.errors else 200,
    )


@login_required
def rollover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = get_object_or_404(
        Rollover.objects.visible_to(request.user).select_related("school", "by"), pk=pk
    )
    return render(request, "screening/rollover_detail.html", {"rollover": r})


@login_required
def counts(request: HttpRequest) -> HttpResponse:
    """Each visible school's enrolled children and categories on a date (past dates rebuilt
    from the dated transitions and parents' history), within the user's scope."""
    form = CountsForm(request.GET or None)
    on = timezone.localdate()
    if form.is_valid() and form.cleaned_data["on"]:
        on = form.cleaned_data["on"]
        if on > timezone.localdate():
            form.add_error("on", "只能查询今天及以前的日期")
            on = timezone.localdate()
    scope = Child.objects.visible_to(request.user)
    rows = [
        (school, school_counts_on(school=school, on=on, children=scope))
        for school in schools_visible_to(request.user).order_by("id")
    ]
    return render(
        request,
        "screening/counts.html",
        {"form": form, "rows": rows, "on": on},
        status=422 if form.errors else 200,
    )
