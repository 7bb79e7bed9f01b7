"""督导检查 pages of 整改 items: raising one from an inspection, the list, reporting one done with
evidence, its photos, and closing it (销号)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.lib.errors import Invalid
from guanai.lib.photos import CONTENT_TYPES
from guanai.pairing.services import school_staff

from . import rectifications, services
from .forms import (
    ACCEPT_FILES,
    DoneForm,
    ItemForm,
)
from .models import (
    EvidencePhoto,
    ItemStatus,
    Rectification,
)
from .views import PAGE_SIZE, _detail_context, _form_errors, _workable


@require_POST
@login_required
def raise_item(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _workable(request, pk)
    form = ItemForm(request.POST, owners=school_staff(inspection.school))
    if form.is_valid():
        d = form.cleaned_data
        try:
            rectifications.raise_item(
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
            rectifications.mark_done(
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
def item_close(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
    if not scope.schools(request.user, "inspect").filter(pk=item.school_id).exists():
        raise PermissionDenied("只有镇管理员和督导员可以销号")
    try:
        rectifications.close_item(item=item, by=request.user)
        messages.success(request, "整改事项已销号")
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    return redirect(request.POST.get("next") or "inspections:items")
