"""/api/v1/incidents: any staff member files a report on a child she may read; only school
leaders (their school) and the town read it, each read logged; the filer reads "已提交"."""

import pytest

from guanai.accounts.models import AccessLog
from guanai.protection.models import Incident
from guanai.testing import assign_child

from .conftest import client_for, make_incident

URL = "/api/v1/incidents"
BODY = {
    "observed_at": "2026-11-28T16:30:00+08:00",
    "source": "child",
    "harm_kind": "neglect",
    "what": "孩子说家里三天没人做饭",
}

# Who files on 张三 (c31a, HS-ZX 3-1): everyone of his school but the read-only inspector and
# the proxy parent (who holds no unit); the 板桥 leader does not see him (404).
FILE_ON_C31A = {
    "town": 201,
    "zx_leader": 201,
    "zx_grade3": 201,
    "zx_teacher31": 201,
    "zx_counselor": 201,
    "zx_subject": 404,  # a subject teacher reads only the children she follows
    "inspector": 403,
    "proxy_wang": 403,
    "bq_leader": 404,
}


@pytest.mark.parametrize("login, status", FILE_ON_C31A.items())
def test_who_files_a_report(staff, kids, login, status):
    response = client_for(staff[login]).post(
        URL, {**BODY, "child": kids["c31a"].pk}, content_type="application/json"
    )
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["status"] == "已提交" and body["child_name"] == "张三"
        assert "what" not in body and "harm_kind" not in body
        assert Incident.objects.get(pk=body["id"]).filed_by == staff[login]
    else:
        assert not Incident.objects.exists()


def test_a_subject_teacher_files_on_a_child_she_follows(staff, kids):
    assign_child(staff["zx_subject"], kids["c32a"], "subject_teacher")
    response = client_for(staff["zx_subject"]).post(
        URL, {**BODY, "child": kids["c32a"].pk}, content_type="application/json"
    )
    assert response.status_code == 201


def test_a_teacher_files_a_report_she_then_cannot_read(staff, kids):
    teacher = client_for(staff["zx_teacher31"])
    filed = teacher.post(URL, {**BODY, "child": kids["c31b"].pk}, content_type="application/json")
    pk = filed.json()["id"]
    assert teacher.get(f"{URL}/{pk}").status_code == 404
    assert teacher.get(URL).status_code == 403
    mine = teacher.get(f"{URL}/mine").json()
    assert mine["count"] == 1
    assert mine["items"][0] == {
        "id": pk,
        "child": kids["c31b"].pk,
        "child_name": "单小明",
        "filed_at": mine["items"][0]["filed_at"],
        "status": "已提交",
    }
    # the leader reads it whole
    body = client_for(staff["zx_leader"]).get(f"{URL}/{pk}").json()
    assert body["what"] == "孩子说家里三天没人做饭"
    assert body["filed_by"] == "王老师" and body["open"] is True


READ_ZX_INCIDENT = {
    "town": 200,
    "zx_leader": 200,
    "inspector": 404,
    "zx_grade3": 404,
    "zx_teacher31": 404,
    "zx_counselor": 404,
    "zx_subject": 404,
    "proxy_wang": 404,
    "bq_leader": 404,
}


@pytest.mark.parametrize("login, status", READ_ZX_INCIDENT.items())
def test_who_reads_an_incident_and_each_read_is_logged(staff, kids, login, status):
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    response = client_for(staff[login]).get(f"{URL}/{incident.pk}")
    assert response.status_code == status
    logs = AccessLog.objects.filter(user=staff[login], child=kids["c31a"])
    if status == 200:
        assert logs.count() == 1
        assert logs.get().detail == f"强制报告 {incident.pk}"
    else:
        assert not logs.exists()


@pytest.mark.parametrize(
    "login, status, seen",
    [
        ("town", 200, {"c31a", "bq31a"}),
        ("zx_leader", 200, {"c31a"}),
        ("bq_leader", 200, {"bq31a"}),
        ("inspector", 403, None),
        ("zx_grade3", 403, None),
        ("zx_teacher31", 403, None),
        ("zx_counselor", 403, None),
        ("zx_subject", 403, None),
        ("proxy_wang", 403, None),
    ],
)
def test_the_list_counts_only_what_the_role_reads(staff, kids, login, status, seen):
    make_incident(kids["c31a"], staff["zx_teacher31"])
    make_incident(kids["bq31a"], staff["bq_leader"], outcome="已处理")
    response = client_for(staff[login]).get(URL)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["count"] == len(seen)
        assert {i["child"] for i in body["items"]} == {kids[k].pk for k in seen}
        assert AccessLog.objects.filter(user=staff[login]).count() == len(seen)


def test_open_filter(staff, kids):
    make_incident(kids["c31a"], staff["zx_teacher31"])
    make_incident(kids["bq31a"], staff["bq_leader"], outcome="已处理")
    town = client_for(staff["town"])
    assert town.get(URL + "?open=true").json()["count"] == 1
    assert town.get(URL + "?open=false").json()["count"] == 1


def test_leader_records_who_was_told_receipt_and_outcome(staff, kids):
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    leader = client_for(staff["zx_leader"])
    body = leader.patch(
        f"{URL}/{incident.pk}",
        {"told": ["police", "civil"], "told_at": "2026-11-28T18:00:00+08:00", "receipt_no": "JB-1"},
        content_type="application/json",
    ).json()
    assert body["told_labels"] == ["公安", "民政"] and body["receipt_no"] == "JB-1"
    assert body["open"] is True
    body = leader.patch(
        f"{URL}/{incident.pk}", {"outcome": "派出所已立案"}, content_type="application/json"
    ).json()
    assert body["open"] is False and body["outcome_at"] and body["told_labels"] == ["公安", "民政"]
    body = leader.post(
        f"{URL}/{incident.pk}/follow-ups",
        {"on": "2026-11-29", "note": "已和民政专干一起家访"},
        content_type="application/json",
    )
    assert body.status_code == 201
    assert body.json()["follow_ups"] == [
        {"on": "2026-11-29", "note": "已和民政专干一起家访", "by": "刘校长"}
    ]


@pytest.mark.parametrize(
    "login, status",
    [("zx_teacher31", 403), ("inspector", 403), ("zx_counselor", 403), ("proxy_wang", 403),
     ("bq_leader", 404)],
)  # fmt: skip
def test_others_cannot_follow_up_not_even_with_a_bad_body(staff, kids, login, status):
    """A role that follows up no incident is refused (403) before anything is looked up;
    another school's leader does not find it (404)."""
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    c = client_for(staff[login])
    url = f"{URL}/{incident.pk}"
    assert c.patch(url, {"outcome": "x"}, "application/json").status_code == status
    assert c.patch(url, {"told": ["fbi"]}, "application/json").status_code == status
    r = c.post(f"{url}/follow-ups", {"on": "x"}, content_type="application/json")
    assert r.status_code == status
    assert not AccessLog.objects.exists()
    incident.refresh_from_db()
    assert incident.outcome == ""


def _fields(response) -> dict:
    assert response.status_code == 422, response.content
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


def test_bad_filing_is_422_in_chinese(staff, kids):
    teacher = client_for(staff["zx_teacher31"])
    errors = _fields(
        teacher.post(
            URL,
            {"child": kids["c31a"].pk, "source": "guess", "harm_kind": "x", "what": ""},
            content_type="application/json",
        )
    )
    assert errors["observed_at"] == "发现时间：必填"
    assert errors["source"].startswith("怎么知道的：")
    assert errors["harm_kind"].startswith("疑似侵害类型：")
    errors = _fields(
        teacher.post(
            URL,
            {**BODY, "child": kids["c31a"].pk, "what": "  ", "observed_at": "2026-12-30T10:00"},
            content_type="application/json",
        )
    )
    assert errors == {"observed_at": "发现时间不能晚于现在", "what": "看到或听到的情况不能为空"}


def test_a_bad_body_naming_an_out_of_scope_child_is_404(staff, kids):
    teacher = client_for(staff["zx_teacher31"])
    r = teacher.post(URL, {**BODY, "child": kids["bq31a"].pk}, content_type="application/json")
    assert r.status_code == 404
    r = teacher.post(URL, {**BODY, "child": 10**30}, content_type="application/json")
    assert r.status_code == 422


def test_the_inspector_is_403_whatever_she_sends(staff, kids):
    r = client_for(staff["inspector"]).post(URL, {"what": 1}, content_type="application/json")
    assert r.status_code == 403


def test_bad_follow_up_input(staff, kids):
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    leader = client_for(staff["zx_leader"])
    errors = _fields(
        leader.patch(f"{URL}/{incident.pk}", {"told": ["fbi"]}, content_type="application/json")
    )
    assert errors["told.0"].startswith("已报告部门")
    errors = _fields(
        leader.patch(f"{URL}/{incident.pk}", {"told": ["police"]}, content_type="application/json")
    )
    assert errors == {"told_at": "报告部门时间：填写了已报告部门，请同时填写报告时间"}
    errors = _fields(
        leader.patch(
            f"{URL}/{incident.pk}",
            {"told": ["police"], "told_at": "2026-11-01T10:00:00+08:00"},
            content_type="application/json",
        )
    )
    assert errors == {"told_at": "报告部门时间不能早于发现时间"}
    errors = _fields(
        leader.post(
            f"{URL}/{incident.pk}/follow-ups", {"on": "2026-13-01", "note": ""}, "application/json"
        )
    )
    assert set(errors) == {"on"}
    errors = _fields(
        leader.post(
            f"{URL}/{incident.pk}/follow-ups", {"on": "2026-11-29", "note": " "}, "application/json"
        )
    )
    assert errors == {"note": "跟进情况不能为空"}
    incident.refresh_from_db()
    assert incident.told == [] and not incident.follow_ups.exists()
