"""A whole school's printable cards (一人一卡, issue #14) as a background job: the page says how
many cards and classes and starts the job; the job renders class by class (never more than one
class's document at a time, SPEC §5), reports its progress per class and keeps the joined PDF
encrypted for its owner, who downloads it (logged) while the school is hers to print. What each
printer reads is as for a class. Grants used are logged with their reference (issue #19)."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from guanai.accounts import access_requests as svc
from guanai.accounts.models import AccessAction, AccessLog
from guanai.children import cards_pdf as P
from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.jobs.models import Job
from guanai.jobs.services import run_job
from guanai.testing import make_child

URL = reverse("children:cards_pdf")
START = reverse("children:cards_school")


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Each test's own data folder: the cleanup counts the files it removes, and another
    test's leftover PDFs (their jobs flushed with the database) would be counted too."""
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def school(cast):
    child = cast["children"]["c31a"]
    update_child(
        child=child,
        data={"health": "哮喘需随身带药", "psych_summary": "想念母亲夜里常哭"},
        version=child.version,
        by=cast["users"]["zx_leader"],
    )
    gone = make_child(cast["classes"]["c32"], name="已转走")
    Child.objects.filter(pk=gone.pk).update(enrolment="transferred")
    return cast["schools"]["zx"]


def _start(client, user, code="HS-ZX") -> Job:
    client.force_login(user)
    response = client.post(f"{START}?school={code}")
    assert response.status_code == 302
    job = Job.objects.get(kind=P.SCHOOL_CARDS_KIND, created_by=user)
    assert response["Location"] == reverse("children:cards_job", args=[job.pk])
    return job


def _run(job: Job) -> Job:
    """Play the background worker for this job."""
    run_job.call(job.pk)
    job.refresh_from_db()
    return job


def _pages(content: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(content)).pages]


def _download(client, job: Job):
    return client.get(reverse("children:cards_job_pdf", args=[job.pk]))


def test_the_list_link_leads_to_a_page_that_counts_cards_and_classes(client, cast, school):
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(URL, {"school": "HS-ZX"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{START}?school=HS-ZX"
    html = response.content.decode()
    assert "虎山镇中心小学 全校档卡" in html
    assert re.search(r'id="cards-count">4<', html) and re.search(r'id="classes-count">3<', html)
    assert not Job.objects.exists()  # looking at the page starts nothing


def test_a_school_leader_prints_the_whole_school_a_page_a_child_by_class(client, cast, school):
    leader = cast["users"]["zx_leader"]
    job = _start(client, leader)
    assert job.status == "queued" and job.school == school
    page = client.get(reverse("children:cards_job", args=[job.pk])).content.decode()
    assert 'role="progressbar"' in page and "排队中" in page
    job = _run(job)
    assert job.status == "succeeded", job.message
    assert job.result["pages"] == 4 and job.result["classes"] == 3
    page = client.get(reverse("children:cards_job", args=[job.pk])).content.decode()
    assert "下载全校档卡（4 张，PDF）" in page
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()  # not yet out

    response = _download(client, job)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = _pages(response.content)
    enrolled = Child.objects.filter(school=school, enrolment="enrolled").order_by(
        "school_class__grade", "school_class__class_no", "name", "pk"
    )
    assert len(pages) == enrolled.count() == 4
    for text, child in zip(pages, enrolled, strict=True):
        assert child.name in text  # one child a page, in class order
    assert "已转走" not in "".join(pages)
    classes = [("三年级(1)班" in t, "三年级(2)班" in t, "四年级(1)班" in t) for t in pages]
    assert classes == [(True, False, False)] * 2 + [(False, True, False), (False, False, True)]
    # numbered through the school, not from 1 in each class
    assert [re.search(r"第 (\d+) 页", t).group(1) for t in pages] == ["1", "2", "3", "4"]
    text = "".join(pages)
    assert "哮喘需随身带药" in text and "想念母亲夜里常哭" in text  # the leader reads both
    log = AccessLog.objects.get(action=AccessAction.EXPORT, detail__startswith="打印档卡")
    assert "打印档卡 4 张" in log.detail and "全校" in log.detail and "含完整身份证号" in log.detail
    assert log.school == school and log.user == leader


def test_the_kept_file_is_encrypted(client, cast, school):
    job = _run(_start(client, cast["users"]["zx_leader"]))
    stored = P.cards_path(job.pk).read_bytes()
    assert not stored.startswith(b"%PDF") and "张三".encode() not in stored
    assert cast["children"]["c31a"].id_number.encode() not in stored


def test_progress_is_reported_class_by_class_one_class_document_at_a_time(
    cast, school, monkeypatch
):
    """The memory bound of SPEC §5, through a spy: each HTML document the job builds holds one
    class, and the next is built only after the previous class was reported and written."""
    events: list[tuple] = []
    real = P.cards_html

    def spy(children, **kw):
        children = list(children)
        events.append(("html", {c.school_class_id for c in children}, len(children)))
        return real(children, **kw)

    monkeypatch.setattr(P, "cards_html", spy)
    job = Job.objects.create(kind=P.SCHOOL_CARDS_KIND, params={}, created_by=None)

    def progress(done, total, message):
        events.append(("progress", done, total, message))

    result = P.build_school_cards(
        school=school, user=cast["users"]["zx_leader"], job_id=job.pk, progress=progress
    )
    html = [e for e in events if e[0] == "html"]
    assert [len(classes) for _k, classes, _n in html] == [1, 1, 1]  # one class each time
    assert [n for *_x, n in html] == [2, 1, 1]
    steps = [e for e in events if e[0] == "progress"]
    assert [s[3] for s in steps[:3]] == [
        "正在生成第 1/3 个班：三年级(1)班；已生成档卡",
        "正在生成第 2/3 个班：三年级(2)班；已生成档卡",
        "正在生成第 3/3 个班：四年级(1)班；已生成档卡",
    ]
    assert [(s[1], s[2]) for s in steps[:3]] == [(0, 4), (2, 4), (3, 4)]  # cards done / all
    # progress, then that class's document: never two classes' HTML before a report
    kinds = [e[0] for e in events[:6]]
    assert kinds == ["progress", "html"] * 3
    assert result["pages"] == 4 and steps[-1][1:3] == (4, 4)


def test_the_town_prints_a_school_without_psychology(client, cast, school):
    job = _run(_start(client, cast["users"]["town"]))
    text = "".join(_pages(_download(client, job).content))
    assert "张三" in text and "想念母亲夜里常哭" not in text


def test_an_emergency_opening_prints_psychology_and_logs_its_reference(client, cast, school):
    town = cast["users"]["town"]
    child = cast["children"]["c31a"]
    grant = svc.break_glass(user=town, child=child, reason="督导检查发现孩子情绪异常，需核实情况")
    job = _run(_start(client, town))
    text = "".join(_pages(_download(client, job).content))
    assert "想念母亲夜里常哭" in text  # the grant opens it on the printed card, as on the card
    row = AccessLog.objects.get(action=AccessAction.EMERGENCY, detail__startswith="打印档卡")
    assert row.child == child and row.user == town
    assert grant.reference in row.detail and "心理状况" in row.detail
    assert job.result["grants"] == 1


def test_a_teachers_approved_request_is_logged_with_its_reference_on_her_class_print(
    client, cast, school
):
    teacher, child = cast["users"]["zx_teacher31"], cast["children"]["c31a"]
    asked = svc.request_access(
        user=teacher, child=child, kind="psych", reason="家访前需要了解孩子的心理状况"
    )
    grant = svc.decide(request=asked, by=cast["users"]["zx_leader"], approve=True, note="同意")
    client.force_login(teacher)
    response = client.get(URL, {"class": child.school_class_id})
    assert "想念母亲夜里常哭" in "".join(_pages(response.content))
    row = AccessLog.objects.get(action=AccessAction.VIEW_GRANTED, detail__startswith="打印档卡")
    assert row.child == child and f"打印档卡查看心理状况（{grant.reference}）" == row.detail
    export = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert "打印档卡 2 张（含完整身份证号）" in export.detail


def test_a_print_without_grants_logs_no_grant_rows(client, cast, school):
    client.force_login(cast["users"]["zx_teacher31"])
    client.get(URL, {"class": cast["classes"]["c31"].pk})
    assert not AccessLog.objects.filter(
        action__in=[AccessAction.VIEW_GRANTED, AccessAction.EMERGENCY]
    ).exists()


@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("zx_leader", "HS-ZX", 200),
        ("town", "HS-BQ", 200),
        ("zx_grade3", "HS-ZX", 403),  # prints for her grade's classes, not the school
        ("zx_teacher31", "HS-ZX", 403),  # her class, inline
        ("zx_counselor", "HS-ZX", 403),
        ("inspector", "HS-ZX", 403),  # read-only
        ("proxy_wang", "HS-ZX", 404),  # holds no unit: the school is not his
        ("bq_leader", "HS-ZX", 404),  # another school
        ("zx_leader", "HS-BQ", 404),
        ("zx_leader", "NO-SUCH", 404),
        ("zx_leader", "", 404),
    ],
)
def test_who_prints_a_whole_school(client, cast, school, role, code, status):
    client.force_login(cast["users"][role])
    assert client.get(START, {"school": code}).status_code == status
    assert client.post(f"{START}?school={code}").status_code == (302 if status == 200 else status)
    assert Job.objects.exists() == (status == 200)


def test_a_class_teacher_prints_her_class_inline(client, cast, school):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(URL, {"class": cast["classes"]["c31"].pk})
    assert response["Content-Type"] == "application/pdf" and len(_pages(response.content)) == 2
    assert not Job.objects.exists()


def test_only_the_owner_in_scope_sees_and_downloads_the_job(client, cast, school):
    leader = cast["users"]["zx_leader"]
    job = _run(_start(client, leader))
    page = reverse("children:cards_job", args=[job.pk])
    for other in ("bq_leader", "town", "zx_teacher31"):
        client.force_login(cast["users"][other])
        assert client.get(page).status_code in (403, 404), other
        assert _download(client, job).status_code in (403, 404), other
    # the leader moves to another school: her job's file is no longer hers to take
    ra = leader.role_assignments.get()
    ra.school = cast["schools"]["bq"]
    ra.save()
    client.force_login(type(leader).objects.get(pk=leader.pk))
    assert _download(client, job).status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_school_without_pupils_prints_nothing_and_says_so(client, cast):
    client.force_login(cast["users"]["town"])
    Child.objects.filter(school=cast["schools"]["gt"]).update(enrolment="graduated")
    response = client.get(URL, {"school": "HS-GT"}, follow=True)
    assert "没有在读学生" in response.content.decode()
    response = client.post(f"{START}?school=HS-GT", follow=True)
    assert "没有在读学生" in response.content.decode() and not Job.objects.exists()


def test_a_school_emptied_after_the_start_fails_in_chinese(client, cast, school):
    job = _start(client, cast["users"]["zx_leader"])
    Child.objects.filter(school=school).update(enrolment="graduated")
    job = _run(job)
    assert job.status == "failed" and "没有在读学生，没有可打印的档卡" in job.message
    page = client.get(reverse("children:cards_job", args=[job.pk])).content.decode()
    assert "没有在读学生" in page
    response = _download(client, job)  # nothing to download: back to the school's page
    assert response.status_code == 302 and response["Location"] == f"{START}?school=HS-ZX"


def test_the_file_is_deleted_after_its_retention(client, cast, school, clock):
    job = _run(_start(client, cast["users"]["zx_leader"]))
    assert P.remove_old_cards() == 0 and P.cards_path(job.pk).exists()
    clock.shift(dt.timedelta(hours=P.CARDS_KEEP_HOURS, minutes=1))
    client.force_login(cast["users"]["zx_leader"])  # a day later: a new session
    response = _download(client, job)
    assert response.status_code == 302 and response["Location"] == f"{START}?school=HS-ZX"
    assert "24 小时保留期" in client.get(response["Location"]).content.decode()
    assert P.remove_old_cards() == 1 and not P.cards_path(job.pk).exists()
    page = client.get(reverse("children:cards_job", args=[job.pk])).content.decode()
    assert "重新生成" in page
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_the_statistics_school_page_links_the_school_print(client, cast, school):
    client.force_login(cast["users"]["zx_leader"])
    html = client.get("/stats/?school=HS-ZX").content.decode()
    assert f'href="{URL}?school=HS-ZX"' in html
    client.force_login(cast["users"]["zx_grade3"])
    html = client.get("/stats/?school=HS-ZX&grade=3").content.decode()
    assert "打印全校档卡" not in html
    html = client.get("/stats/?school=HS-ZX&grade=3&class_no=1").content.decode()
    assert f"{URL}?class={cast['classes']['c31'].pk}" in html
    client.force_login(cast["users"]["inspector"])
    assert "打印" not in client.get("/stats/?school=HS-ZX").content.decode()
