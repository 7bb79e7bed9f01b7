"""Roster import in the pages: upload → preview (dry run, a background job) → confirm → the
import job with a progress bar → the rejected rows as an .xlsx to fix and re-upload.

Imports are for school leaders and town administrators (schools_managed_by): a roster creates
and updates cards across classes, so a class teacher hands her sheet to the school. A school or
job outside the user's schools answers 404; a role that may not import answers 403.
"""

import io
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.children.roster import RosterError, write_template
from guanai.children.validation import CardInvalid
from guanai.jobs.models import Job
from guanai.lib.htmx import is_partial

from . import imports
from .forms import ImportForm
from .models import schools_managed_by

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _importer(request: HttpRequest):
    schools = schools_managed_by(request.user).order_by("id")
    if not schools.exists():
        raise PermissionDenied("只有校领导和镇管理员可以导入花名册；班主任请把表格交给学校统一导入")
    return schools


@writer_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a roster for a school; recent imports of the user's schools."""
    schools = _importer(request)
    form = ImportForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.start_import(
                school=form.cleaned_data["school"],
                upload=form.cleaned_data["file"],
                term=form.cleaned_data["term"],
                dry_run=True,
                by=request.user,
            )
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            return redirect("screening:import_detail", pk=job.pk)
    jobs = imports.import_jobs_visible_to(request.user).select_related("school", "created_by")
    return render(
        request,
        "screening/imports.html",
        {"form": form, "jobs": jobs[:20]},
        status=422 if form.errors else 200,
    )


@writer_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while the job runs (HTMX polls this view), then the preview or the result."""
    job = get_object_or_404(
        imports.import_jobs_visible_to(request.user).select_related("school", "created_by"),
        pk=pk,
    )
    summary = imports.import_summary(job)
    errors = summary["errors"] if summary else []
    ctx = {
        "job": job,
        "summary": summary,
        "errors": errors[:200],
        "more_errors": max(0, len(errors) - 200),
        "dry_run": bool(job.params.get("dry_run")),
        "confirmed": job.params.get("confirmed_job"),
        "preview_of": job.params.get("preview_of"),
        "can_confirm": imports.can_confirm(job) and imports.upload_exists(job),
        "upload_gone": imports.can_confirm(job) and not imports.upload_exists(job),
        "can_retry": job.retryable and job.status == "failed",
    }
    if is_partial(request):
        return render(request, "screening/_import_status.html", ctx)
    return render(request, "screening/import_detail.html", ctx)


@writer_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Run for real what the preview showed."""
    job = get_object_or_404(imports.import_jobs_visible_to(request.user), pk=pk)
    try:
        new = imports.confirm_import(job=job, by=request.user)
    except CardInvalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
        return redirect("screening:import_detail", pk=job.pk)
    return redirect("screening:import_detail", pk=new.pk)


@writer_required
@require_POST
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run again an import whose background worker died."""
    job = get_object_or_404(imports.import_jobs_visible_to(request.user), pk=pk)
    try:
        imports.retry_import(job=job, by=request.user)
    except CardInvalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    return redirect("screening:import_detail", pk=job.pk)


@writer_required
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows with an 错误原因 column, to fix and re-upload (full ID numbers as the
    teacher typed them: written to the access log)."""
    job: Job = get_object_or_404(
        imports.import_jobs_visible_to(request.user).select_related("school"), pk=pk
    )
    if not imports.rejected_rows_by_number(job):
        messages.info(request, "这次导入没有被拒绝的行")
        return redirect("screening:import_detail", pk=job.pk)
    try:
        data = imports.rejected_rows_xlsx(job)
    except (RosterError, OSError, ValueError) as exc:
        messages.error(request, f"无法生成未导入的行：{exc}")
        return redirect("screening:import_detail", pk=job.pk)
    if data is None:
        messages.error(
            request, "未导入的行已不能下载（上传的文件已删除），请按页面上的错误原因修改后重新上传"
        )
        return redirect("screening:import_detail", pk=job.pk)
    count = len(imports.rejected_rows_by_number(job))
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=job.school,
        detail=f"下载未导入的行 {count} 行（导入 #{job.pk}）",
    )
    name = f"未导入的行-{job.school.code}-{timezone.localtime():%Y%m%d%H%M}.xlsx"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=XLSX)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """The empty roster template of SPEC §6.2 (drop-down lists, text ID column); anyone may
    fill it in and hand it to the school."""
    tmp = Path(tempfile.mkdtemp()) / "template.xlsx"
    write_template(tmp)
    return FileResponse(
        _detached(tmp), as_attachment=True, filename="学生花名册模板.xlsx", content_type=XLSX
    )


def _detached(path: Path) -> BinaryIO:
    """Open a temporary file and remove it from disk; the open handle is streamed, then closed."""
    handle = path.open("rb")
    path.unlink()
    path.parent.rmdir()
    return handle
