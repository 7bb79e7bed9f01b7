"""/api/v1/activities: every route for every demo role, bad input, coverage."""

import pytest

from guanai.activities import services
from guanai.activities.models import Participant

from .conftest import ALL, MANAGE_ZX, READ_BQ, READ_ZX, client_for

URL = "/api/v1/activities"
BODY = {
    "school": "HS-ZX",
    "kind": "summer_camp",
    "title": "暑期意志营",
    "goal": "磨炼意志",
    "starts_on": "2026-11-20",
    "ends_on": "2026-11-22",
    "place": "虎山镇中心小学",
    "organiser": "刘校长",
    "partners": "团委、妇联",
    "budget": "1500.50",
}


def fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


@pytest.mark.parametrize("who", sorted(ALL))
def test_reading_an_activity_follows_the_school_and_a_proxy_parents_children(who, users, acts):
    c = client_for(users[who])
    camp = c.get(f"{URL}/{acts['camp'].pk}")
    bq = c.get(f"{URL}/{acts['bq'].pk}")
    assert camp.status_code == (200 if who in READ_ZX | {"proxy_wang"} else 404)
    assert bq.status_code == (200 if who in READ_BQ else 404)
    listed = {a["id"] for a in c.get(URL).json()["items"]}
    expected = set()
    if who in READ_ZX | {"proxy_wang"}:
        expected |= {acts["camp"].pk, acts["proxy"].pk}
    if who in READ_BQ:
        expected.add(acts["bq"].pk)
    assert listed == expected


def test_an_activity_reads_back_its_plan_and_counts(users, acts):
    data = client_for(users["zx_leader"]).get(f"{URL}/{acts['camp'].pk}").json()
    assert data["kind"] == "summer_camp"
    assert data["kind_label"] == "暑期意志营"
    assert data["school_name"] == "虎山镇中心小学"
    assert data["participants"] == 3 and data["present"] == 0


def test_a_proxy_parent_does_not_see_an_activity_none_of_his_children_is_on(cast, users):
    from .conftest import plan

    safety = plan(cast["schools"]["zx"], users["zx_leader"], "safety", title="安全教育")
    assert client_for(users["proxy_wang"]).get(f"{URL}/{safety.pk}").status_code == 404
    assert client_for(users["zx_teacher31"]).get(f"{URL}/{safety.pk}").status_code == 200


@pytest.mark.parametrize("who", sorted(ALL))
def test_planning_is_for_the_schools_managers(who, users, cast):
    r = client_for(users[who]).post(URL, BODY, content_type="application/json")
    if who in MANAGE_ZX:
        assert r.status_code == 201, r.content
        assert r.json()["budget"] == "1500.50"
        assert r.json()["partners"] == "团委、妇联"
    elif who == "bq_leader":
        assert r.status_code == 404
    else:
        assert r.status_code == 403


def test_bad_input_is_rejected_naming_each_field_in_chinese(users, cast):
    c = client_for(users["zx_leader"])
    bad = BODY | {"kind": "party", "starts_on": "2026-13-01"}
    found = fields(c.post(URL, bad, content_type="application/json"))
    assert found["kind"].startswith("类型")
    assert found["starts_on"].startswith("开始日期")
    found = fields(c.post(URL, BODY | {"title": " "}, content_type="application/json"))
    assert found == {"title": "活动名称：请填写活动名称"}
    found = fields(c.post(URL, BODY | {"ends_on": "2026-11-01"}, content_type="application/json"))
    assert found["ends_on"] == "结束日期不能早于开始日期"
    found = fields(c.post(URL, BODY | {"budget": "-3"}, content_type="application/json"))
    assert found["budget"].startswith("预算")


def test_a_read_only_role_is_refused_before_the_body_is_read(users, cast):
    r = client_for(users["inspector"]).post(URL, {"junk": 1}, content_type="application/json")
    assert r.status_code == 403


@pytest.mark.parametrize("who", sorted(ALL))
def test_the_summary_is_written_by_the_schools_managers(who, users, acts):
    r = client_for(users[who]).patch(
        f"{URL}/{acts['camp'].pk}", {"summary": "三天，二十人参加"}, content_type="application/json"
    )
    if who in MANAGE_ZX:
        assert r.status_code == 200 and r.json()["summary"] == "三天，二十人参加"
    elif who == "bq_leader":
        assert r.status_code == 404
    else:
        assert r.status_code == 403


def test_patch_checks_dates_against_the_stored_plan(users, acts):
    r = client_for(users["zx_leader"]).patch(
        f"{URL}/{acts['camp'].pk}", {"ends_on": "2026-11-01"}, content_type="application/json"
    )
    assert fields(r)["ends_on"].startswith("结束日期")


@pytest.mark.parametrize("who", sorted(ALL))
def test_the_list_shows_only_the_children_the_user_sees(who, users, kids, acts):
    r = client_for(users[who]).get(f"{URL}/{acts['camp'].pk}/participants")
    if who not in READ_ZX | {"proxy_wang"}:
        assert r.status_code == 404
        return
    names = {p["child"] for p in r.json()}
    from guanai.testing import VISIBLE

    on_list = {"c31a", "c32a", "c41a"}
    assert names == {kids[k].pk for k in on_list & VISIBLE[who]}


@pytest.mark.parametrize("who", sorted(ALL))
def test_putting_children_on_the_list_is_for_managers(who, users, kids, acts):
    r = client_for(users[who]).post(
        f"{URL}/{acts['camp'].pk}/participants",
        {"children": [kids["c31b"].pk]},
        content_type="application/json",
    )
    if who in MANAGE_ZX:
        assert r.status_code == 200 and [p["child"] for p in r.json()] == [kids["c31b"].pk]
    elif who in ("bq_leader",):
        assert r.status_code == 404
    else:
        assert r.status_code == 403


def test_children_of_another_school_cannot_be_put_on_the_list(users, kids, acts):
    r = client_for(users["town"]).post(
        f"{URL}/{acts['camp'].pk}/participants",
        {"children": [kids["bq31a"].pk, kids["c31b"].pk]},
        content_type="application/json",
    )
    assert fields(r)["children"].startswith("儿童")
    assert not Participant.objects.filter(child=kids["c31b"]).exists()


def test_a_class_or_a_category_gives_the_candidates(users, cast, acts):
    leader = users["zx_leader"]
    by_class = services.candidates(leader, acts["camp"], klass=cast["classes"]["c31"].pk)
    assert {c.name for c in by_class} == {"张三", "单小明"}
    left = services.candidates(leader, acts["camp"], category="left_behind")
    assert {c.name for c in left} == {"张三", "单小明", "李四"}


# attendance: who may mark c31a at the proxy-parent activity and at the camp
MARK_C31A = {"town", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}


@pytest.mark.parametrize("who", sorted(ALL))
def test_attendance_follows_the_child_and_a_proxy_parent_marks_his_own_at_his_activity(
    who, users, kids, acts
):
    c = client_for(users[who])
    body = {"child": kids["c31a"].pk, "present": True}
    proxy = c.post(f"{URL}/{acts['proxy'].pk}/attendance", body, content_type="application/json")
    camp = c.post(f"{URL}/{acts['camp'].pk}/attendance", body, content_type="application/json")
    if who == "inspector":
        assert proxy.status_code == camp.status_code == 403
    elif who == "bq_leader":
        assert proxy.status_code == camp.status_code == 404
    elif who == "proxy_wang":
        assert proxy.status_code == 200 and proxy.json()["present"] is True
        assert camp.status_code == 403
    else:
        assert who in MARK_C31A
        assert proxy.status_code == camp.status_code == 200


def test_a_child_outside_the_scope_is_not_found(users, kids, acts):
    r = client_for(users["zx_teacher31"]).post(
        f"{URL}/{acts['camp'].pk}/attendance",
        {"child": kids["c32a"].pk, "present": True},
        content_type="application/json",
    )
    assert r.status_code == 404


def test_a_late_comer_is_added_when_marked(users, kids, acts):
    r = client_for(users["zx_teacher31"]).post(
        f"{URL}/{acts['camp'].pk}/attendance",
        {"child": kids["c31b"].pk, "present": True},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["late_added"] is True
    p = Participant.objects.get(activity=acts["camp"], child=kids["c31b"])
    assert p.present is True and p.marked_by == users["zx_teacher31"]


def test_attendance_bad_input(users, acts):
    r = client_for(users["zx_leader"]).post(
        f"{URL}/{acts['camp'].pk}/attendance",
        {"child": "x", "present": "maybe"},
        content_type="application/json",
    )
    found = fields(r)
    assert found["child"].startswith("儿童") and found["present"].startswith("是否到场")


def test_coverage_counts_left_behind_children_who_took_part_in_nothing(users, kids, acts):
    leader = users["zx_leader"]
    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=leader)
    services.mark(activity=acts["camp"], child=kids["c32a"], present=False, by=leader)
    rows = client_for(leader).get(f"{URL}/coverage").json()
    by_class = {(r["grade"], r["class_no"]): r for r in rows}
    # c31a came; c31b (single) was never listed; c32a was absent; c41a is not left-behind
    assert by_class[(3, 1)]["left_behind"] == 2 and by_class[(3, 1)]["reached"] == 1
    assert [x["name"] for x in by_class[(3, 1)]["not_reached"]] == ["单小明"]
    assert by_class[(3, 2)]["reached"] == 0
    assert (4, 1) not in by_class
    # a teacher sees only her class
    rows = client_for(users["zx_teacher31"]).get(f"{URL}/coverage").json()
    assert [(r["grade"], r["class_no"]) for r in rows] == [(3, 1)]


@pytest.mark.clock("2027-03-10")
def test_last_terms_activities_do_not_count_this_term(users, kids, acts):
    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=users["zx_leader"])
    rows = client_for(users["zx_leader"]).get(f"{URL}/coverage").json()
    assert {r["reached"] for r in rows} == {0}
    old = client_for(users["zx_leader"]).get(f"{URL}/coverage?term=2026-2027-1").json()
    assert sum(r["reached"] for r in old) == 1
    assert fields(client_for(users["zx_leader"]).get(f"{URL}/coverage?term=x"))["term"]


def test_activities_for_child_lists_what_the_card_shows(users, kids, acts):
    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=users["zx_leader"])
    rows = services.activities_for_child(kids["c31a"], users["zx_teacher31"])
    assert [(r["activity"].title, r["status"]) for r in rows] in (
        [("暑期意志营", "参加"), ("代理家长见面会", "未点名")],
        [("代理家长见面会", "未点名"), ("暑期意志营", "参加")],
    )
    assert services.activities_for_child(kids["c31a"], users["bq_leader"]) == []
