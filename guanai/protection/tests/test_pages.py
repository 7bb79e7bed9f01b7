"""The pages: who opens each one, in and out of scope; forms' Chinese messages; the filer's
"已提交"; reads logged; the home panel."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanai.accounts.models import AccessLog
from guanai.children.models import Guardian
from guanai.protection.models import AlertResolution, DropoutCase, Incident
from guanai.protection.services import add_attempt, open_dropout_case
from guanai.protection.views import home_panel_context, open_incidents_for
from guanai.testing import make_child

from .conftest import client_for, make_incident

ALL = ["town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor",
       "zx_subject", "proxy_wang", "bq_leader"]  # fmt: skip


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- 报告疑似侵害 --------------------------------------------------------------------------------

REPORT_FORM_C31A = {
    "town": 200, "zx_leader": 200, "zx_grade3": 200, "zx_teacher31": 200, "zx_counselor": 200,
    "zx_subject": 404, "bq_leader": 404, "inspector": 403, "proxy_wang": 403,
}  # fmt: skip


@pytest.mark.parametrize("login, status", REPORT_FORM_C31A.items())
def test_who_opens_the_report_form(staff, kids, login, status):
    r = client_for(staff[login]).get(f"/protection/report/{kids['c31a'].pk}/")
    assert r.status_code == status
    if status == 200:
        assert "报告疑似侵害" in text(r) and "张三" in text(r)


def test_a_teacher_reports_and_then_sees_only_submitted(staff, kids):
    teacher = client_for(staff["zx_teacher31"])
    r = teacher.post(
        f"/protection/report/{kids['c31a'].pk}/",
        {
            "harm_kind": "physical",
            "source": "seen",
            "observed_at": "2026-11-29T08:10",
            "what": "左脸红肿，说是被继父打的",
        },
        follow=True,
    )
    page = text(r)
    assert "已提交 于 2026-11-29" in page
    assert "张三 已提交 于 2026-11-29" in page
    assert "继父" not in page and "身体伤害" not in page
    incident = Incident.objects.get()
    assert incident.filed_by == staff["zx_teacher31"]
    assert timezone.localtime(incident.observed_at).strftime("%H:%M") == "08:10"
    assert teacher.get(f"/protection/incidents/{incident.pk}/").status_code == 404
    leader = client_for(staff["zx_leader"])
    page = text(leader.get(f"/protection/incidents/{incident.pk}/"))
    assert "左脸红肿，说是被继父打的" in page and "王老师" in page
    assert AccessLog.objects.filter(user=staff["zx_leader"], child=kids["c31a"]).count() == 1


def test_report_form_errors_in_chinese(staff, kids):
    r = client_for(staff["zx_teacher31"]).post(
        f"/protection/report/{kids['c31a'].pk}/",
        {"observed_at": "2026-12-31T08:00", "what": "  ", "source": "guess"},
    )
    page = text(r)
    assert "请选择疑似侵害类型" in page
    assert "所选怎么知道的不在可选范围内" in page
    assert "请填写看到或听到的情况" in page
    assert not Incident.objects.exists()
    r = client_for(staff["zx_teacher31"]).post(
        f"/protection/report/{kids['c31a'].pk}/",
        {"observed_at": "2026-12-31T08:00", "what": "x", "source": "seen", "harm_kind": "other"},
    )
    assert "发现时间不能晚于现在" in text(r)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("login, status", [("zx_teacher31", 200), ("inspector", 403)])
def test_report_pick_finds_children_in_scope(staff, kids, login, status):
    r = client_for(staff[login]).get("/protection/report/?q=张")
    assert r.status_code == status
    if status == 200:
        assert "张三" in text(r) and "李四" not in text(r)


# --- the incidents list and detail ---------------------------------------------------------------

LIST = {
    "town": 200, "zx_leader": 200, "bq_leader": 200, "zx_grade3": 200, "zx_teacher31": 200,
    "zx_counselor": 200, "zx_subject": 200, "inspector": 403, "proxy_wang": 403,
}  # fmt: skip


@pytest.mark.parametrize("login, status", LIST.items())
def test_incident_list_by_role(staff, kids, login, status):
    make_incident(kids["c31a"], staff["zx_teacher31"], what="秘密内容甲")
    r = client_for(staff[login]).get("/protection/incidents/")
    assert r.status_code == status
    if status != 200:
        return
    page = text(r)
    assert "秘密内容甲" not in page  # the list never shows the narrative
    reads = login in ("town", "zx_leader")
    assert ("张三" in page) == (reads or login == "zx_teacher31")
    if login == "zx_teacher31":
        assert "张三 已提交 于 2026-11-29 10:00" in page and 'id="incident-list"' not in page
    if login == "bq_leader":
        assert "没有待处理的报告" in page


@pytest.mark.parametrize("login", ALL)
def test_incident_detail_by_role(staff, kids, login):
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    r = client_for(staff[login]).get(f"/protection/incidents/{incident.pk}/")
    assert r.status_code == (200 if login in ("town", "zx_leader") else 404)


def test_leader_records_report_outcome_and_follow_up(staff, kids):
    incident = make_incident(kids["c31a"], staff["zx_teacher31"])
    leader = client_for(staff["zx_leader"])
    url = f"/protection/incidents/{incident.pk}/"
    r = leader.post(url, {"form": "update", "told": ["police"], "receipt_no": "A1"})
    assert "填写了已报告部门，请同时填写报告时间" in text(r)
    r = leader.post(
        url,
        {"form": "update", "told": ["police", "education"], "told_at": "2026-11-28T17:00",
         "receipt_no": "A1", "outcome": ""},
    )  # fmt: skip
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.told == ["police", "education"] and incident.is_open
    assert list(open_incidents_for(staff["zx_leader"])) == [incident]
    r = leader.post(url, {"form": "follow", "on": "2026-11-29", "note": ""})
    assert "请填写跟进情况" in text(r)
    leader.post(url, {"form": "follow", "on": "2026-11-29", "note": "派出所已上门"})
    leader.post(
        url,
        {"form": "update", "told": ["police"], "told_at": "2026-11-28T17:00", "outcome": "已立案"},
    )
    incident.refresh_from_db()
    assert not incident.is_open and incident.follow_ups.count() == 1
    assert list(open_incidents_for(staff["zx_leader"])) == []


# --- 控辍保学 ----------------------------------------------------------------------------------


@pytest.fixture
def case(staff, kids):
    return open_dropout_case(
        child=kids["c31a"],
        by=staff["zx_teacher31"],
        absent_since=dt.date(2026, 11, 16),
        absent_days=8,
        reason_asked="在家带弟弟",
    )


CASE_READERS = {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}


@pytest.mark.parametrize("login", ALL)
def test_case_pages_by_role(staff, case, login):
    c = client_for(staff[login])
    listed = text(c.get("/protection/dropout/"))
    assert ("张三" in listed) == (login in CASE_READERS)
    r = c.get(f"/protection/dropout/{case.pk}/")
    assert r.status_code == (200 if login in CASE_READERS else 404)
    if login in CASE_READERS:
        assert ('id="attempt-form"' in r.content.decode()) == (login != "inspector")


def test_a_case_from_absence_to_report(staff, kids):
    teacher = client_for(staff["zx_teacher31"])
    r = teacher.post(
        f"/protection/dropout/new/{kids['c31b'].pk}/",
        {"absent_since": "2026-11-20", "absent_days": "", "reason_asked": ""},
    )
    assert "请填写缺课天数" in text(r)
    r = teacher.post(
        f"/protection/dropout/new/{kids['c31b'].pk}/",
        {"absent_since": "2026-11-20", "absent_days": "6", "reason_asked": "外出打工"},
    )
    case = DropoutCase.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/protection/dropout/{case.pk}/"
    url = r["Location"]
    r = teacher.post(url, {"form": "close", "status": "reported", "on": "2026-11-28"})
    assert "还没有劝返记录" in text(r)
    r = teacher.post(
        url, {"form": "attempt", "on": "2026-11-25", "by": "王老师、村主任", "with_whom": "父亲",
              "result": "父亲不同意"},
    )  # fmt: skip
    assert r.status_code == 302
    r = teacher.post(
        url, {"form": "close", "status": "reported", "on": "2026-11-28", "note": "三次劝返无效"}
    )
    case.refresh_from_db()
    assert case.status == "reported" and case.closed_by == staff["zx_teacher31"]
    pdf = teacher.get(f"/protection/dropout/{case.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "login, status",
    [("zx_teacher31", 200), ("zx_leader", 200), ("inspector", 403), ("proxy_wang", 403),
     ("bq_leader", 404), ("zx_subject", 404)],
)  # fmt: skip
def test_case_new_by_role(staff, kids, login, status):
    assert (
        client_for(staff[login]).get(f"/protection/dropout/new/{kids['c31a'].pk}/").status_code
        == status
    )


def test_inspector_cannot_write_a_case(staff, case):
    r = client_for(staff["inspector"]).post(
        f"/protection/dropout/{case.pk}/",
        {"form": "attempt", "on": "2026-11-25", "by": "x", "with_whom": "y", "result": "z"},
    )
    assert r.status_code == 403 and not case.attempts.exists()


def test_town_lists_cases_per_school(staff, kids, case):
    other = open_dropout_case(
        child=kids["bq31a"], by=staff["bq_leader"], absent_since=dt.date(2026, 11, 2),
        absent_days=20, reason_asked="",
    )  # fmt: skip
    add_attempt(other, by_user=staff["bq_leader"], on=dt.date(2026, 11, 3), by="赵校长",
                with_whom="祖父", result="拒绝")  # fmt: skip
    town = client_for(staff["town"])
    r = town.get("/protection/dropout/")
    page = text(r)
    assert "张三" in page and "赵六" in page
    table = re.search(r'<table[^>]*id="per-school".*?</table>', r.content.decode(), re.DOTALL)
    rows = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table.group(0))).strip()
    assert "虎山镇中心小学 1 0 0" in rows and "板桥小学 1 0 0" in rows and "古田小学 0 0 0" in rows
    bq = case.child.school.__class__.objects.get(code="HS-BQ")
    page = text(town.get(f"/protection/dropout/?school={bq.pk}"))
    assert "张三" not in page and "赵六" in page


# --- alerts ---------------------------------------------------------------------------------------


@pytest.fixture
def alone(cast):
    child = make_child(cast["classes"]["c31"], name="张独", birth=dt.date(2016, 9, 1))
    Guardian.objects.filter(child=child).delete()
    return child


@pytest.mark.parametrize("login", ALL)
def test_alerts_page_by_role(staff, alone, login):
    r = client_for(staff[login]).get("/protection/alerts/")
    allowed = login in ("town", "zx_leader", "bq_leader")
    assert r.status_code == (200 if allowed else 403)
    if allowed:
        assert ("张独" in text(r)) == (login != "bq_leader")


def test_resolve_an_alert_on_the_page(staff, alone):
    leader = client_for(staff["zx_leader"])
    url = f"/protection/alerts/{alone.pk}/resolve/"
    r = leader.post(url, {"action": ""}, follow=True)
    assert "请填写采取的措施" in text(r)
    r = leader.post(url, {"action": "已联系村儿童主任"}, follow=True)
    assert "张独：已记录采取的措施" in text(r)
    assert AlertResolution.objects.get().resolved_by == staff["zx_leader"]
    assert client_for(staff["bq_leader"]).post(url, {"action": "x"}).status_code == 404
    assert client_for(staff["zx_teacher31"]).post(url, {"action": "x"}).status_code == 403


# --- the home panel --------------------------------------------------------------------------------


def test_home_panel(staff, kids, alone, case):
    make_incident(kids["c31a"], staff["zx_teacher31"])
    panel = home_panel_context(staff["zx_leader"])["protection_panel"]
    assert panel["incident_count"] == 1 and panel["case_count"] == 1
    assert panel["alert_count"] == 1
    teacher = home_panel_context(staff["zx_teacher31"])["protection_panel"]
    assert "incident_count" not in teacher and teacher["case_count"] == 1
    assert "alert_count" not in teacher
    assert home_panel_context(staff["bq_leader"]) == {"protection_panel": None}
    assert home_panel_context(staff["proxy_wang"]) == {"protection_panel": None}
    from django.template.loader import render_to_string

    html = render_to_string("protection/_home_panel.html", home_panel_context(staff["zx_leader"]))
    assert "强制报告待处理 1 份" in html and "监护缺失 1 人" in html and "张独" in html


@pytest.mark.parametrize(
    "login, target",
    [("zx_teacher31", "/protection/incidents/"), ("zx_leader", "/protection/incidents/"),
     ("inspector", "/protection/dropout/"), ("proxy_wang", "/protection/dropout/")],
)  # fmt: skip
def test_index_goes_to_the_first_page_the_user_may_use(staff, login, target):
    r = client_for(staff[login]).get("/protection/")
    assert r.status_code == 302 and r["Location"] == target


@pytest.mark.parametrize(
    "login, tabs",
    [("zx_leader", ["强制报告", "控辍保学", "监护缺失提醒"]), ("zx_teacher31", ["强制报告", "控辍保学"]),
     ("inspector", ["控辍保学"])],
)  # fmt: skip
def test_tabs_show_only_pages_the_user_may_open(staff, login, tabs):
    html = client_for(staff[login]).get("/protection/dropout/").content.decode()
    nav = re.search(r'<nav class="protection-nav.*?</nav>', html, re.DOTALL).group(0)
    assert re.findall(r">([^<>]+)</a>", nav) == tabs


@pytest.mark.parametrize(
    "login, links",
    [("zx_leader", ["监护缺失：父母均不在家，未登记监护人", "报告疑似侵害", "控辍保学"]),
     ("zx_teacher31", ["报告疑似侵害", "控辍保学"]), ("inspector", []), ("proxy_wang", []),
     ("zx_subject", ["报告疑似侵害"])],
)  # fmt: skip
def test_card_links(staff, alone, rf, login, links):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = staff[login]
    html = render_to_string("protection/_card_links.html", {"child": alone}, request=request)
    assert re.findall(r">([^<>]+)</a>", html) == links
