"""/api/v1/inspections: the contract of SPEC §6.3 and the role tests of every route."""

import pytest
from django.test import Client

from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.inspections.models import Inspection
from guanai.testing import make_user

from .conftest import client_for

URL = "/api/v1/inspections"
BODY = {"school": "HS-BQ", "planned_on": "2026-12-10", "sample_size": 6, "seed": "督导-1"}
NOT_INSPECTORS = [
    "bq_leader",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "proxy_wang",
]


def draw(users, body=None, who="inspector"):
    return client_for(users[who]).post(URL, body or BODY, content_type="application/json")


def test_inspector_draws_a_sample_of_the_schools_left_behind_children(bq):
    r = draw(bq["users"])
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["school"] == "HS-BQ"
    assert data["planned_on"] == "2026-12-10"
    assert data["status"] == "planned"
    assert data["seed"] == "督导-1"
    assert len(data["sample"]) == 6
    kids = bq["kids"]
    eligible = {c.pk for k, c in kids.items() if k != "home"}
    assert {s["child"] for s in data["sample"]} <= eligible
    assert {s["grade"] for s in data["sample"]} == {1, 3, 5}  # every grade gets one
    first = data["sample"][0]
    assert set(first) == {"child", "child_name", "grade", "class_no", "category"}
    assert all(s["category"] in ("single", "double") for s in data["sample"])
    assert [s["grade"] for s in data["sample"]] == sorted(s["grade"] for s in data["sample"])


def test_town_admin_draws_too_and_the_seed_is_generated_when_absent(bq):
    body = {k: v for k, v in BODY.items() if k != "seed"}
    r = draw(bq["users"], body, who="town")
    assert r.status_code == 201
    seed = r.json()["seed"]
    assert seed and Inspection.objects.get(pk=r.json()["id"]).seed == seed


def test_same_school_day_and_seed_give_the_same_sample(bq):
    a = draw(bq["users"]).json()
    b = draw(bq["users"], who="town").json()
    assert a["id"] != b["id"]
    assert a["sample"] == b["sample"]


def test_a_larger_sample_than_the_eligible_children_takes_them_all(bq):
    r = draw(bq["users"], {**BODY, "sample_size": 500})
    assert r.status_code == 201
    assert len(r.json()["sample"]) == 13


@pytest.mark.parametrize("size", [0, -3])
def test_zero_or_negative_sample_size_is_refused_naming_the_field(bq, size):
    r = draw(bq["users"], {**BODY, "sample_size": size})
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["field"] == "sample_size" and item["msg"].startswith("抽样人数")
    assert not Inspection.objects.exists()


def test_bad_date_and_missing_school_name_their_fields_in_chinese(bq):
    r = draw(bq["users"], {"planned_on": "明天", "sample_size": 3})
    assert r.status_code == 422
    msgs = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert msgs["school"].startswith("学校") and msgs["planned_on"].startswith("计划日期")


@pytest.mark.parametrize("who", NOT_INSPECTORS)
def test_school_staff_may_not_draw(bq, who):
    assert draw(bq["users"], who=who).status_code == 403
    # scope and role come before the body: a bad body is still a 403
    r = draw(bq["users"], {"sample_size": "x"}, who=who)
    assert r.status_code == 403


def test_a_school_outside_the_inspectors_town_is_not_found(bq):
    from guanai.accounts.models import Role
    from guanai.testing import make_school, make_town

    other = make_town("白水镇")
    make_school("BS-01", "白水小学", town=other)
    assert draw(bq["users"], {**BODY, "school": "BS-01"}).status_code == 404
    assert draw(bq["users"], {**BODY, "school": "NOPE"}).status_code == 404
    stranger = make_user("bs_inspector", Role.INSPECTOR, town=other)
    insp = draw(bq["users"]).json()["id"]
    c = client_for(stranger)
    assert c.get(f"{URL}/{insp}").status_code == 404
    assert c.get(f"{URL}/{insp}/verify").status_code == 404


def test_anonymous_is_401(bq):
    assert Client().get(URL).status_code == 401
    assert Client().post(URL, BODY, content_type="application/json").status_code == 401


def test_list_detail_and_filters(bq):
    insp = draw(bq["users"]).json()
    c = client_for(bq["users"]["town"])
    r = c.get(URL, {"school": "HS-BQ", "status": "planned"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["items"][0] == insp
    assert c.get(URL, {"status": "closed"}).json()["count"] == 0
    assert c.get(URL, {"school": "HS-ZX"}).json()["count"] == 0
    assert c.get(f"{URL}/{insp['id']}").json() == insp
    assert c.get(URL, {"status": "bogus"}).status_code == 422


def test_leader_of_the_school_sees_the_inspection_but_not_its_sample_until_it_starts(bq):
    insp = draw(bq["users"]).json()
    leader = client_for(bq["users"]["bq_leader"])
    r = leader.get(f"{URL}/{insp['id']}")
    assert r.status_code == 200 and r.json()["sample"] is None and r.json()["school"] == "HS-BQ"
    assert r.json()["seed"] is None  # with the seed he could work the sample out himself
    assert leader.get(URL).json()["items"][0]["sample"] is None
    assert leader.get(f"{URL}/{insp['id']}/verify").status_code == 403
    started = client_for(bq["users"]["inspector"]).post(
        f"{URL}/{insp['id']}/status", {"status": "in_progress"}, content_type="application/json"
    )
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert leader.get(f"{URL}/{insp['id']}").json()["sample"] == insp["sample"]
    assert leader.get(f"{URL}/{insp['id']}").json()["seed"] == "督导-1"
    assert leader.get(f"{URL}/{insp['id']}/verify").json() == {"reproduced": True}
    # the leader cannot move it along
    r = leader.post(
        f"{URL}/{insp['id']}/status", {"status": "reported"}, content_type="application/json"
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    "who", ["zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor", "proxy_wang"]
)
def test_others_do_not_find_the_inspection(bq, who):
    insp = draw(bq["users"]).json()["id"]
    c = client_for(bq["users"][who])
    assert c.get(f"{URL}/{insp}").status_code == 404
    assert c.get(f"{URL}/{insp}/verify").status_code == 404
    assert c.get(URL).json()["count"] == 0


def test_verify_survives_card_changes_and_catches_a_tampered_sample(bq):
    insp = draw(bq["users"]).json()
    c = client_for(bq["users"]["inspector"])
    assert c.get(f"{URL}/{insp['id']}/verify").json() == {"reproduced": True}
    # a sampled child's parents come home: no longer eligible, the stored list still answers
    child = Child.objects.get(pk=insp["sample"][0]["child"])
    update_child(
        child=child,
        data={"father.status": "home", "mother.status": "home"},
        version=child.version,
        by=None,
        reason="父母返乡",
    )
    assert Child.objects.get(pk=child.pk).category == "none"
    assert c.get(f"{URL}/{insp['id']}/verify").json() == {"reproduced": True}
    row = Inspection.objects.get(pk=insp["id"])
    row.sample = [*row.sample[1:], bq["kids"]["home"].pk]
    row.save()
    assert c.get(f"{URL}/{insp['id']}/verify").json() == {"reproduced": False}


def test_status_moves_one_step_at_a_time(bq):
    insp = draw(bq["users"]).json()["id"]
    c = client_for(bq["users"]["inspector"])
    r = c.post(f"{URL}/{insp}/status", {"status": "closed"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("状态")
    for status in ("in_progress", "reported", "closed"):
        r = c.post(f"{URL}/{insp}/status", {"status": status}, content_type="application/json")
        assert r.status_code == 200 and r.json()["status"] == status


def test_list_query_count_is_fixed(bq, django_assert_max_num_queries):
    for _ in range(3):
        draw(bq["users"])
    c = client_for(bq["users"]["town"])
    with django_assert_max_num_queries(11):
        assert c.get(URL).json()["count"] == 3


def test_openapi_describes_the_routes(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/inspections" in paths and "/api/v1/inspections/{inspection_id}/verify" in paths
    assert "/api/v1/rectifications" in paths


def test_a_reinspection_links_to_the_earlier_one_of_the_same_school(bq, cast):
    first = draw(bq["users"]).json()
    r = draw(bq["users"], {**BODY, "previous": first["id"]})
    assert r.status_code == 201 and r.json()["previous"] == first["id"]
    zx = draw(bq["users"], {**BODY, "school": "HS-ZX"}).json()
    r = draw(bq["users"], {**BODY, "previous": zx["id"]})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("上次检查")
