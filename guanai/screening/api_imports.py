"""/api/v1/imports: roster imports of a school, run by the worker (202 with the job), and their
progress and result."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from guanai.api_common import ErrorsOut
from guanai.jobs.models import Job
from guanai.lib.bounds import Id, LazyOut, Pages

from . import imports
from .api import (
    forbid_read_only,
    school_for_write,
)

imports_router = Router(tags=["imports"])  # mounted at /api/v1/imports

# --- imports ---------------------------------------------------------------------------------


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class ImportSummary(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict[str, Any]]


class ImportOut(Schema):
    id: int
    status: Literal["queued", "running", "succeeded", "failed"]
    school: str
    term: str
    filename: str
    dry_run: bool
    progress: ProgressOut
    message: str
    summary: ImportSummary | None
    preview_of: int | None
    confirmed_by_job: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


def import_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "school": job.school.code if job.school else "",
        "term": job.params.get("term", ""),
        "filename": job.params.get("filename", ""),
        "dry_run": bool(job.params.get("dry_run")),
        "progress": {"done": job.done, "total": job.total, "percent": job.percent},
        "message": job.message,
        "summary": imports.import_summary(job),
        "preview_of": job.params.get("preview_of"),
        "confirmed_by_job": job.params.get("confirmed_job"),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@imports_router.post("", response={202: ImportOut, 422: ErrorsOut})
def post_import(
    request: HttpRequest,
    file: File[UploadedFile],
    school: Form[str],
    term: Form[str | None] = None,
    dry_run: Form[bool] = False,
):
    """Upload a roster (.xlsx/.xls/.csv) for a school; the import (or with `dry_run` its
    preview) runs as a background job. Answers the job: poll GET /api/v1/imports/{id}."""
    forbid_read_only(request)
    target = school_for_write(request, school)
    job = imports.start_import(
        school=target, upload=file, term=term, dry_run=dry_run, by=request.user
    )
    job.refresh_from_db()
    return Status(202, import_out(job))


@imports_router.get("", response=list[ImportOut])
@paginate(Pages, page_size=50)
def list_imports(request: HttpRequest):
    """Imports of the schools the user may import into, newest first."""
    jobs = imports.import_jobs_visible_to(request.user).select_related("school")
    return LazyOut(jobs, import_out)


@imports_router.get("/{job_id}", response=ImportOut)
def get_import(request: HttpRequest, job_id: Id):
    """Status, progress and, once finished, the summary in SPEC §6.1's shape."""
    job = get_object_or_404(
        imports.import_jobs_visible_to(request.user).select_related("school"), pk=job_id
    )
    return import_out(job)
