"""Findings per sampled child, the accuracy rate, corrections decided by the class teacher, and
the rectification items (/api/v1/rectifications) followed to closure."""

import datetime as dt

import pytest

from guanai.accounts.models import Role
from guanai.children.models import Child
from guanai.testing import make_user

from .conftest import client_for

URL = "/api/v1/inspections"
ITEMS = "/api/v1/rectifications"
J = "application/json"


@pytest.fixture
def started(bq):
    c = client_for(bq["users"]["inspector"])
    body = {"school": "HS-BQ", "planned_on": "2026-12-10", "sample_size": 5, "seed": "s"}
    insp = c.post(URL, body, content_type=J).json()
    c.post(f"{URL}/{insp['id']}/status", {"status": "in_progress"}, content_type=J)
    teacher = make_user(
        "bq_teacher",
        Role.CLASS_TEACHER,
        school=bq["school"],
        school_class=bq["kids"]["bq31a"].school_class,
        display_name="板桥老师",
    )
    return {**bq, "insp": insp, "client": c, "teacher": teacher}


def finding(started, child_id, checks, who="inspector"):
    c = client_for(started["users"][who]) if who != "inspector" else started["client"]
    body = {"child": child_id, "visited": True, "met_whom": "奶奶", "checks": checks}
    return c.post(f"{URL}/{started['insp']['id']}/findings", body, content_type=J)


def sampled(started, i=0) -> Child:
    return Child.objects.get(pk=started["insp"]["sample"][i]["child"])


def test_findings_give_the_accuracy_rate_and_the_discrepancies(started):
    a, b = sampled(started, 0), sampled(started, 1)
    r = finding(
        started,
        a.pk,
        [
            {"field": "address", "correct": True},
            {"field": "guardian_phone", "correct": False, "found": "13700001111"},
            {"field": "father_status", "correct": True},
        ],
    )
    assert r.status_code == 201, r.content
    checks = {c["field"]: c for c in r.json()["checks"]}
    assert checks["guardian_phone"]["recorded"] == "13912345678"
    assert checks["guardian_phone"]["correction"] == "proposed"
    assert checks["guardian_phone"]["field_label"] == "监护人电话"
    finding(started, b.pk, [{"field": "category", "correct": False, "found": "单留守"}])
    acc = started["client"].get(f"{URL}/{started['insp']['id']}/accuracy").json()
    assert (acc["checked"], acc["wrong"], acc["rate"]) == (4, 2, 0.5)
    fields = {(d["child"], d["field"], d["correction"]) for d in acc["discrepancies"]}
    assert fields == {(a.pk, "guardian_phone", "proposed"), (b.pk, "category", None)}


def test_recording_again_replaces_the_childs_finding(started):
    a = sampled(started)
    finding(started, a.pk, [{"field": "address", "correct": False, "found": "新村3组"}])
    finding(started, a.pk, [{"field": "address", "correct": True}])
    acc = started["client"].get(f"{URL}/{started['insp']['id']}/accuracy").json()
    assert (acc["checked"], acc["wrong"]) == (1, 0)


def test_a_child_outside_the_sample_or_a_bad_check_is_422(started):
    outside = started["kids"]["home"]
    r = finding(started, outside.pk, [])
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("儿童")
    r = finding(started, sampled(started).pk, [{"field": "shoe_size", "correct": True}])
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("核对项目")
    r = finding(started, sampled(started).pk, [{"field": "guardian_phone", "correct": False}])
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("实际情况")
    r = finding(
        started,
        sampled(started).pk,
        [{"field": "guardian_phone", "correct": False, "found": "123"}],
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "checks.0.found"


def test_findings_wait_for_the_start(bq):
    c = client_for(bq["users"]["inspector"])
    body = {"school": "HS-BQ", "planned_on": "2026-12-10", "sample_size": 2}
    insp = c.post(URL, body, content_type=J).json()
    r = c.post(
        f"{URL}/{insp['id']}/findings",
        {"child": insp["sample"][0]["child"], "visited": False, "checks": []},
        content_type=J,
    )
    assert r.status_code == 422


@pytest.mark.parametrize("who", ["bq_leader", "zx_teacher31", "proxy_wang"])
def test_only_inspectors_record_findings(started, who):
    r = finding(started, sampled(started).pk, [], who=who)
    assert r.status_code == (403 if who == "bq_leader" else 404)


def test_the_class_teacher_accepts_a_correction_and_the_history_names_the_inspection(started):
    a = sampled(started)
    finding(started, a.pk, [{"field": "mother_status", "correct": False, "found": "在家"}])
    check = started["client"].get(f"{URL}/{started['insp']['id']}/findings").json()[0]["checks"][0]
    # the inspector changes no card, whatever he sends
    r = started["client"].post(f"{URL}/corrections/{check['id']}", {"accept": True}, content_type=J)
    assert r.status_code == 403
    r = started["client"].post(f"{URL}/corrections/{check['id']}", "[1]", content_type=J)
    assert r.status_code == 403
    other = client_for(started["users"]["zx_leader"])
    r = other.post(f"{URL}/corrections/{check['id']}", {"accept": True}, content_type=J)
    assert r.status_code == 404
    leader = client_for(started["users"]["bq_leader"])
    r = leader.post(f"{URL}/corrections/{check['id']}", {"accept": True}, content_type=J)
    assert r.status_code == 200 and r.json()["correction"] == "accepted"
    a.refresh_from_db()
    assert a.parent("mother").status == "home"
    history = leader.get(f"/api/v1/children/{a.pk}/history").json()
    items = history["items"] if isinstance(history, dict) else history
    assert any("督导检查" in (h["reason"] or "") for h in items)
    again = leader.post(f"{URL}/corrections/{check['id']}", {"accept": False}, content_type=J)
    assert again.status_code == 422


def test_a_rejected_correction_leaves_the_card(started):
    a = sampled(started)
    finding(started, a.pk, [{"field": "address", "correct": False, "found": "新村3组"}])
    check = started["client"].get(f"{URL}/{started['insp']['id']}/findings").json()[0]["checks"][0]
    leader = client_for(started["users"]["bq_leader"])
    r = leader.post(f"{URL}/corrections/{check['id']}", {"accept": False}, content_type=J)
    assert r.json()["correction"] == "rejected"
    a.refresh_from_db()
    assert a.address != "新村3组"


# --- rectification items -------------------------------------------------------------------


def raise_item(started, owner, who="inspector", **extra):
    c = client_for(started["users"][who]) if who != "inspector" else started["client"]
    body = {
        "inspection": started["insp"]["id"],
        "title": "补齐家访记录",
        "owner": owner.pk,
        "due_on": "2026-12-20",
        **extra,
    }
    return c.post(ITEMS, body, content_type=J)


def test_an_item_is_raised_done_with_evidence_and_closed(started):
    leader = started["users"]["bq_leader"]
    r = raise_item(started, leader)
    assert r.status_code == 201, r.content
    item = r.json()
    assert (item["status"], item["school"], item["owner_name"]) == ("open", "HS-BQ", "赵校长")
    lc = client_for(leader)
    # not yet done: the inspector cannot close it
    assert started["client"].post(f"{ITEMS}/{item['id']}/close").status_code == 422
    # the owner cannot close; he marks it done with evidence
    assert lc.post(f"{ITEMS}/{item['id']}/close").status_code == 403
    r = lc.post(f"{ITEMS}/{item['id']}/done", {"evidence": ""}, content_type=J)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("整改情况")
    r = lc.post(f"{ITEMS}/{item['id']}/done", {"evidence": "已补录 12 份"}, content_type=J)
    assert r.json()["status"] == "done"
    r = started["client"].post(f"{ITEMS}/{item['id']}/close")
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_item_scope(started):
    leader = started["users"]["bq_leader"]
    item = raise_item(started, started["teacher"]).json()
    for who, count in (("town", 1), ("inspector", 1), ("bq_leader", 1), ("zx_leader", 0)):
        assert client_for(started["users"][who]).get(ITEMS).json()["count"] == count, who
    teacher = client_for(started["teacher"])
    assert teacher.get(ITEMS).json()["count"] == 1  # her own
    assert client_for(started["users"]["zx_leader"]).get(f"{ITEMS}/{item['id']}").status_code == 404
    r = client_for(started["users"]["zx_leader"]).post(
        f"{ITEMS}/{item['id']}/done", {"evidence": "x"}, content_type=J
    )
    assert r.status_code == 404
    r = teacher.post(f"{ITEMS}/{item['id']}/done", {"evidence": "好了"}, content_type=J)
    assert r.status_code == 200
    assert client_for(started["teacher"]).post(f"{ITEMS}/{item['id']}/close").status_code == 403
    assert client_for(leader).get(f"{ITEMS}/{item['id']}").json()["evidence"] == "好了"


def test_items_filters_and_overdue(started, clock):
    raise_item(started, started["users"]["bq_leader"])
    c = started["client"]
    assert c.get(ITEMS, {"status": "open", "school": "HS-BQ"}).json()["count"] == 1
    assert c.get(ITEMS, {"status": "closed"}).json()["count"] == 0
    assert c.get(ITEMS).json()["items"][0]["overdue"] is False
    clock.move_to(dt.datetime(2026, 12, 21, 10, 0))
    c = client_for(started["users"]["inspector"])  # a new session: the old one timed out
    assert c.get(ITEMS).json()["items"][0]["overdue"] is True


@pytest.mark.parametrize("who", ["bq_leader", "zx_teacher31", "proxy_wang"])
def test_only_inspectors_raise_items(started, who):
    assert raise_item(started, started["users"]["bq_leader"], who=who).status_code == 403


def test_an_owner_from_another_school_is_refused(started):
    r = raise_item(started, started["users"]["zx_leader"])
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("责任人")


def test_home_panel_and_the_towns_view_by_school(started, clock):
    from guanai.inspections.services import home_panel, open_by_school

    leader = started["users"]["bq_leader"]
    raise_item(started, leader)
    clock.move_to(dt.datetime(2026, 12, 25, 10, 0))
    panel = home_panel(leader)
    assert [i.title for i in panel["items"]] == ["补齐家访记录"]
    assert home_panel(started["users"]["zx_leader"])["items"] == []
    (row,) = open_by_school(started["users"]["town"])
    assert (row["school"].code, row["open"], row["overdue"], row["oldest_days"]) == (
        "HS-BQ",
        1,
        1,
        26,
    )
    assert open_by_school(leader) == []
    html = client_for(started["users"]["town"]).get("/inspections/items/").content.decode()
    assert "已逾期" in html and "板桥小学" in html


def test_home_panel_template_names_the_overdue_item(started, clock):
    from django.template.loader import render_to_string

    from guanai.inspections.services import home_panel

    leader = started["users"]["bq_leader"]
    raise_item(started, leader)
    clock.move_to(dt.datetime(2026, 12, 25, 10, 0))
    html = render_to_string(
        "inspections/_home_panel.html", {"inspection_panel": home_panel(leader)}
    )
    assert "补齐家访记录" in html and "已逾期" in html
    empty = home_panel(started["users"]["zx_leader"])
    assert (
        render_to_string("inspections/_home_panel.html", {"inspection_panel": empty}).strip() == ""
    )


def test_the_list_shows_each_schools_card_accuracy(started):
    a, b = sampled(started, 0), sampled(started, 1)
    finding(started, a.pk, [{"field": "address", "correct": True}])
    finding(
        started,
        b.pk,
        [
            {"field": "guardian_phone", "correct": False, "found": "13700001111"},
            {"field": "guardian", "correct": True},
        ],
    )
    html = client_for(started["users"]["town"]).get("/inspections/").content.decode()
    assert "档卡准确率" in html and "66.7%" in html
    html = client_for(started["users"]["zx_leader"]).get("/inspections/").content.decode()
    assert "66.7%" not in html


def test_an_item_raised_from_a_checklist_item_or_a_finding(started):
    from guanai.inspections.models import Inspection

    insp = Inspection.objects.get(pk=started["insp"]["id"])
    item = insp.checklist.get(title="台账完整")
    a = sampled(started)
    f = finding(started, a.pk, [{"field": "address", "correct": False, "found": "新村"}]).json()
    leader = started["users"]["bq_leader"]
    r = raise_item(started, leader, checklist_item=item.pk, finding=f["id"])
    assert r.status_code == 201
    assert (r.json()["checklist_item"], r.json()["finding"]) == (item.pk, f["id"])
    r = raise_item(started, leader, checklist_item=10**9)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("检查项目")


def test_my_work_page_lists_my_overdue_items(started, clock):
    """整改 items surface on the owner's 我的待办, overdue in red; not on someone else's."""
    from django.urls import reverse

    leader = started["users"]["bq_leader"]
    raise_item(started, leader)
    clock.move_to(dt.datetime(2026, 12, 25, 10, 0))
    page = client_for(leader).get(reverse("pairing:work")).content.decode()
    assert "督导整改" in page and "补齐家访记录" in page and "已逾期" in page
    other = client_for(started["users"]["zx_leader"]).get(reverse("pairing:work"))
    assert other.status_code == 200 and "补齐家访记录" not in other.content.decode()
