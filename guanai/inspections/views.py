"""督导检查 pages: the list, drawing a sample, one inspection (checklist, sample, 重新验证抽样,
accuracy, items), the phone form of a visit, the teacher's corrections and the 整改 items.

Inspections come from `Inspection.objects.visible_to` (the town's; a leader's own school's);
working on one needs the `inspect` action (`services.check_inspect`), else 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.lib.htmx import is_partial
from guanai.lib.photos import CONTENT_TYPES
from guanai.pairing.services import school_staff

from . import services
from .forms import (
    ACCEPT_FILES,
    AttachForm,
    DoneForm,
    EditForm,
    FindingForm,
    InspectionForm,
    ItemForm,
)
from .models import (
    Attachment,
    ChecklistItem,
    Correction,
    EvidencePhoto,
    FindingCheck,
    Inspection,
    ItemStatus,
    Rectification,
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
            "accuracy": services.accuracy_by_school(
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
    findings = {f.child_id: f for f in inspection.findings.all()} if show else {}
    accuracy = services.accuracy(inspection) if show else None
    rate = accuracy["rate"] if accuracy else None
    return {
        "inspection": inspection,
        "may_inspect": may_inspect,
        "accuracy_percent": "" if rate is None else f"{rate * 100:.1f}%",
        "show_sample": show,
        "sample": [(children[pk], findings.get(pk)) for pk in inspection.sample if pk in children],
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
def visit(request: HttpRequest, pk: int, child_id: int) -> HttpResponse:
    """The phone form of one sampled child's visit."""
    inspection = _workable(request, pk)
    if child_id not in inspection.sample:
        raise Http404
    child = get_object_or_404(
        Child.objects.select_related("school_class", "guardian").prefetch_related("parents"),
        pk=child_id,
    )
    recorded = {f: services.card_value(child, f) for f in services.CARD_KEY}
    form = FindingForm(request.POST or None, recorded=recorded)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_finding(
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


@require_POST
@login_required
def raise_item(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _workable(request, pk)
    form = ItemForm(request.POST, owners=school_staff(inspection.school))
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.raise_item(
                inspection=inspection,
                school=inspection.school,
                title=d["title"],
                owner=d["owner"],
                due_on=d["due_on"],
                by=request.user,
            )
        except Invalid as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "已提出整改事项")
            return redirect("inspections:detail", pk=pk)
    ctx = _detail_context(request, inspection) | {"item_form": form}
    return render(request, "inspections/detail.html", ctx, status=422)


@login_required
def items(request: HttpRequest) -> HttpResponse:
    """整改 items in scope: the town's by school, a leader's school's, one's own."""
    qs = (
        Rectification.objects.visible_to(request.user)
        .select_related("school", "owner", "inspection")
        .prefetch_related("files", "photos")
    )
    status = request.GET.get("status", "open")
    if status in ItemStatus.values:
        qs = qs.filter(status=status)
    qs = qs.order_by("due_on", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    closable = set(scope.schools(request.user, "inspect").values_list("pk", flat=True))
    leads = set(scope.schools(request.user, "lead_school").values_list("pk", flat=True))
    return render(
        request,
        "inspections/items.html",
        {
            "page": page,
            "statuses": [*ItemStatus.choices, ("all", "全部")],
            "status": status,
            "today": timezone.localdate(),
            "closable": closable,
            "leads": leads,
            "by_school": services.open_by_school(request.user),
            "accept_files": ACCEPT_FILES,
        },
    )


@require_POST
@login_required
def item_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
    leads = scope.schools(request.user, "lead_school").filter(pk=item.school_id).exists()
    if item.owner_id != request.user.pk and not leads:
        raise PermissionDenied("只有责任人或校领导可以提交整改情况")
    form = DoneForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.mark_done(
                item=item,
                evidence=form.cleaned_data["evidence"],
                photos=form.cleaned_data["photos"],
                files=form.cleaned_data["files"],
                by=request.user,
            )
            messages.success(request, "已提交整改情况，等待督导销号")
            return redirect(reverse("inspections:items") + "?status=done")
        except Invalid as exc:
            messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.error(request, next(iter(form.errors.values()))[0])
    return redirect("inspections:items")


@login_required
def evidence_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """An evidence photo, for those who see its item; the content type comes from the stored
    extension (photos are re-encoded on upload), never from sniffing."""
    photo = get_object_or_404(
        EvidencePhoto.objects.filter(item__in=Rectification.objects.visible_to(request.user)),
        pk=pk,
    )
    ext = photo.file.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        photo.file.open("rb"),
        content_type=CONTENT_TYPES.get(ext, "application/octet-stream"),
        filename=f"evidence-{pk}.{ext}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response


@require_POST
@login_required
def attach(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    """Photos and documents on a checklist item (inspectors, until the inspection closes)."""
    inspection = _workable(request, pk)
    item = get_object_or_404(inspection.checklist, pk=item_id)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
    else:
        try:
            added = services.attach_to_item(
                item=item, files=form.cleaned_data["files"], by=request.user
            )
        except Invalid as exc:
            messages.error(request, next(iter(exc.errors.values())))
        else:
            messages.success(request, f"已在“{item.title}”上传 {len(added)} 个附件")
    return redirect(reverse("inspections:detail", args=[pk]) + f"#item-{item.pk}")


def _may_remove(user, attachment: Attachment) -> bool:
    """Inspectors take files off a checklist item; the owner or a leader of the school off a
    整改 item (the same people who add them)."""
    if attachment.checklist_item_id:
        return (
            Inspection.objects.inspectable_by(user)
            .filter(pk=attachment.checklist_item.inspection_id)
            .exists()
        )
    item = attachment.rectification
    return item.owner_id == user.pk or scope.holds(user, "lead_school", school_id=item.school_id)


@require_POST
@login_required
def remove_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        Attachment.objects.visible_to(request.user).select_related(
            "checklist_item__inspection", "rectification"
        ),
        pk=pk,
    )
    if not _may_remove(request.user, attachment):
        raise PermissionDenied("只有上传这类附件的人员可以删除")
    try:
        services.remove_attachment(attachment=attachment, by=request.user)
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, f"已删除附件“{attachment.name}”")
    if attachment.checklist_item_id:
        return redirect("inspections:detail", pk=attachment.checklist_item.inspection_id)
    return redirect("inspections:items")


def serve_attachment(request: HttpRequest, attachment: Attachment) -> FileResponse:
    """The stored file under its shown name, the content type from the stored extension (the
    upload was recognised and re-encoded), documents as downloads; every opening is written to
    the access log, as a file of an inspection may name children (a scanned 台账 page)."""
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    where = (
        f"检查项目“{attachment.checklist_item.title}”"
        if attachment.checklist_item_id
        else f"整改事项“{attachment.rectification.title}”"
    )
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=attachment.school,
        detail=f"下载督导检查附件“{attachment.name}”（{where}）",
    )
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type or "application/octet-stream",
        as_attachment=attachment.kind != "photo",
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def attachment_file(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        Attachment.objects.visible_to(request.user).select_related(
            "school", "checklist_item", "rectification"
        ),
        pk=pk,
    )
    return serve_attachment(request, attachment)


@require_POST
@login_required
def item_close(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
    if not scope.schools(request.user, "inspect").filter(pk=item.school_id).exists():
        raise PermissionDenied("只有镇管理员和督导员可以销号")
    try:
        services.close_item(item=item, by=request.user)
        messages.success(request, "整改事项已销号")
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    return redirect(request.POST.get("next") or "inspections:items")


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
        services.decide_correction(check=check, accept=accept, by=request.user)
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        name = check.finding.child.name
        messages.success(request, f"已更正 {name} 的档卡" if accept else f"未采纳对 {name} 的更正")
    return redirect("inspections:corrections")


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
