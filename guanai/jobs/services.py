"""Start jobs and run them in the background worker (django-tasks, database backend).

An app registers a handler per kind:

    @register("import_roster", retry=can_retry_import)
    def run_import(job: Job, progress: Progress) -> dict: ...

`progress(done, total, message)` updates the row; the handler's return value is the result.

A worker that dies (killed, out of memory, a crash in native code) cannot mark its job failed,
so the worker writes a heartbeat — a small file in the data directory, and `heartbeat_at` on the
job it runs — and every worker, as it starts and then every few minutes, marks failed the jobs
of workers that are gone (`reap_dead_jobs`). Kinds registered with `retry` may then be run again
from their page. `/healthz` reads the same heartbeat (`health_problems`).
"""

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from .models import Job, JobStatus

logger = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
HANDLERS: dict[str, Callable[[Job, Progress], Any]] = {}
# kind → a check returning why a job of that kind cannot be run again (None: it can).
RETRY_CHECKS: dict[str, Callable[[Job], str | None]] = {}
WARM_UPS: list[Callable[[], None]] = []
PERIODIC: list[Callable[[], None]] = []

WORKER_DIED = "后台处理进程意外退出，请重试"
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 120  # no heartbeat for this long: the worker is gone
QUEUED_LIMIT_SECONDS = 600  # a job waiting this long: no worker is taking jobs
RUNNING_LIMIT_SECONDS = 3 * 3600  # a job running this long is stuck
PERIODIC_SECONDS = 3600
STOP_WAIT_SECONDS = 60  # a worker stopping waits this long for the heartbeat's round to end


class JobError(Exception):
    """A job cannot be retried; the message says why, in Chinese."""


def register(kind: str, *, retry: Callable[[Job], str | None] | None = None) -> Callable:
    """Register the handler of a kind. `retry`, when given, lets a job whose worker died be
    run again from its page; it returns why a given job cannot be (None when it can). Only
    kinds whose handler may safely run twice should pass it."""

    def decorator(fn: Callable[[Job, Progress], Any]) -> Callable[[Job, Progress], Any]:
        HANDLERS[kind] = fn
        if retry is not None:
            RETRY_CHECKS[kind] = retry
        return fn

    return decorator


def every_hour_in_worker(fn: Callable[[], None]) -> Callable[[], None]:
    """Register housekeeping the worker runs as it starts and then hourly (removing old
    uploads, say), in its heartbeat thread."""
    PERIODIC.append(fn)
    return fn


def warm_up_at_start(fn: Callable[[], None]) -> Callable[[], None]:
    """Register something slow to load once per process (PDF fonts, say): `guanai worker`
    runs these in a background thread as it starts, so the first job need not wait for them.
    They must be safe to run alongside a job (the job's own first use waits for them)."""
    WARM_UPS.append(fn)
    return fn


def start_warm_ups() -> threading.Thread:
    """Run the registered warm-ups one after another in a daemon thread."""

    def run() -> None:
        try:
            for fn in WARM_UPS:
                try:
                    fn()
                except Exception:  # a failed warm-up only costs the first job its speed
                    logger.warning("warm-up %s failed", fn.__qualname__, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections, if a warm-up opened one

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


def worker_name() -> str:
    """This process as a job's owner: "host:pid"."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}"


_running: dict[str, int | None] = {"job": None}  # the job this process is running, for beats


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
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker=worker_name(),
        retryable=False,
        message="开始处理",
    )
    _running["job"] = job.pk
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
    finally:
        _running["job"] = None
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), result=result, message="已完成"
    )


@transaction.atomic
def retry_job(*, job: Job) -> Job:
    """Queue again a job whose worker died, on the same row (its links stay valid)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.FAILED or not job.retryable or job.kind not in RETRY_CHECKS:
        raise JobError("这个任务不能重试")
    reason = RETRY_CHECKS[job.kind](job)
    if reason:
        raise JobError(reason)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.QUEUED,
        done=0,
        total=0,
        message="排队中，等待后台处理（重试）",
        result=None,
        error="",
        retryable=False,
        started_at=None,
        finished_at=None,
        heartbeat_at=None,
        worker="",
    )
    run_job.enqueue(job.pk)
    job.refresh_from_db()
    return job


# --- the worker's heartbeat, dead workers and health --------------------------------------------


def heartbeat_path() -> Path:
    return Path(settings.DATA_DIR) / "worker-heartbeat.json"


def write_heartbeat(*, started: float) -> None:
    """Say this worker is alive: a small JSON file, replaced atomically."""
    path = heartbeat_path()
    beat = {"worker": worker_name(), "at": time.time(), "started": started}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(beat), encoding="utf-8")
    os.replace(tmp, path)


def read_heartbeat() -> dict[str, Any] | None:
    try:
        beat = json.loads(heartbeat_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return beat if isinstance(beat, dict) and isinstance(beat.get("at"), int | float) else None


def remove_heartbeat() -> None:
    """A worker stopping on purpose takes its heartbeat with it (it is not "dead")."""
    beat = read_heartbeat()
    if beat and beat.get("worker") == worker_name():
        heartbeat_path().unlink(missing_ok=True)


def _alive(worker: str) -> bool | None:
    """Whether the process "host:pid" runs; None when it is on another host (use the beat)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname()[:50] or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_jobs() -> list[int]:
    """Mark failed (retryable where the kind allows it) the running jobs whose worker is gone:
    its process no longer exists on this host, or its heartbeat is older than STALE_SECONDS.
    The matching django-tasks rows are marked failed too, and a queued job whose task a dead
    worker had claimed fails with it. Returns the ids of the jobs marked."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    stale = now - dt.timedelta(seconds=STALE_SECONDS)
    me = worker_name()
    dead: list[int] = []
    running = Job.objects.filter(status=JobStatus.RUNNING).exclude(worker=me)
    for pk, worker, beat, started in running.values_list(
        "pk", "worker", "heartbeat_at", "started_at"
    ):
        alive = _alive(worker) if worker else None
        if alive is False or (alive is None and (beat or started or now) < stale):
            dead.append(pk)
    tasks = []
    for result in DBTaskResult.objects.filter(status="RUNNING").only(
        "id", "worker_ids", "args_kwargs", "task_path", "started_at"
    ):
        worker = (result.worker_ids or [""])[-1]
        job_id = _job_of(result)
        alive = _alive(worker) if worker else None
        gone = alive is False or (alive is None and (result.started_at or now) < stale)
        if job_id in dead or (gone and worker != me):
            tasks.append(result.id)
            queued = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED)
            if job_id is not None and job_id not in dead and queued.exists():
                dead.append(job_id)
    if tasks:
        DBTaskResult.objects.filter(id__in=tasks, status="RUNNING").update(
            status="FAILED", finished_at=now, exception_class_path="", traceback=WORKER_DIED
        )
    for pk in dead:
        kind = Job.objects.filter(pk=pk).values_list("kind", flat=True).first()
        Job.objects.filter(pk=pk, status__in=[JobStatus.RUNNING, JobStatus.QUEUED]).update(
            status=JobStatus.FAILED,
            finished_at=now,
            message=WORKER_DIED,
            error="后台处理进程在处理这个任务时退出（被终止、内存不足或崩溃）",
            retryable=kind in RETRY_CHECKS,
        )
        logger.warning("job %s: its worker died; marked failed", pk)
    return dead


def _job_of(result) -> int | None:
    if not str(result.task_path).endswith(".run_job"):
        return None
    args = (result.args_kwargs or {}).get("args") or []
    return args[0] if args and isinstance(args[0], int) else None


def health_problems() -> list[dict[str, str]]:
    """What is wrong with the background work, for /healthz: a worker whose heartbeat
    stopped, a job queued or running too long. Empty when all is well — including when no
    worker was ever started here and nothing waits for one. One small file and two indexed
    queries."""
    problems = []
    beat = read_heartbeat()
    if beat is not None and time.time() - beat["at"] > STALE_SECONDS:
        age = int(time.time() - beat["at"])
        problems.append(
            {"check": "worker", "message": f"后台任务进程已停止：最近一次心跳在 {age} 秒前"}
        )
    now = timezone.now()
    queued = (
        Job.objects.filter(
            status=JobStatus.QUEUED,
            created_at__lt=now - dt.timedelta(seconds=QUEUED_LIMIT_SECONDS),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
        .first()
    )
    if queued:
        problems.append(
            {
                "check": "queue",
                "message": f"任务 #{queued} 排队超过 {QUEUED_LIMIT_SECONDS // 60} 分钟："
                "后台任务进程可能没有运行",
            }
        )
    stale = now - dt.timedelta(seconds=STALE_SECONDS)
    stuck = (
        Job.objects.filter(status=JobStatus.RUNNING)
        .filter(
            Q(heartbeat_at__lt=stale)
            | Q(heartbeat_at__isnull=True, started_at__lt=stale)
            | Q(started_at__lt=now - dt.timedelta(seconds=RUNNING_LIMIT_SECONDS))
        )
        .order_by("started_at")
        .values_list("pk", "heartbeat_at")
        .first()
    )
    if stuck:
        pk, beat_at = stuck
        why = "处理进程没有响应" if not beat_at or beat_at < stale else "运行时间过长"
        problems.append({"check": "job", "message": f"任务 #{pk} 卡住了：{why}"})
    return problems


class Heartbeat:
    """The worker's heartbeat thread: the file and the running job's `heartbeat_at` every
    few seconds, the reaping of dead workers' jobs every STALE_SECONDS, and the registered
    housekeeping every PERIODIC_SECONDS (each also once at start)."""

    def __init__(self, *, interval: float = HEARTBEAT_SECONDS):
        self.interval = interval
        self.started = time.time()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self.beat()
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop the beat and wait for the round under way: a thread left in the middle of
        housekeeping would hold its locks (and its connection) past the worker's end."""
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(STOP_WAIT_SECONDS)
            if self.thread.is_alive():
                logger.warning("the worker heartbeat did not stop within %s s", STOP_WAIT_SECONDS)
        remove_heartbeat()

    def beat(self) -> None:
        try:
            write_heartbeat(started=self.started)
        except OSError:
            logger.warning("cannot write the worker heartbeat", exc_info=True)

    def _run(self) -> None:
        try:
            self._beat_until_stopped()
        finally:
            connections.close_all()  # this thread's own connections

    def _beat_until_stopped(self) -> None:
        reaped = housekept = None
        while not self._stop.is_set():
            self.beat()
            try:
                close_old_connections()
                if _running["job"] is not None:
                    Job.objects.filter(pk=_running["job"], status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                if reaped is None or time.monotonic() - reaped >= STALE_SECONDS:
                    reaped = time.monotonic()
                    reap_dead_jobs()
                if housekept is None or time.monotonic() - housekept >= PERIODIC_SECONDS:
                    housekept = time.monotonic()
                    run_periodic()
            except Exception:  # a locked database or a bad clean-up must not stop the beat
                logger.warning("worker heartbeat round failed", exc_info=True)
            self._stop.wait(self.interval)


def run_periodic() -> None:
    """Run every registered periodic task; one failing does not stop the others."""
    for fn in PERIODIC:
        try:
            fn()
        except Exception:
            logger.warning("periodic task %s failed", fn.__qualname__, exc_info=True)
