"""Background job handlers: roster imports (preview and real) and the school-year roll-over.

Imported from ScreeningConfig.ready() so the worker knows the kinds.
"""

import logging
from pathlib import Path
from typing import Any

from django.urls import reverse

from guanai.children.roster import RosterError, import_roster, read_sheet
from guanai.children.validation import CardInvalid
from guanai.jobs.models import Job
from guanai.jobs.services import Progress, every_hour_in_worker, register
from guanai.org.models import School
from guanai.screening.transitions import roll_over_school

from . import imports
from .imports import IMPORT_KIND

logger = logging.getLogger(__name__)

ROLLOVER_KIND = "school_rollover"


def _count_rows(path: Path, name: str | None) -> int:
    """Rows in the sheet (an estimate of the work, for the progress bar)."""
    return sum(1 for _ in read_sheet(path, name=name))


@register(IMPORT_KIND, retry=imports.import_retry_check)
def run_roster_import(job: Job, progress: Progress) -> dict[str, Any]:
    """Validate (and unless a dry run, write) an uploaded roster; the result holds SPEC §6.1's
    summary. Validation is read-only and reports progress; the write is one short
    transaction inside import_roster.

    The upload holds full ID numbers in clear: it is removed when the import fails or is done
    (after its rejected rows were kept, encrypted, for their download); a preview keeps it for
    the confirmation only when there is something to confirm."""
    school = School.objects.get(pk=job.school_id)
    path = imports.upload_path(job)
    name = job.params.get("filename") or None
    dry_run = bool(job.params.get("dry_run"))
    if path is None or not path.is_file():
        raise RosterError("上传的文件已不存在，请重新上传")
    try:
        total = int(job.params.get("rows") or 0) or _count_rows(path, name)
        progress(0, total, "正在读取和校验花名册")

        def tick(rows: int) -> None:
            progress(min(rows, total), total, f"已校验 {rows} 行")

        result = import_roster(
            path=path,
            school=school,
            term=job.params.get("term"),
            by=job.created_by,
            dry_run=dry_run,
            progress=tick,
            name=name,
        )
        if result.rejected:
            try:
                imports.store_rejected_rows(job=job, summary=result.as_dict())
            except (RosterError, OSError):  # the download will say it is not available
                logger.warning("import %s: cannot keep its rejected rows", job.pk, exc_info=True)
    except Exception:
        imports.discard_upload(job)
        raise
    if not dry_run or not (result.created or result.updated):
        imports.discard_upload(job)  # nothing will read it again
    progress(total, total, "预览已生成" if dry_run else "导入完成")
    return {
        "summary": result.as_dict(),
        "term": result.term,
        "dry_run": dry_run,
        "header_row": result.header_row,
        "link": reverse("screening:import_detail", args=[job.pk]),
        "link_label": "查看预览" if dry_run else "查看导入结果",
    }


@every_hour_in_worker
def clean_stale_uploads() -> None:
    imports.clean_stale_uploads()


@register(ROLLOVER_KIND)
def run_rollover(job: Job, progress: Progress) -> dict[str, Any]:
    """Roll a school over into the new school year (one transaction)."""
    import datetime as dt

    school = School.objects.get(pk=job.school_id)
    on = dt.date.fromisoformat(job.params["on"]) if job.params.get("on") else None
    try:
        rollover = roll_over_school(
            school=school,
            by=job.created_by,
            on=on,
            top_grade=job.params.get("top_grade"),
            progress=progress,
        )
    except CardInvalid as exc:  # the job's message shows the Chinese reason alone
        raise RuntimeError("；".join(exc.errors.values())) from None
    return {
        "rollover": rollover.pk,
        "promoted": rollover.summary["promoted"],
        "graduated": rollover.summary["graduated"],
        "link": reverse("screening:rollover_detail", args=[rollover.pk]),
        "link_label": "查看升级结果",
    }
