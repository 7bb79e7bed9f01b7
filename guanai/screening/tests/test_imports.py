"""Roster import in the pages and the API: upload → preview → confirm → job → rejected rows;
who may import; bad files, wrong schools and bad terms."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.jobs.models import Job

from .conftest import good_and_bad, roster_csv, roster_row

ALL = [
    "town",
    "inspector",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "bq_leader",
    "proxy_wang",
]


def _upload(client, school, rows=None, **extra):
    data = {"school": school.pk, "term": "2026-2027-1", "file": roster_csv(rows or good_and_bad())}
    data.update(extra)
    return client.post(reverse("screening:imports"), data)


def _preview(client, users, cast, rows=None, user="zx_leader"):
    client.force_login(users[user])
    response = _upload(client, cast["schools"]["zx"], rows)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_upload_previews_without_writing(client, cast, users):
    before = Child.objects.count()
    job = _preview(client, users, cast)
    assert Child.objects.count() == before
    assert job.status == "succeeded" and job.params["dry_run"]
    assert job.result["summary"] | {"errors": None} == {
        "rows": 5,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "errors": None,
    }
    stored = Path(settings.MEDIA_ROOT) / job.params["path"]
    assert stored.exists() and stored.is_relative_to(Path(settings.MEDIA_ROOT) / "imports")
    page = client.get(reverse("screening:import_detail", args=[job.pk])).content.decode()
    assert "这是预览" in page and "确认导入 3 行" in page
    assert "身份证号" in page and "年级" in page  # the errors name their columns


def test_confirm_imports_valid_rows_once(client, cast, users):
    job = _preview(client, users, cast)
    before = Child.objects.count()
    response = client.post(reverse("screening:import_confirm", args=[job.pk]))
    real = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert real.status == "succeeded" and not real.params["dry_run"]
    assert real.params["preview_of"] == job.pk
    assert real.result["summary"]["created"] == 3 and real.result["summary"]["rejected"] == 2
    assert Child.objects.count() == before + 3
    new = Child.objects.get(name="新生0")
    assert (
        new.school == cast["schools"]["zx"]
        and new.history.first().history_user == users["zx_leader"]
    )
    # confirming again gives the same import, writes nothing more
    again = client.post(reverse("screening:import_confirm", args=[job.pk]))
    assert again["Location"] == response["Location"]
    assert Child.objects.count() == before + 3
    page = client.get(response["Location"]).content.decode()
    assert "导入完成" in page


def test_rejected_rows_download_fixes_and_reuploads(client, cast, users):
    job = _preview(client, users, cast)
    response = client.get(reverse("screening:import_rejected", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[1])
    assert header[0] == "错误原因" and "姓名" in header and header[-1] == "原行号"
    body = rows[2:]
    assert [r[header.index("姓名")] for r in body] == ["错号", "缺年级"]
    assert "身份证号" in body[0][0] and "年级" in body[1][0]
    assert [r[-1] for r in body] == [5, 6]
    assert AccessLog.objects.filter(action="export", detail__contains="未导入的行").exists()
    # the teacher fixes the two rows in the downloaded file and uploads just that file
    fixed = openpyxl.Workbook()
    ws = fixed.active
    for r in rows:
        ws.append(list(r))
    name_col = header.index("身份证号") + 1
    ws.cell(row=3, column=name_col).value = roster_row("错号")["身份证号"]
    ws.cell(row=4, column=header.index("年级") + 1).value = "3"
    buffer = io.BytesIO()
    fixed.save(buffer)
    upload = SimpleUploadedFile("未导入的行.xlsx", buffer.getvalue())
    again = client.post(
        reverse("screening:imports"),
        {"school": cast["schools"]["zx"].pk, "term": "", "file": upload},
    )
    preview = Job.objects.get(pk=int(again["Location"].rstrip("/").split("/")[-1]))
    assert preview.result["summary"]["rejected"] == 0, preview.result["summary"]["errors"]
    assert preview.result["summary"]["created"] == 2


def test_rejected_download_when_nothing_rejected_redirects(client, cast, users):
    job = _preview(client, users, cast, rows=[roster_row("好学生")])
    response = client.get(reverse("screening:import_rejected", args=[job.pk]))
    assert response.status_code == 302


def test_template_download(client, cast, users):
    client.force_login(users["zx_teacher31"])
    response = client.get(reverse("screening:import_template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.active.cell(1, 1).value == "姓名"


def test_gbk_csv_from_chinese_excel(client, cast, users):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("screening:imports"),
        {
            "school": cast["schools"]["zx"].pk,
            "file": roster_csv([roster_row("王小丫")], encoding="gbk"),
        },
    )
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.result["summary"]["created"] == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("花名册.pdf", b"%PDF-1.4", "xlsx"),
        ("花名册.xlsx", b"", "文件"),
    ],
)
def test_bad_upload_is_refused_with_a_chinese_message(client, cast, users, name, content, message):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("screening:imports"),
        {"school": cast["schools"]["zx"].pk, "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_unreadable_file_fails_the_preview_visibly(client, cast, users):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("screening:imports"),
        {
            "school": cast["schools"]["zx"].pk,
            "file": SimpleUploadedFile("花名册.xlsx", b"this is not a workbook"),
        },
    )
    job = Job.objects.get()
    assert job.status == "failed" and "无法读取" in job.message
    page = client.get(response["Location"]).content.decode()
    assert "无法读取" in page and "没有写入任何数据" in page
    assert client.post(reverse("screening:import_confirm", args=[job.pk])).status_code == 302
    assert Job.objects.count() == 1


def test_sheet_without_header_fails_the_preview(client, cast, users):
    client.force_login(users["zx_leader"])
    client.post(
        reverse("screening:imports"),
        {
            "school": cast["schools"]["zx"].pk,
            "file": SimpleUploadedFile("x.csv", "学号,班级\n1,2\n".encode()),
        },
    )
    assert "表头" in Job.objects.get().message


def test_bad_term_is_refused(client, cast, users):
    client.force_login(users["zx_leader"])
    response = _upload(client, cast["schools"]["zx"], term="2026-2028-3")
    assert response.status_code == 422
    assert "学期" in response.content.decode()


def test_out_of_scope_school_is_not_a_choice(client, cast, users):
    client.force_login(users["zx_leader"])
    response = _upload(client, cast["schools"]["bq"])
    assert response.status_code == 422 and "选择" in response.content.decode()
    assert not Job.objects.exists()


def test_everything_rejected_cannot_be_confirmed(client, cast, users):
    job = _preview(client, users, cast, rows=good_and_bad(0))
    assert (
        "确认导入"
        not in client.get(reverse("screening:import_detail", args=[job.pk])).content.decode()
    )
    client.post(reverse("screening:import_confirm", args=[job.pk]))
    assert Job.objects.count() == 1


def test_progress_fragment_for_htmx(client, cast, users):
    job = _preview(client, users, cast)
    Job.objects.filter(pk=job.pk).update(status="running", done=2, total=5)
    fragment = client.get(
        reverse("screening:import_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and "40%" in fragment and 'hx-trigger="every 1s"' in fragment


# --- who may import ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL)
def test_import_page_is_for_leaders_and_town_admins(client, cast, users, role):
    client.force_login(users[role])
    status = client.get(reverse("screening:imports")).status_code
    assert status == (200 if role in ("town", "zx_leader", "bq_leader") else 403)


@pytest.mark.parametrize("role", ALL)
def test_import_job_pages_scope(client, cast, users, role):
    job = _preview(client, users, cast)
    client.force_login(users[role])
    urls = [
        reverse("screening:import_detail", args=[job.pk]),
        reverse("screening:import_rejected", args=[job.pk]),
    ]
    for url in urls:
        status = client.get(url).status_code
        if role == "inspector":
            assert status == 403
        elif role in ("town", "zx_leader"):
            assert status == 200
        else:
            assert status == 404, (role, url)
    confirm = client.post(reverse("screening:import_confirm", args=[job.pk])).status_code
    assert confirm == {"inspector": 403, "town": 302, "zx_leader": 302}.get(role, 404)


# --- API -------------------------------------------------------------------------------------


def _api_post(client, school="HS-ZX", rows=None, **extra):
    data = {"school": school, "file": roster_csv(rows or good_and_bad())}
    data.update(extra)
    return client.post("/api/v1/imports", data)


def test_api_import_returns_job_and_summary(client, cast, users):
    client.force_login(users["zx_leader"])
    response = _api_post(client, dry_run="true")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["dry_run"] is True and body["school"] == "HS-ZX"
    job = client.get(f"/api/v1/imports/{body['id']}").json()
    assert job["status"] == "succeeded" and job["progress"]["percent"] == 100
    summary = job["summary"]
    assert set(summary) == {"rows", "created", "updated", "unchanged", "rejected", "errors"}
    assert (summary["rows"], summary["created"], summary["rejected"]) == (5, 3, 2)
    assert {"row", "column", "message"} == set(summary["errors"][0])
    assert Child.objects.filter(name="新生0").count() == 0
    real = _api_post(client).json()
    assert client.get(f"/api/v1/imports/{real['id']}").json()["summary"]["created"] == 3
    assert Child.objects.filter(name="新生0").count() == 1
    listing = client.get("/api/v1/imports").json()
    assert listing["count"] == 2 and listing["items"][0]["id"] == real["id"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"term": "2026-1"}, "term"),
        ({"file": SimpleUploadedFile("a.txt", b"abc")}, "file"),
    ],
)
def test_api_import_bad_input_is_422_naming_the_field(client, cast, users, extra, field):
    client.force_login(users["zx_leader"])
    response = _api_post(client, **extra)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["field"] == field and detail[0]["msg"]


def test_api_import_without_file_is_422(client, cast, users):
    client.force_login(users["zx_leader"])
    assert client.post("/api/v1/imports", {"school": "HS-ZX"}).status_code == 422


@pytest.mark.parametrize(
    ("role", "school", "status"),
    [
        ("zx_leader", "HS-ZX", 202),
        ("zx_leader", "HS-BQ", 404),
        ("zx_leader", "NOPE", 404),
        ("town", "HS-BQ", 202),
        ("bq_leader", "HS-ZX", 404),
        ("inspector", "HS-ZX", 403),
        ("zx_teacher31", "HS-ZX", 403),
        ("zx_grade3", "HS-ZX", 403),
        ("zx_counselor", "HS-ZX", 403),
        ("proxy_wang", "HS-ZX", 404),
    ],
)
def test_api_import_scope(client, cast, users, role, school, status):
    client.force_login(users[role])
    assert _api_post(client, school=school, dry_run="true").status_code == status


@pytest.mark.parametrize("role", ALL)
def test_api_import_status_scope(client, cast, users, role):
    client.force_login(users["zx_leader"])
    job_id = _api_post(client, dry_run="true").json()["id"]
    client.force_login(users[role])
    status = client.get(f"/api/v1/imports/{job_id}").status_code
    assert status == (200 if role in ("town", "zx_leader") else 404)
    assert client.get("/api/v1/imports").json()["count"] == (
        1 if role in ("town", "zx_leader") else 0
    )


def test_api_import_needs_auth(client, cast):
    assert client.get("/api/v1/imports/1").status_code == 401
    assert _api_post(client).status_code == 401
