"""Start jobs and run them in the background worker (django-tasks, database backend).

An app registers a handler per kind:

    @register("import_roster")
    def run_import(job: Job, progress: Progress) -> dict: ...

`progress(done, total, message)` updates the row; the handler's return value is the result.
"""

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import Job, JobStatus

logger = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
HANDLERS: dict[str, Callable[[Job, Progress], Any]] = {}
WARM_UPS: list[Callable[[], None]] = []


def register(kind: str) -> Callable:
    def decorator(fn: Callable[[Job, Progress], Any]) -> Callable[[Job, Progress], Any]:
        HANDLERS[kind] = fn
        return fn

    return decorator


def warm_up_at_start(fn: Callable[[], None]) -> Callable[[], None]:
    """Register something slow to load once per process (PDF fonts, say): `guanai worker`
    runs these in a background thread as it starts, so the first job need not wait for them.
    They must be safe to run alongside a job (the job's own first use waits for them)."""
    WARM_UPS.append(fn)
    return fn


def start_warm_ups() -> threading.Thread:
    """Run the registered warm-ups one after another in a daemon thread."""

    def run() -> None:
        for fn in WARM_UPS:
            try:
                fn()
            except Exception:  # a failed warm-up only costs the first job its speed
                logger.warning("warm-up %s failed", fn.__qualname__, exc_info=True)

    thread = threading.Thread(target=run, name="worker-warm-up", daemon=True)
    thread.start()
    return thread


@transaction.atomic
def start_job(*, kind: str, params: dict, by=None, school=None) -> Job:
    """Create a job row and queue it for the worker."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(
        kind=kind, params=params, created_by=by, school=school, message="排队中，等待后台处理"
    )
    run_job.enqueue(job.pk)
    return job


def _progress(job: Job) -> Progress:
    def report(done: int, total: int, message: str = "") -> None:
        job.done, job.total, job.message = done, total, message[:200]
        Job.objects.filter(pk=job.pk).update(done=done, total=total, message=message[:200])

    return report


@task()
def run_job(job_id: int) -> None:
    """Run one job's handler; record success or a Chinese failure message."""
    job = Job.objects.get(pk=job_id)
    if job.finished:
        return
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), message="开始处理"
    )
    try:
        result = HANDLERS[job.kind](job, _progress(job))
    except Exception as exc:  # any failure must end the job visibly
        logger.exception("job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            message=f"处理失败：{exc}"[:200],
            error=traceback.format_exc()[-4000:],
        )
        return
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), result=result, message="已完成"
    )
