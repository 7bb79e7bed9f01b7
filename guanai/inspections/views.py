"""督导检查 pages: the list, drawing a sample, one inspection (checklist, sample, 重新验证抽样,
accuracy, items), the phone form of a visit, the teacher's corrections and the 整改 items.

Inspections come from `Inspection.objects.visible_to` (the town's; a leader's own school's);
working on one needs the `inspect` action (`services.check_inspect`), else 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.lib.htmx import is_partial
from guanai.pairing.services import school_staff

from . import findings, services
from .forms import (
    ACCEPT_FILES,
    EditForm,
    InspectionForm,
    ItemForm,
)
from .models import (
    ChecklistItem,
    Inspection,
    Status,
)

PAGE_SIZE = 50


def _visible(request: HttpRequest, pk: int) -> Inspection:
    return get_object_or_404(
        Inspection.objects.visible_to(request.user).select_related("school"), pk=pk
    )


def _workable(request: HttpRequest, pk: int) -> Inspection:
    inspection = _visible(request, pk)
    services.check_inspect(request.user)
    if not Inspection.objects.inspectable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("只有镇管理员和督导员可以进行督导检查")
    return inspection


def _form_errors(form, exc: Invalid) -> None:
    for key, message in exc.errors.items():
        field = key if key in form.fields else None
        form.add_error(field, message)


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    qs = (
        Inspection.objects.visible_to(request.user)
        .select_related("school")
        .order_by("-planned_on", "-id")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        qs = qs.filter(status=status)
    school = request.GET.get("school", "")
    if school:
        qs = qs.filter(school__code=school)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/list.html",
        {
            "page": page,
            "statuses": Status.choices,
            "f": {"status": status, "school": school},
            "accuracy": findings.accuracy_by_school(
                Inspection.objects.visible_to(request.user).filter(
                    pk__in=Inspection.objects.inspectable_by(request.user).values("pk")
                )
                | Inspection.objects.visible_to(request.user).exclude(status=Status.PLANNED)
            ),
            "schools": scope.schools(request.user, "inspect")
            | scope.schools(request.user, "lead_school"),
            "may_inspect": request.user.is_superuser or bool(scope.units(request.user, "inspect")),
        },
    )


def _people(user):
    """The town administrators and 督导员 of the towns the user inspects, by name."""
    from guanai.accounts.models import User

    ids: set[int] = set()
    for town in scope.towns(user, "inspect"):
        ids |= set(services.town_inspectors(town).values_list("pk", flat=True))
    return User.objects.filter(pk__in=ids).order_by("display_name", "username")


@login_required
def new(request: HttpRequest) -> HttpResponse:
    services.check_inspect(request.user)
    schools = scope.schools(request.user, "inspect").order_by("code")
    people = _people(request.user)
    form = InspectionForm(
        request.POST or None,
        schools=schools,
        people=people,
        earlier=Inspection.objects.inspectable_by(request.user),
        initial={"inspectors": [request.user.pk]},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            inspection = services.create_inspection(
                school=d["school"],
                planned_on=d["planned_on"],
                sample_size=d["sample_size"],
                seed=d["seed"],
                inspectors=list(d["inspectors"]) or None,
                previous=d["previous"],
                by=request.user,
            )
        except Invalid as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, f"已抽取 {len(inspection.sample)} 名儿童，随机种子 {inspection.seed}"
            )
            return redirect("inspections:detail", pk=inspection.pk)
    return render(request, "inspections/new.html", {"form": form})


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the date, the inspectors and the earlier inspection (never the sample)."""
    inspection = _workable(request, pk)
    earlier = Inspection.objects.inspectable_by(request.user).filter(
        school=inspection.school, pk__lt=inspection.pk
    )
    form = EditForm(
        request.POST or None,
        people=_people(request.user),
        earlier=earlier,
        initial={
            "planned_on": inspection.planned_on,
            "inspectors": list(inspection.inspectors.values_list("pk", flat=True)),
            "previous": inspection.previous_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_inspection(
                inspection=inspection,
                planned_on=d["planned_on"],
                inspectors=list(d["inspectors"]) or [request.user],
                previous=d["previous"],
                by=request.user,
            )
        except Invalid as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "检查信息已保存")
            return redirect("inspections:detail", pk=pk)
    return render(request, "inspections/edit.html", {"form": form, "inspection": inspection})


def _detail_context(request: HttpRequest, inspection: Inspection) -> dict:
    may_inspect = Inspection.objects.inspectable_by(request.user).filter(pk=inspection.pk).exists()
    show = may_inspect or inspection.sample_open
    children = (
        {
            c.pk: c
            for c in Child.objects.filter(pk__in=inspection.sample).select_related("school_class")
        }
        if show
        else {}
    )
    by_child = {f.child_id: f for f in inspection.findings.all()} if show else {}
    accuracy = findings.accuracy(inspection) if show else None
    rate = accuracy["rate"] if accuracy else None
    return {
        "inspection": inspection,
        "may_inspect": may_inspect,
        "accuracy_percent": "" if rate is None else f"{rate * 100:.1f}%",
        "show_sample": show,
        "sample": [(children[pk], by_child.get(pk)) for pk in inspection.sample if pk in children],
        "checklist": inspection.checklist.prefetch_related("attachments"),
        "may_attach": may_inspect and inspection.status != Status.CLOSED,
        "accept_files": ACCEPT_FILES,
        "inspectors": list(inspection.inspectors.order_by("display_name", "username")),
        "compare": services.compare_with_previous(inspection),
        "accuracy": accuracy,
        "items": inspection.rectifications.select_related("owner").prefetch_related(
            "files", "photos"
        ),
        "item_form": ItemForm(owners=school_staff(inspection.school)) if may_inspect else None,
        "next_status": services.NEXT_STATUS.get(inspection.status),
        "next_label": Status(services.NEXT_STATUS[inspection.status]).label
        if inspection.status in services.NEXT_STATUS
        else "",
    }


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _visible(request, pk)
    return render(request, "inspections/detail.html", _detail_context(request, inspection))


@login_required
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    """重新验证抽样: the fragment (or page) saying whether the stored sample re-derives."""
    inspection = _visible(request, pk)
    if not (
        inspection.sample_open
        or Inspection.objects.inspectable_by(request.user).filter(pk=pk).exists()
    ):
        raise PermissionDenied("检查开始后才能查看抽样")
    ctx = {"inspection": inspection, "reproduced": services.reproduced(inspection)}
    if is_partial(request):
        return render(request, "inspections/_verify.html", ctx)
    return render(request, "inspections/verify.html", ctx)


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-page report (PDF), for the town and, once the visit started, the school; each
    download is written to the access log (it names children)."""
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    from .report import render_report

    inspection = _visible(request, pk)
    if not (
        inspection.sample_open
        or Inspection.objects.inspectable_by(request.user).filter(pk=pk).exists()
    ):
        raise PermissionDenied("检查开始后才能下载检查报告")
    content = render_report(inspection)
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=inspection.school,
        detail=f"下载督导检查报告（{inspection}）",
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="inspection-{inspection.pk}.pdf"'
    return response


@require_POST
@login_required
def advance(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _workable(request, pk)
    try:
        services.advance(inspection=inspection, to=request.POST.get("status", ""), by=request.user)
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, f"检查状态已改为“{inspection.get_status_display()}”")
    return redirect("inspections:detail", pk=pk)


@require_POST
@login_required
def checklist(request: HttpRequest, pk: int) -> HttpResponse:
    """Scores (0–10) and notes of every checklist item, saved together."""
    inspection = _workable(request, pk)
    errors = []
    items = list(inspection.checklist.all())
    for item in items:
        raw = request.POST.get(f"score_{item.pk}", "").strip()
        if raw and not (raw.isdigit() and int(raw) <= 10):
            errors.append(f"“{item.title}”的得分应为 0 到 10 的整数")
            continue
        item.score = int(raw) if raw else None
        item.notes = request.POST.get(f"notes_{item.pk}", "").strip()[:2000]
    if errors:
        for e in errors:
            messages.error(request, e)
    else:
        ChecklistItem.objects.bulk_update(items, ["score", "notes"])
        inspection.meeting_attendees = request.POST.get("meeting_attendees", "").strip()[:2000]
        inspection.meeting_points = request.POST.get("meeting_points", "").strip()[:4000]
        inspection.save(update_fields=["meeting_attendees", "meeting_points", "updated_at"])
        messages.success(request, "检查记录已保存")
    return redirect("inspections:detail", pk=pk)


@login_required
def template(request: HttpRequest) -> HttpResponse:
    """The town's checklist template: town administrators edit it (one item per line),
    inspectors read it."""
    towns = scope.towns(request.user, "inspect")
    town = towns.order_by("pk").first()
    if town is None:
        raise PermissionDenied("只有镇管理员和督导员可以查看检查项目模板")
    may_edit = scope.towns(request.user, "manage").filter(pk=town.pk).exists()
    error = ""
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("只有镇管理员可以修改检查项目模板")
        try:
            services.set_town_checklist(
                town=town, titles=request.POST.get("titles", "").splitlines()
            )
        except Invalid as exc:
            error = next(iter(exc.errors.values()))
        else:
            messages.success(request, "检查项目模板已保存，之后新建的检查按新模板")
            return redirect("inspections:template")
    titles = [i.title for i in services.town_checklist(town)]
    text = request.POST.get("titles") if error else "\n".join(titles)
    return render(
        request,
        "inspections/template.html",
        {"town": town, "titles": titles, "text": text, "may_edit": may_edit, "error": error},
    )
