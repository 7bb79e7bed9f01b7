"""督导检查 pages of files: attaching photos and documents to a checklist item, taking one off,
and serving one (logged) — also to the API (api.py, api_rectifications.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.lib.errors import Invalid

from . import attachments
from .forms import (
    AttachForm,
)
from .models import (
    Attachment,
    Inspection,
)
from .views import _workable


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
            added = attachments.attach_to_item(
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
        attachments.remove_attachment(attachment=attachment, by=request.user)
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
