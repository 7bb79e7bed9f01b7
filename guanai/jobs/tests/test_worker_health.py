"""A worker that dies: its job is marked failed (and may be retried), the supervisor starts a
new worker, /healthz says so (security issue #10: a killed worker left its job 进行中 for ever
while /healthz answered 200)."""

import datetime as dt
import json
import logging
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from guanai.jobs import services
from guanai.jobs.models import Job
from guanai.jobs.services import HANDLERS, RETRY_CHECKS, register, start_job
from guanai.jobs.supervisor import Supervisor

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _handlers(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    # The apps' hourly housekeeping (the statistics' counts per class, old uploads) is tested
    # with each app; run here, in the heartbeat thread, against the tests' in-memory database,
    # it took table locks the worker under test then met ("database table is locked").
    monkeypatch.setattr(services, "PERIODIC", [])

    @register("test_retry", retry=lambda job: job.params.get("why_not"))
    def retry(job, progress):
        return {"ran": True}

    @register("test_once")
    def once(job, progress):
        return {"ran": True}

    yield
    for kind in ("test_retry", "test_once"):
        HANDLERS.pop(kind)
        RETRY_CHECKS.pop(kind, None)


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def here(pid: int) -> str:
    return f"{services.worker_name().rpartition(':')[0]}:{pid}"


def running(kind: str = "test_retry", **fields) -> Job:
    now = timezone.now()
    defaults = {"status": "running", "started_at": now, "heartbeat_at": now}
    return Job.objects.create(kind=kind, **(defaults | fields))


# --- reaping the jobs of dead workers --------------------------------------------------------------


def test_job_of_a_dead_worker_fails_with_a_reason_and_may_be_retried(db):
    job = running(worker=here(dead_pid()))
    assert services.reap_dead_jobs() == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.message, job.retryable) == (
        "failed",
        "后台处理进程意外退出，请重试",
        True,
    )
    assert job.finished_at is not None


def test_kind_without_retry_fails_without_retry(db):
    job = running(kind="test_once", worker=here(dead_pid()))
    services.reap_dead_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and not job.retryable


def test_job_of_a_live_worker_is_left_alone(db):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        job = running(worker=here(live.pid))
        assert services.reap_dead_jobs() == []
        assert Job.objects.get(pk=job.pk).status == "running"
    finally:
        live.kill()
        live.wait()


def test_job_on_another_host_fails_when_its_heartbeat_stops(db, clock):
    job = running(worker="other-host:123")
    assert services.reap_dead_jobs() == []
    clock.shift(dt.timedelta(seconds=services.STALE_SECONDS + 1))
    assert services.reap_dead_jobs() == [job.pk]


def test_task_row_claimed_by_a_dead_worker_fails_and_so_does_its_queued_job(db):
    job = Job.objects.create(kind="test_retry", status="queued")
    result = services.run_job.enqueue(job.pk)
    DBTaskResult.objects.filter(id=result.id).update(
        status="RUNNING", worker_ids=[here(dead_pid())], started_at=timezone.now()
    )
    assert services.reap_dead_jobs() == [job.pk]
    assert DBTaskResult.objects.get(id=result.id).status == "FAILED"
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_retry_runs_the_same_job_again(db, settings):
    job = running(worker=here(dead_pid()))
    services.reap_dead_jobs()
    settings.TASKS = IMMEDIATE
    again = services.retry_job(job=Job.objects.get(pk=job.pk))
    assert again.pk == job.pk and again.status == "succeeded" and again.result == {"ran": True}
    assert not again.retryable


def test_retry_refused_when_the_kind_says_why(db):
    job = running(worker=here(dead_pid()), params={"why_not": "上传的文件已不存在，请重新上传"})
    services.reap_dead_jobs()
    with pytest.raises(services.JobError, match="上传的文件已不存在"):
        services.retry_job(job=Job.objects.get(pk=job.pk))
    ordinary = Job.objects.create(kind="test_retry", status="failed", message="处理失败：坏文件")
    with pytest.raises(services.JobError, match="不能重试"):
        services.retry_job(job=ordinary)


def test_worker_command_reaps_then_works_and_beats(transactional_db, settings):
    """`guanai worker` marks the dead worker's job failed before it takes new ones, writes its
    heartbeat while it runs, and removes it when it stops on purpose."""
    orphan = running(worker=here(dead_pid()))
    waiting = start_job(kind="test_once", params={})
    seen = {}
    original = HANDLERS["test_once"]

    def peek(job, progress):
        seen["beat"] = services.read_heartbeat()
        seen["job"] = Job.objects.values("worker", "heartbeat_at").get(pk=job.pk)
        return original(job, progress)

    HANDLERS["test_once"] = peek
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    assert Job.objects.get(pk=orphan.pk).status == "failed"
    assert Job.objects.get(pk=waiting.pk).status == "succeeded"
    assert seen["beat"]["worker"] == services.worker_name()
    assert seen["job"]["worker"] == services.worker_name() and seen["job"]["heartbeat_at"]
    assert services.read_heartbeat() is None


# --- /healthz ----------------------------------------------------------------------------------------


def health(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)


def test_healthz_ok_without_a_worker_when_nothing_waits(client, db):
    assert health(client) == (200, {"status": "ok"})


def test_healthz_ok_with_a_beating_worker(client, db):
    services.write_heartbeat(started=time.time())
    assert health(client) == (200, {"status": "ok"})


def test_healthz_reports_a_worker_whose_heartbeat_stopped(client, db, clock):
    services.write_heartbeat(started=time.time())
    clock.shift(dt.timedelta(seconds=services.STALE_SECONDS + 5))
    status, body = health(client)
    assert status == 503 and body["status"] == "unhealthy"
    assert (
        body["problems"][0]["check"] == "worker"
        and "后台任务进程已停止" in body["problems"][0]["message"]
    )


def test_healthz_reports_a_job_queued_too_long(client, db, clock):
    job = start_job(kind="test_once", params={})
    assert health(client)[0] == 200
    clock.shift(dt.timedelta(seconds=services.QUEUED_LIMIT_SECONDS + 1))
    status, body = health(client)
    assert status == 503 and f"#{job.pk}" in body["problems"][0]["message"]


def test_healthz_reports_a_running_job_without_heartbeat(client, db, clock):
    job = running(worker="other-host:1")
    assert health(client)[0] == 200
    clock.shift(dt.timedelta(seconds=services.STALE_SECONDS + 1))
    status, body = health(client)
    assert status == 503 and body["problems"] == [
        {"check": "job", "message": f"任务 #{job.pk} 卡住了：处理进程没有响应"}
    ]


def test_healthz_stays_cheap(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        client.get("/healthz")


# --- the supervisor ---------------------------------------------------------------------------------


def test_supervisor_restarts_a_dying_worker_and_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="guanai.jobs.supervisor")
    supervisor = Supervisor([sys.executable, "-c", "import sys; sys.exit(3)"], min_delay=0.05)
    supervisor.start()
    deadline = time.monotonic() + 30
    while supervisor.restarts < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    supervisor.stop()
    assert supervisor.restarts >= 3
    assert "后台任务进程意外退出（退出码 3）" in caplog.text and "秒后重启" in caplog.text


def test_supervisor_backs_off_between_quick_deaths():
    supervisor = Supervisor([sys.executable, "-c", "pass"], min_delay=0.2, max_delay=0.4)
    delays = []
    supervisor._stop.wait = lambda delay: delays.append(delay) or len(delays) >= 4  # type: ignore[method-assign]
    supervisor._run()
    assert delays == [0.2, 0.4, 0.4, 0.4]


def test_supervisor_stop_ends_the_worker_without_restart():
    supervisor = Supervisor([sys.executable, "-c", "import time; time.sleep(60)"]).start()
    deadline = time.monotonic() + 30
    while supervisor.process is None and time.monotonic() < deadline:
        time.sleep(0.05)
    supervisor.stop(timeout=5)
    assert supervisor.process.poll() is not None and supervisor.restarts == 0
    assert not supervisor.thread.is_alive()


def test_heartbeat_stops_only_after_its_round_ends(monkeypatch):
    """A worker that stops (`Heartbeat.stop`) waits for the housekeeping under way: a heartbeat
    thread left in the middle of it kept its locks past the worker's end (on PostgreSQL it
    deadlocked with the next statement that needed the table)."""
    begun, done = threading.Event(), []

    def slow_housekeeping():
        begun.set()
        time.sleep(0.5)
        done.append("done")

    monkeypatch.setattr(services, "PERIODIC", [slow_housekeeping])
    monkeypatch.setattr(services, "reap_dead_jobs", list)  # no database in this round
    monkeypatch.setattr(services, "write_heartbeat", lambda **kw: None)
    monkeypatch.setattr(services, "remove_heartbeat", lambda: None)
    heartbeat = services.Heartbeat(interval=0.05).start()
    assert begun.wait(10)
    heartbeat.stop()
    assert done == ["done"]  # the round ended before stop() returned
    assert not heartbeat.thread.is_alive()
