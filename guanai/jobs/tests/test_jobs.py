"""Background jobs: progress rows, success and failure, seen only by their owner."""

import pytest
from django.urls import reverse

from guanai.jobs.models import Job
from guanai.jobs.services import HANDLERS, register, start_job


@pytest.fixture(autouse=True)
def _handlers():
    @register("test_ok")
    def ok(job, progress):
        for i in range(3):
            progress(i + 1, 3, f"第 {i + 1} 步")
        return {"n": job.params["n"] * 2}

    @register("test_fail")
    def fail(job, progress):
        raise ValueError("表格无法读取")

    yield
    HANDLERS.pop("test_ok")
    HANDLERS.pop("test_fail")


def test_job_runs_and_records_result(cast, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = start_job(kind="test_ok", params={"n": 21}, by=cast["users"]["zx_leader"])
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result == {"n": 42}
    assert (job.done, job.total, job.percent) == (3, 3, 100)


def test_failure_is_recorded_in_chinese(cast, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = start_job(kind="test_fail", params={}, by=cast["users"]["zx_leader"])
    job.refresh_from_db()
    assert job.status == "failed" and "表格无法读取" in job.message


def test_database_backend_queues_for_the_worker(cast):
    job = start_job(kind="test_ok", params={"n": 1}, by=cast["users"]["zx_leader"])
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_unknown_kind_is_refused(cast):
    with pytest.raises(ValueError):
        start_job(kind="nope", params={})


def test_progress_page_only_for_owner(client, cast, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = start_job(kind="test_ok", params={"n": 1}, by=cast["users"]["zx_leader"])
    client.force_login(cast["users"]["zx_leader"])
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code == 200 and "100%" in page.content.decode()
    fragment = client.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    client.force_login(cast["users"]["bq_leader"])
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
