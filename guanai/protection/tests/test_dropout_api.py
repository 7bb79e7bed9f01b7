"""/api/v1/dropout-cases: read by the `view` units of the child's school / grade / class, written
by `change`; attempts, closing, and the written report as PDF."""

import pytest

from guanai.protection.models import CaseStatus, DropoutCase
from guanai.protection.services import add_attempt, open_dropout_case

from .conftest import client_for

URL = "/api/v1/dropout-cases"
BODY = {"absent_since": "2026-11-16", "absent_days": 8, "reason_asked": "家长说孩子不想读了"}


@pytest.fixture
def case(staff, kids):
    import datetime as dt

    return open_dropout_case(
        child=kids["c31a"],
        by=staff["zx_teacher31"],
        absent_since=dt.date(2026, 11, 16),
        absent_days=8,
        reason_asked="在家带弟弟",
    )


READ_C31A = {
    "town": 200,
    "inspector": 200,
    "zx_leader": 200,
    "zx_grade3": 200,
    "zx_teacher31": 200,
    "zx_counselor": 200,
    "zx_subject": 404,
    "proxy_wang": 404,
    "bq_leader": 404,
}


@pytest.mark.parametrize("login, status", READ_C31A.items())
def test_who_reads_a_case(staff, case, login, status):
    c = client_for(staff[login])
    assert c.get(f"{URL}/{case.pk}").status_code == status
    assert c.get(URL).json()["count"] == (1 if status == 200 else 0)


def test_a_class_teacher_sees_only_her_class(staff, kids, case):
    import datetime as dt

    other = open_dropout_case(
        child=kids["c41a"],
        by=staff["zx_leader"],
        absent_since=dt.date(2026, 11, 20),
        absent_days=5,
        reason_asked="",
    )
    teacher = client_for(staff["zx_teacher31"])
    assert teacher.get(f"{URL}/{other.pk}").status_code == 404
    assert [i["id"] for i in teacher.get(URL).json()["items"]] == [case.pk]
    leader = client_for(staff["zx_leader"])
    assert leader.get(URL).json()["count"] == 2
    assert client_for(staff["town"]).get(URL + "?school=HS-BQ").json()["count"] == 0
    assert leader.get(URL + "?status=open").json()["count"] == 2


OPEN_ON_C31A = {
    "town": 201,
    "zx_leader": 201,
    "zx_grade3": 201,
    "zx_teacher31": 201,
    "zx_counselor": 201,
    "inspector": 403,
    "zx_subject": 404,  # she holds no class: she reads no cases
    "proxy_wang": 403,
    "bq_leader": 404,
}


@pytest.mark.parametrize("login, status", OPEN_ON_C31A.items())
def test_who_opens_a_case(staff, kids, login, status):
    r = client_for(staff[login]).post(
        URL, {**BODY, "child": kids["c31a"].pk}, content_type="application/json"
    )
    assert r.status_code == status, r.content
    assert DropoutCase.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        assert r.json()["status_label"] == "劝返中"


def test_a_followed_child_is_404_to_a_subject_teacher(staff, kids):
    from guanai.testing import assign_child

    assign_child(staff["zx_subject"], kids["c31a"], "subject_teacher")
    r = client_for(staff["zx_subject"]).post(
        URL, {**BODY, "child": kids["c31a"].pk}, content_type="application/json"
    )
    assert r.status_code == 404


def test_a_case_followed_to_its_end(staff, case):
    teacher = client_for(staff["zx_teacher31"])
    r = teacher.post(
        f"{URL}/{case.pk}/attempts",
        {"on": "2026-11-20", "by": "王老师、村主任", "with_whom": "祖母", "result": "答应下周送来"},
        content_type="application/json",
    )
    assert r.status_code == 201
    assert r.json()["attempts"][0]["recorded_by"] == "王老师"
    r = teacher.post(
        f"{URL}/{case.pk}/close",
        {"status": "returned", "on": "2026-11-27"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status_label"] == "已返校"
    r = teacher.post(
        f"{URL}/{case.pk}/attempts",
        {"on": "2026-11-28", "by": "王老师", "with_whom": "祖母", "result": "x"},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"].startswith("结案方式：这条记录已结案")
    assert teacher.get(f"{URL}/{case.pk}/report.pdf").status_code == 409


def test_reported_needs_an_attempt_and_a_note(staff, case):
    leader = client_for(staff["zx_leader"])
    r = leader.post(
        f"{URL}/{case.pk}/close",
        {"status": "reported", "on": "2026-11-28"},
        content_type="application/json",
    )
    fields = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert fields == {
        "status": "结案方式：还没有劝返记录：请先记录劝返，劝返无效再书面报告",
        "note": "结案说明不能为空",
    }
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_the_written_report_is_a_pdf(staff, case):
    import datetime as dt

    add_attempt(
        case,
        by_user=staff["zx_teacher31"],
        on=dt.date(2026, 11, 20),
        by="王老师",
        with_whom="祖母",
        result="拒绝",
    )
    r = client_for(staff["zx_leader"]).get(f"{URL}/{case.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert client_for(staff["bq_leader"]).get(f"{URL}/{case.pk}/report.pdf").status_code == 404


@pytest.mark.parametrize("login, status", [("inspector", 403), ("bq_leader", 404)])
def test_writes_outside_change_scope(staff, case, login, status):
    c = client_for(staff[login])
    r = c.post(f"{URL}/{case.pk}/attempts", {"on": "bad"}, content_type="application/json")
    assert r.status_code == status
    r = c.post(f"{URL}/{case.pk}/close", {}, content_type="application/json")
    assert r.status_code == status


def test_bad_input_is_422_in_chinese(staff, kids, case):
    teacher = client_for(staff["zx_teacher31"])
    r = teacher.post(
        URL,
        {"child": kids["c31b"].pk, "absent_since": "2026-12-30", "absent_days": 0},
        content_type="application/json",
    )
    fields = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert fields == {"absent_days": "缺课天数：数值太小"}
    r = teacher.post(
        URL,
        {"child": kids["c31b"].pk, "absent_since": "2026-12-30", "absent_days": 3},
        content_type="application/json",
    )
    assert r.json()["detail"] == [
        {
            "loc": ["body", "absent_since"],
            "field": "absent_since",
            "msg": "开始缺课日期不能晚于今天",
        }
    ]
    r = teacher.post(
        URL, {**BODY, "child": kids["c31a"].pk}, content_type="application/json"
    )  # a second open case
    assert r.status_code == 422 and "已有正在劝返" in r.json()["detail"][0]["msg"]
    r = teacher.post(
        f"{URL}/{case.pk}/attempts",
        {"on": "2026-11-01", "by": "", "with_whom": "祖母", "result": "好"},
        content_type="application/json",
    )
    fields = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert fields == {"on": "日期不能早于开始缺课日期", "by": "劝返人员不能为空"}
    r = teacher.post(f"{URL}/{case.pk}/close", {"status": "gone", "on": "x"}, "application/json")
    fields = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert fields["status"] == "结案方式：取值不在允许范围内" and fields["on"].startswith("日期")


def test_the_report_tells_the_county_what_was_tried(staff, case):
    import datetime as dt
    import io

    from pypdf import PdfReader

    from guanai.protection.services import close_case

    add_attempt(
        case,
        by_user=staff["zx_teacher31"],
        on=dt.date(2026, 11, 20),
        by="王老师、村主任",
        with_whom="祖母",
        result="祖母说孩子要在家带弟弟",
    )
    close_case(
        case,
        by=staff["zx_leader"],
        status="reported",
        on=dt.date(2026, 11, 28),
        note="经三次劝返，家长仍不送孩子返校。",
    )
    r = client_for(staff["zx_leader"]).get(f"{URL}/{case.pk}/report.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    text = "".join(text.split())
    for words in (
        "关于学生张三辍学情况的报告",
        "虎山镇人民政府、县教育局",
        "2026年11月16日起无故缺课，累计8天",
        "在家带弟弟",
        "王老师、村主任",
        "祖母说孩子要在家带弟弟",
        "经三次劝返，家长仍不送孩子返校。",
        "虎山镇中心小学（盖章）",
        "2026年11月28日",
    ):
        assert words in text, words
    assert "草稿" not in text
