"""What happens to an uploaded roster (security issue #10): it holds full ID numbers in clear,
so it is removed once its import is done or failed, and an unconfirmed preview's after a day;
the rejected rows stay downloadable; a file that would have killed the worker fails its job in
Chinese, naming the file as uploaded; an import whose worker died is retried from its page."""

import datetime as dt
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanai.children.models import Child
from guanai.children.tests import bad_sheets
from guanai.jobs import services as jobs
from guanai.jobs.models import Job
from guanai.screening import imports

from .conftest import good_and_bad, roster_csv, roster_row


def stored(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / job.params["path"]


def upload(client, users, cast, file, user="zx_leader") -> Job:
    client.force_login(users[user])
    response = client.post(
        reverse("screening:imports"), {"school": cast["schools"]["zx"].pk, "file": file}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def confirm(client, job: Job) -> Job:
    response = client.post(reverse("screening:import_confirm", args=[job.pk]))
    return Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


# --- the upload's life --------------------------------------------------------------------------


def test_upload_is_removed_once_the_import_is_done(client, cast, users):
    preview = upload(client, users, cast, roster_csv(good_and_bad()))
    assert stored(preview).exists()  # the confirmation needs it
    real = confirm(client, preview)
    assert real.status == "succeeded" and real.result["summary"]["created"] == 3
    assert not stored(real).exists()
    assert not list((Path(settings.MEDIA_ROOT) / "imports").glob("*/*.csv"))


def test_rejected_rows_still_download_after_the_upload_went(client, cast, users):
    real = confirm(client, upload(client, users, cast, roster_csv(good_and_bad())))
    assert not stored(real).exists()
    for job in (real, Job.objects.get(pk=real.params["preview_of"])):
        response = client.get(reverse("screening:import_rejected", args=[job.pk]))
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        names = [row[1] for row in book.active.iter_rows(min_row=3, values_only=True)]
        assert names == ["错号", "缺年级"]
    kept = imports.rejected_rows_path(real).read_bytes()
    assert b"PK" not in kept[:4] and "错号".encode() not in kept  # encrypted, not an .xlsx


def test_upload_is_removed_when_the_preview_fails(client, cast, users):
    job = upload(client, users, cast, SimpleUploadedFile("花名册.xlsx", b"not a workbook"))
    assert job.status == "failed" and not stored(job).exists()


def test_upload_is_removed_when_the_preview_has_nothing_to_confirm(client, cast, users):
    job = upload(client, users, cast, roster_csv(good_and_bad(0)))
    assert job.status == "succeeded" and not stored(job).exists()


def test_unconfirmed_preview_goes_after_a_day(client, cast, users, clock):
    preview = upload(client, users, cast, roster_csv(good_and_bad()))
    assert imports.clean_stale_uploads() == 0 and stored(preview).exists()
    clock.shift(dt.timedelta(hours=imports.UPLOAD_KEEP_HOURS + 1))
    assert imports.clean_stale_uploads() == 1 and not stored(preview).exists()
    client.force_login(users["zx_leader"])  # the session timed out meanwhile
    page = client.get(reverse("screening:import_detail", args=[preview.pk])).content.decode()
    assert "上传的文件已删除" in page and 'id="confirm"' not in page
    assert client.post(reverse("screening:import_confirm", args=[preview.pk])).status_code == 302
    assert Job.objects.count() == 1


def test_next_import_clears_stale_previews(client, cast, users, clock):
    old = upload(client, users, cast, roster_csv(good_and_bad()))
    clock.shift(dt.timedelta(hours=imports.UPLOAD_KEEP_HOURS + 1))
    new = upload(client, users, cast, roster_csv(good_and_bad()))
    assert not stored(old).exists() and stored(new).exists()


def test_worker_cleans_up_hourly_and_leaves_files_in_use(db, cast, users, settings):
    """An orphan file (no job) goes after an hour; a file a queued import will read stays."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queued = imports.start_import(
        school=cast["schools"]["zx"],
        upload=roster_csv(good_and_bad()),
        term=None,
        dry_run=True,
        by=users["zx_leader"],
    )
    orphan = Path(settings.MEDIA_ROOT) / "imports" / "HS-ZX" / "orphan.csv"
    orphan.write_text("姓名\n")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    assert any(f.__module__ == "guanai.screening.tasks" for f in jobs.PERIODIC)
    jobs.run_periodic()
    assert not orphan.exists() and stored(queued).exists()


# --- bad files through the pages ------------------------------------------------------------------


def test_far_cell_fails_the_preview_in_chinese_naming_the_upload(client, cast, users, tmp_path):
    """A 1.6 KB sheet that asked calamine for 549 GB and killed the worker."""
    bomb = bad_sheets.far_cell(tmp_path / "bomb.xlsx").read_bytes()
    job = upload(client, users, cast, SimpleUploadedFile("三年级花名册.xlsx", bomb))
    assert job.status == "failed"
    assert "三年级花名册.xlsx" in job.message and "XFD1048576" in job.message
    assert Path(job.params["path"]).name not in job.message
    page = client.get(reverse("screening:import_detail", args=[job.pk])).content.decode()
    assert "三年级花名册.xlsx" in page and "XFD1048576" in page
    assert not stored(job).exists()


def test_import_page_shows_the_uploaded_name(client, cast, users):
    job = upload(client, users, cast, roster_csv([roster_row("王小")], name="我的花名册.csv"))
    assert job.params["filename"] == "我的花名册.csv"
    detail = client.get(reverse("screening:import_detail", args=[job.pk])).content.decode()
    listing = client.get(reverse("screening:imports")).content.decode()
    assert "我的花名册.csv" in detail and "我的花名册.csv" in listing
    assert Path(job.params["path"]).name not in detail + listing


# --- a worker that died ----------------------------------------------------------------------------


def dead_worker() -> str:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return f"{jobs.worker_name().rpartition(':')[0]}:{done.pid}"


@pytest.fixture
def died(client, cast, users, settings):
    """A preview whose worker was killed half-way: queued, taken, never finished."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = upload(client, users, cast, roster_csv(good_and_bad()))
    Job.objects.filter(pk=job.pk).update(status="running", worker=dead_worker(), done=2, total=5)
    assert jobs.reap_dead_jobs() == [job.pk]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return Job.objects.get(pk=job.pk)


def test_import_whose_worker_died_fails_visibly_and_is_retried(client, died):
    assert died.status == "failed" and died.message == "后台处理进程意外退出，请重试"
    page = client.get(reverse("screening:import_detail", args=[died.pk])).content.decode()
    assert "后台处理进程意外退出" in page and 'id="retry"' in page
    response = client.post(reverse("screening:import_retry", args=[died.pk]))
    assert response["Location"] == reverse("screening:import_detail", args=[died.pk])
    again = Job.objects.get(pk=died.pk)
    assert again.status == "succeeded" and again.result["summary"]["created"] == 3
    assert 'id="confirm"' in client.get(response["Location"]).content.decode()


def test_retry_without_the_file_says_to_upload_again(client, died):
    stored(died).unlink()
    response = client.post(reverse("screening:import_retry", args=[died.pk]), follow=True)
    assert "上传的文件已不存在" in response.content.decode()
    assert Job.objects.get(pk=died.pk).status == "failed"


def test_ordinary_failure_offers_no_retry(client, cast, users):
    job = upload(client, users, cast, SimpleUploadedFile("x.csv", "学号,班级\n1,2\n".encode()))
    page = client.get(reverse("screening:import_detail", args=[job.pk])).content.decode()
    assert 'id="retry"' not in page
    client.post(reverse("screening:import_retry", args=[job.pk]))
    assert Job.objects.get(pk=job.pk).status == "failed"


@pytest.mark.parametrize("role", ["zx_leader", "town", "bq_leader", "zx_teacher31", "inspector"])
def test_retry_scope(client, died, users, role):
    client.force_login(users[role])
    status = client.post(reverse("screening:import_retry", args=[died.pk])).status_code
    assert status == {"zx_leader": 302, "town": 302, "inspector": 403}.get(role, 404)
    assert Child.objects.filter(name="新生0").count() == 0
