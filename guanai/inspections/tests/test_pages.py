"""The inspection pages: scope and role for each, the draw form, 重新验证抽样, the phone visit
form, corrections for the teacher, 整改 items done and closed."""

import pytest

from guanai.children.models import Child
from guanai.inspections import rectifications, services
from guanai.inspections.models import Inspection, Rectification
from guanai.testing import assert_scoped

from .conftest import client_for


@pytest.fixture
def planned(bq):
    import datetime as dt

    return services.create_inspection(
        school=bq["school"],
        planned_on=dt.date(2026, 12, 10),
        sample_size=5,
        seed="页面",
        by=bq["users"]["inspector"],
    )


def test_list_and_detail_scope(client, bq, planned):
    users = bq["users"]
    assert_scoped(
        client,
        users,
        lambda _n: f"/inspections/{planned.pk}/",
        allowed={"town", "inspector", "bq_leader"},
        denied={"zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor", "proxy_wang"},
    )
    assert_scoped(
        client,
        users,
        lambda _n: "/inspections/",
        allowed=set(users),
        denied=set(),
    )
    html = client_for(users["zx_leader"]).get("/inspections/").content.decode()
    assert "还没有督导检查" in html


def test_the_school_leader_sees_no_names_before_the_start(bq, planned):
    leader = client_for(bq["users"]["bq_leader"])
    html = leader.get(f"/inspections/{planned.pk}/").content.decode()
    names = [c.name for c in Child.objects.filter(pk__in=planned.sample)]
    assert "检查开始后，这里显示随机抽中的走访对象" in html
    assert not any(n in html for n in names) and "页面" not in html  # nor the seed
    assert leader.get(f"/inspections/{planned.pk}/verify/").status_code == 403
    inspector = client_for(bq["users"]["inspector"])
    html = inspector.get(f"/inspections/{planned.pk}/").content.decode()
    assert all(n in html for n in names) and "页面" in html


def test_the_draw_form_creates_and_redirects(bq):
    c = client_for(bq["users"]["inspector"])
    r = c.get("/inspections/new/")
    assert r.status_code == 200 and "板桥小学" in r.content.decode()
    r = c.post(
        "/inspections/new/",
        {"school": bq["school"].pk, "planned_on": "2026-12-10", "sample_size": "4"},
    )
    insp = Inspection.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/inspections/{insp.pk}/"
    assert len(insp.sample) == 4 and insp.seed


@pytest.mark.parametrize("size, message", [("0", "抽样人数必须大于 0"), ("x", "抽样人数应为整数")])
def test_the_draw_form_names_a_bad_sample_size(bq, size, message):
    c = client_for(bq["users"]["inspector"])
    r = c.post(
        "/inspections/new/",
        {"school": bq["school"].pk, "planned_on": "2026-12-10", "sample_size": size},
    )
    assert r.status_code == 200 and message in r.content.decode()
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("who", ["bq_leader", "zx_teacher31", "proxy_wang"])
def test_school_staff_cannot_open_the_draw_form(bq, who):
    assert client_for(bq["users"][who]).get("/inspections/new/").status_code == 403


def test_reverify_button_shows_the_result(bq, planned):
    c = client_for(bq["users"]["inspector"])
    r = c.get(f"/inspections/{planned.pk}/verify/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "抽样一致" in r.content.decode()
    Inspection.objects.filter(pk=planned.pk).update(sample=planned.sample[:-1])
    r = c.get(f"/inspections/{planned.pk}/verify/")
    assert "抽样不一致" in r.content.decode()


def test_visit_form_records_a_finding_and_the_teacher_accepts_the_correction(bq, planned):
    c = client_for(bq["users"]["inspector"])
    assert (
        c.post(f"/inspections/{planned.pk}/status/", {"status": "in_progress"}).status_code == 302
    )
    child = Child.objects.get(pk=planned.sample[0])
    url = f"/inspections/{planned.pk}/visit/{child.pk}/"
    assert c.get(url).status_code == 200
    r = c.post(
        url,
        {
            "visited": "1",
            "met_whom": "奶奶",
            "address__state": "ok",
            "guardian_phone__state": "wrong",
            "guardian_phone__found": "13700001111",
        },
    )
    assert r.status_code == 302
    html = c.get(f"/inspections/{planned.pk}/").content.decode()
    assert "50.0%" in html and "已入户" in html
    # a wrong value without the true one is refused, in Chinese
    r = c.post(url, {"visited": "1", "address__state": "wrong"})
    assert "请填写实际情况" in r.content.decode()
    # a child outside the sample has no visit form
    other = bq["kids"]["home"]
    assert c.get(f"/inspections/{planned.pk}/visit/{other.pk}/").status_code == 404
    leader = client_for(bq["users"]["bq_leader"])
    assert leader.get(url).status_code == 403
    html = leader.get("/inspections/corrections/").content.decode()
    assert child.name in html and "13700001111" in html
    check = planned.findings.get().checks.get(field="guardian_phone")
    assert (
        client_for(bq["users"]["zx_leader"])
        .post(f"/inspections/corrections/{check.pk}/", {"accept": "1"})
        .status_code
        == 404
    )
    assert leader.post(f"/inspections/corrections/{check.pk}/", {"accept": "1"}).status_code == 302
    child.refresh_from_db()
    assert child.guardian.phone == "13700001111"


def test_item_raised_done_and_closed_in_the_pages(bq, planned):
    c = client_for(bq["users"]["inspector"])
    leader_user = bq["users"]["bq_leader"]
    r = c.post(
        f"/inspections/{planned.pk}/items/",
        {"title": "补齐家访记录", "owner": leader_user.pk, "due_on": "2026-12-20"},
    )
    assert r.status_code == 302
    item = Rectification.objects.get()
    r = c.post(f"/inspections/{planned.pk}/items/", {"title": "", "owner": "", "due_on": "x"})
    assert r.status_code == 422 and "请填写整改事项" in r.content.decode()
    leader = client_for(leader_user)
    assert "补齐家访记录" in leader.get("/inspections/items/").content.decode()
    assert (
        client_for(bq["users"]["zx_leader"])
        .post(f"/inspections/items/{item.pk}/done/", {"evidence": "x"})
        .status_code
        == 404
    )
    leader.post(f"/inspections/items/{item.pk}/done/", {"evidence": "已补录"})
    assert leader.post(f"/inspections/items/{item.pk}/close/").status_code == 403
    c.post(f"/inspections/items/{item.pk}/close/")
    item.refresh_from_db()
    assert (item.status, item.evidence) == ("closed", "已补录")


def test_checklist_scores_are_saved_and_a_bad_one_named(bq, planned):
    c = client_for(bq["users"]["inspector"])
    first, second = planned.checklist.all()[:2]
    c.post(
        f"/inspections/{planned.pk}/checklist/",
        {
            f"score_{first.pk}": "8",
            f"notes_{first.pk}": "方案齐全",
            "meeting_attendees": "全体班主任",
        },
    )
    first.refresh_from_db()
    assert (first.score, first.notes) == (8, "方案齐全")
    r = c.post(f"/inspections/{planned.pk}/checklist/", {f"score_{second.pk}": "11"}, follow=True)
    assert "得分应为 0 到 10 的整数" in r.content.decode()
    assert (
        client_for(bq["users"]["bq_leader"])
        .post(f"/inspections/{planned.pk}/checklist/", {})
        .status_code
        == 403
    )


def test_report_pdf_for_the_town_and_the_school_after_the_start(bq, planned):
    from guanai.accounts.models import AccessLog

    leader = client_for(bq["users"]["bq_leader"])
    assert leader.get(f"/inspections/{planned.pk}/report.pdf").status_code == 403
    c = client_for(bq["users"]["town"])
    r = c.get(f"/inspections/{planned.pk}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) == 1
    assert "督导检查报告" in pdf.pages[0].extract_text()
    assert AccessLog.objects.filter(detail__contains="督导检查报告").count() == 1
    assert (
        client_for(bq["users"]["zx_leader"])
        .get(f"/inspections/{planned.pk}/report.pdf")
        .status_code
        == 404
    )


def test_town_edits_the_checklist_template_and_new_inspections_follow_it(bq):
    import datetime as dt

    town = client_for(bq["users"]["town"])
    assert "档案随机走访" in town.get("/inspections/template/").content.decode()
    r = town.post(
        "/inspections/template/", {"titles": "活动方案\n安全教育\n\n活动方案\n档案随机走访"}
    )
    assert r.status_code == 302
    insp = services.create_inspection(
        school=bq["school"], planned_on=dt.date(2026, 12, 10), sample_size=2, by=None
    )
    assert [i.title for i in insp.checklist.all()] == ["活动方案", "安全教育", "档案随机走访"]
    r = town.post("/inspections/template/", {"titles": "  \n"})
    assert "检查项目至少要有一项" in r.content.decode()
    inspector = client_for(bq["users"]["inspector"])
    assert "安全教育" in inspector.get("/inspections/template/").content.decode()
    assert inspector.post("/inspections/template/", {"titles": "x"}).status_code == 403
    for who in ("bq_leader", "zx_teacher31", "proxy_wang"):
        assert client_for(bq["users"][who]).get("/inspections/template/").status_code == 403


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_evidence_photos_are_stored_re_encoded_and_served_in_scope(bq, planned):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from guanai.inspections.models import EvidencePhoto

    leader_user = bq["users"]["bq_leader"]
    item = rectifications.raise_item(
        inspection=planned,
        school=bq["school"],
        title="补齐台账",
        owner=leader_user,
        due_on=planned.planned_on,
        by=bq["users"]["inspector"],
    )
    leader = client_for(leader_user)
    bad = SimpleUploadedFile("x.png", b"<html>not a photo</html>", content_type="image/png")
    leader.post(f"/inspections/items/{item.pk}/done/", {"evidence": "已补", "photos": [bad]})
    item.refresh_from_db()
    assert item.status == "open" and not EvidencePhoto.objects.exists()
    good = SimpleUploadedFile("台账.png", _png(), content_type="image/png")
    leader.post(f"/inspections/items/{item.pk}/done/", {"evidence": "已补", "photos": [good]})
    photo = EvidencePhoto.objects.get()
    assert photo.file.name.endswith(".jpg")  # re-encoded: no transparency, so JPEG
    r = client_for(bq["users"]["inspector"]).get(f"/inspections/photos/{photo.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert (
        client_for(bq["users"]["zx_leader"]).get(f"/inspections/photos/{photo.pk}/").status_code
        == 404
    )
    html = (
        client_for(bq["users"]["inspector"]).get("/inspections/items/?status=done").content.decode()
    )
    assert f"/inspections/photos/{photo.pk}/" in html
