"""Roster imports in the pages and the API: the stored upload, the import job, its preview and
confirmation, and the rejected rows written back for the school to correct. The import itself is
guanai/children/roster/; the job runs in the worker (guanai/screening/tasks.py).
"""

import datetime as dt
import os
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from guanai.children.validation import CardInvalid
from guanai.jobs.models import Job, JobStatus
from guanai.jobs.services import JobError, retry_job, start_job
from guanai.lib import crypto
from guanai.org.models import School

from .models import schools_managed_by
from .services import checked_term

IMPORT_KIND = "roster_import"
UPLOAD_SUFFIXES = (".xlsx", ".xls", ".csv")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
UPLOAD_KEEP_HOURS = 24  # an unconfirmed preview's upload (full ID numbers) goes after this
REJECTED_KEEP_DAYS = 30


# --- roster imports in the pages -------------------------------------------------------------


def import_jobs_visible_to(user) -> QuerySet:
    """Import jobs of the schools the user may import into (leaders and town admins)."""
    return Job.objects.filter(kind=IMPORT_KIND, school__in=schools_managed_by(user))


def save_upload(upload, *, school: School) -> str:
    """Store an uploaded roster under MEDIA_ROOT/imports; the path relative to MEDIA_ROOT.

    The file holds full ID numbers in clear, so it lives only as long as an import needs it:
    removed when the import is done or failed (tasks.run_roster_import), and a preview never
    confirmed goes after UPLOAD_KEEP_HOURS (clean_stale_uploads)."""
    name = Path(upload.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise CardInvalid({"file": "请上传 .xlsx、.xls 或 .csv 格式的花名册"})
    if not upload.size:
        raise CardInvalid({"file": "上传的文件是空的"})
    if upload.size > MAX_UPLOAD_BYTES:
        raise CardInvalid({"file": "文件太大（超过 50 MB），请按学校或年级分开上传"})
    folder = Path(settings.MEDIA_ROOT) / "imports" / school.code
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{timezone.localdate():%Y%m%d}-{uuid.uuid4().hex[:12]}{suffix}"
    with stored.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return str(stored.relative_to(Path(settings.MEDIA_ROOT)))


def start_import(*, school: School, upload, term: str | None, dry_run: bool, by) -> Job:
    """Store the file and queue the import (or its dry run, the preview) as a background job.
    Uploads nobody needs any more go first."""
    term = checked_term(term)
    clean_stale_uploads()
    path = save_upload(upload, school=school)
    return start_job(
        kind=IMPORT_KIND,
        params={
            "path": path,
            "filename": Path(upload.name).name[:200],
            "term": term,
            "dry_run": dry_run,
        },
        by=by,
        school=school,
    )


@transaction.atomic
def confirm_import(*, job: Job, by) -> Job:
    """Run for real the import a preview (dry run) showed. Confirming twice gives the same job."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not job.params.get("dry_run"):
        raise CardInvalid({"job": "这不是一次预览"})
    if job.params.get("confirmed_job"):
        return Job.objects.get(pk=job.params["confirmed_job"])
    if job.status != JobStatus.SUCCEEDED:
        raise CardInvalid({"job": "预览还没有完成，请稍候"})
    summary = (job.result or {}).get("summary") or {}
    if not (summary.get("created") or summary.get("updated")):
        raise CardInvalid({"job": "没有可以导入的行：请按错误原因修改后重新上传"})
    if not upload_exists(job):
        raise CardInvalid({"file": "上传的文件已不存在，请重新上传"})
    params = dict(job.params, dry_run=False, preview_of=job.pk, rows=summary.get("rows", 0))
    params.pop("confirmed_job", None)
    new = start_job(kind=IMPORT_KIND, params=params, by=by, school=job.school)
    Job.objects.filter(pk=job.pk).update(params=dict(job.params, confirmed_job=new.pk))
    return new


def retry_import(*, job: Job, by) -> Job:
    """Run again an import whose worker died (the same job row, the same stored file)."""
    try:
        return retry_job(job=job)
    except JobError as exc:
        raise CardInvalid({"job": str(exc)}) from None


def import_retry_check(job: Job) -> str | None:
    """Why this import cannot run again (None: it can)."""
    return None if upload_exists(job) else "上传的文件已不存在，请重新上传"


# --- the stored upload and the rejected rows ---------------------------------------------------


def upload_path(job: Job) -> Path | None:
    """Where the job's upload is stored; None when its params point outside the uploads."""
    root = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    path = (Path(settings.MEDIA_ROOT) / job.params.get("path", "")).resolve()
    return path if path.is_relative_to(root) and path != root else None


def upload_exists(job: Job) -> bool:
    path = upload_path(job)
    return bool(path and path.is_file())


def can_confirm(job: Job) -> bool:
    """A finished preview with rows to write, not yet confirmed (the file may be gone)."""
    summary = import_summary(job) or {}
    return bool(
        job.params.get("dry_run")
        and not job.params.get("confirmed_job")
        and (summary.get("created") or summary.get("updated"))
    )


def discard_upload(job: Job) -> None:
    """Remove the job's upload unless another import still queued or running reads it."""
    path = upload_path(job)
    if path is None or not path.exists():
        return
    others = Job.objects.filter(
        kind=IMPORT_KIND,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        params__path=job.params.get("path"),
    ).exclude(pk=job.pk)
    if not others.exists():
        path.unlink(missing_ok=True)


def _upload_needed(job: Job, cutoff: dt.datetime) -> bool:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return True
    if job.created_at < cutoff:
        return False
    if job.status == JobStatus.FAILED:
        return job.retryable
    return job.status == JobStatus.SUCCEEDED and can_confirm(job)


def clean_stale_uploads() -> int:
    """Remove the uploads no import needs any more — a preview not confirmed within
    UPLOAD_KEEP_HOURS, a file whose import is over, a file no job refers to (after an hour) —
    and the rejected-rows files of imports older than REJECTED_KEEP_DAYS. Run at each new
    import and hourly by the worker. Returns how many files went."""
    media = Path(settings.MEDIA_ROOT)
    removed = 0
    files = {
        str(f.relative_to(media)): f
        for f in (media / "imports").glob("*/*")
        if f.is_file() and f.parent.name != "rejected"
    }
    if files:
        cutoff = timezone.now() - dt.timedelta(hours=UPLOAD_KEEP_HOURS)
        jobs = Job.objects.filter(kind=IMPORT_KIND, params__path__in=list(files))
        needed: set[str] = set()
        known: set[str] = set()
        for job in jobs:
            known.add(job.params["path"])
            if _upload_needed(job, cutoff):
                needed.add(job.params["path"])
        for rel, path in files.items():
            if rel in needed:
                continue
            try:
                if rel in known or time.time() - path.stat().st_mtime > 3600:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    rejected = media / "imports" / "rejected"
    if rejected.is_dir():
        old = timezone.now() - dt.timedelta(days=REJECTED_KEEP_DAYS)
        keep = set(
            Job.objects.filter(kind=IMPORT_KIND, created_at__gte=old).values_list("pk", flat=True)
        )
        for path in rejected.glob("*.bin"):
            if not (path.stem.isdigit() and int(path.stem) in keep):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def rejected_rows_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "rejected" / f"{job.pk}.bin"


def store_rejected_rows(*, job: Job, summary: dict[str, Any]) -> None:
    """Build the rejected rows' .xlsx while the upload is still there (the job is still
    running: `summary` is its result-to-be) and keep it encrypted (it holds ID numbers as the
    teacher typed them), so the download outlives the upload."""
    folder = rejected_rows_path(job).parent
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rejected.xlsx"
        write_rejected_rows(job=job, path=out, summary=summary)
        data = crypto.encrypt_bytes(out.read_bytes())
    part = rejected_rows_path(job).with_suffix(".part")
    part.write_bytes(data)
    os.replace(part, rejected_rows_path(job))


def rejected_rows_xlsx(job: Job) -> bytes | None:
    """The rejected rows' .xlsx of a finished import: the copy kept when it ran, or, for an
    import older than that copy, built from its upload while that still exists."""
    stored = rejected_rows_path(job)
    if stored.exists():
        return crypto.decrypt_bytes(stored.read_bytes())
    if not upload_exists(job):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rejected.xlsx"
        write_rejected_rows(job=job, path=out)
        return out.read_bytes()


def import_summary(job: Job) -> dict[str, Any] | None:
    """SPEC §6.1's JSON for a finished import job, else None."""
    if job.status != JobStatus.SUCCEEDED or not job.result:
        return None
    return job.result.get("summary")


def rejected_rows_by_number(
    job: Job, summary: dict[str, Any] | None = None
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in (summary or import_summary(job) or {}).get("errors", []):
        out[e["row"]].append(e)
    return dict(out)


def write_rejected_rows(*, job: Job, path: Path, summary: dict[str, Any] | None = None) -> int:
    """The rejected rows of an import as an .xlsx the teacher fixes and re-uploads: a title
    row, the header in the template's names, an 错误原因 column, the wrong cells in red."""
    import xlsxwriter

    from guanai.children.roster import TEXT_COLUMNS, RosterError, find_header, read_sheet

    errors = rejected_rows_by_number(job, summary)
    source = upload_path(job)
    if source is None:
        raise RosterError("上传的文件已不存在")
    header, rows = find_header(read_sheet(source, name=job.params.get("filename")), translate=False)
    columns = sorted(header.index.items(), key=lambda kv: kv[1])
    canonical_of = {label: col for col, label in header.labels.items()} | {
        col: col for col, _i in columns
    }
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    red = book.add_format({"bg_color": "#F8D7DA", "num_format": "@"})
    why = book.add_format({"font_color": "#B02A37", "text_wrap": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#FFFFFF"})
    sheet = book.add_worksheet("未导入的行")
    sheet.write_string(
        0,
        0,
        f"以下 {len(errors)} 行没有导入（原文件“{job.params.get('filename', '')}”）。"
        "请按“错误原因”修改标红的单元格，然后重新上传本文件；已导入的行不必再上传。",
    )
    sheet.write_string(1, 0, "错误原因", bold)
    sheet.set_column(0, 0, 48)
    for j, (col, _i) in enumerate(columns, start=1):
        sheet.write_string(1, j, col, bold)
        sheet.set_column(j, j, 20 if col in TEXT_COLUMNS else 12, text)
    sheet.write_string(1, len(columns) + 1, "原行号", bold)
    out_row = 2
    for number, cells in rows:
        row_errors = errors.get(number)
        if not row_errors:
            continue
        message = "；".join(f"{e['column']}：{e['message']}" for e in row_errors)
        sheet.write_string(out_row, 0, message, why)
        wrong = {canonical_of.get(e["column"], e["column"]) for e in row_errors}
        for j, (col, i) in enumerate(columns, start=1):
            value = cells[i] if i < len(cells) else ""
            fmt = red if col in wrong else text
            if isinstance(value, dt.datetime | dt.date):
                sheet.write_datetime(out_row, j, value, date_format)
            elif isinstance(value, bool):
                sheet.write_string(out_row, j, "是" if value else "否", fmt)
            elif isinstance(value, int | float):
                sheet.write_number(out_row, j, value, fmt)
            elif value in ("", None):
                sheet.write_blank(out_row, j, None, fmt)
            else:
                sheet.write_string(out_row, j, str(value), fmt)
        sheet.write_number(out_row, len(columns) + 1, number)
        out_row += 1
    sheet.freeze_panes(2, 2)
    book.close()
    return out_row - 2
