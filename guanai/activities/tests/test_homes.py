"""/api/v1/homes: sites, door sign-in and sign-out, family calls as contacts, monthly use."""

import pytest

from guanai.activities import homes
from guanai.activities.models import HomeVisit
from guanai.contacts.models import Contact

from .conftest import ALL, READ_BQ, client_for

URL = "/api/v1/homes"
BODY = {"school": "HS-BQ", "name": "板桥留守儿童之家", "opening_hours": "周一至周五 16:00-18:00"}
SIGN_BQ = {"town", "bq_leader"}  # who may contact bq31a


def fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


@pytest.fixture
def home(cast):
    return homes.create_home(
        school=cast["schools"]["bq"],
        values={"name": "板桥留守儿童之家", "equipment": "亲情电话、图书"},
        by=cast["users"]["bq_leader"],
    )


@pytest.mark.parametrize("who", sorted(ALL))
def test_setting_up_a_home_is_for_the_schools_managers(who, users, cast):
    r = client_for(users[who]).post(URL, BODY, content_type="application/json")
    if who in SIGN_BQ:
        assert r.status_code == 201, r.content
    else:
        assert r.status_code == (
            403
            if who in ("inspector", "zx_grade3", "zx_teacher31", "zx_counselor", "proxy_wang")
            else 404
        )


def test_home_bad_input(users, cast):
    found = fields(
        client_for(users["bq_leader"]).post(
            URL, BODY | {"name": ""}, content_type="application/json"
        )
    )
    assert found == {"name": "名称：请填写名称"}


@pytest.mark.parametrize("who", sorted(ALL))
def test_reading_a_home_follows_the_school(who, users, home):
    c = client_for(users[who])
    expected = 200 if who in READ_BQ else 404
    for path in ("", "/visits", "/use", "/never-came"):
        assert c.get(f"{URL}/{home.pk}{path}").status_code == expected, path
    assert len(c.get(URL).json()["items"]) == (1 if who in READ_BQ else 0)


@pytest.mark.parametrize("who", sorted(ALL))
def test_door_sign_in_and_out(who, users, kids, home):
    c = client_for(users[who])
    body = {"child": kids["bq31a"].pk}
    r = c.post(f"{URL}/{home.pk}/visits", body, content_type="application/json")
    if who == "inspector":
        assert r.status_code == 403
        return
    if who not in SIGN_BQ:
        assert r.status_code == 404
        return
    assert r.status_code == 201
    again = c.post(f"{URL}/{home.pk}/visits", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert [v["name"] for v in c.get(f"{URL}/{home.pk}/visits").json()] == ["赵六"]
    out = c.post(
        f"{URL}/{home.pk}/visits", body | {"action": "out"}, content_type="application/json"
    )
    assert out.status_code == 200 and out.json()["signed_out_at"]
    assert c.get(f"{URL}/{home.pk}/visits").json() == []
    found = fields(
        c.post(f"{URL}/{home.pk}/visits", body | {"action": "out"}, content_type="application/json")
    )
    assert found["child"] == "儿童：这名儿童还没有签到"


def test_sign_in_bad_input(users, home):
    found = fields(
        client_for(users["bq_leader"]).post(
            f"{URL}/{home.pk}/visits",
            {"child": 0, "action": "sleep"},
            content_type="application/json",
        )
    )
    assert found["child"].startswith("儿童") and found["action"].startswith("操作")


def test_a_family_call_is_logged_as_a_contact(users, kids, home):
    c = client_for(users["bq_leader"])
    body = {"child": kids["bq31a"].pk, "with_whom": "母亲 李红", "notes": "视频通话十分钟"}
    r = c.post(f"{URL}/{home.pk}/calls", body, content_type="application/json")
    assert r.status_code == 201, r.content
    contact = Contact.objects.get(pk=r.json()["contact"])
    assert contact.kind == "family_call" and contact.child == kids["bq31a"]
    assert contact.by == users["bq_leader"] and contact.with_whom == "母亲 李红"
    found = fields(
        c.post(f"{URL}/{home.pk}/calls", body | {"with_whom": ""}, content_type="application/json")
    )
    assert found["with_whom"].startswith("通话的家长")
    assert (
        client_for(users["inspector"])
        .post(f"{URL}/{home.pk}/calls", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for(users["zx_leader"])
        .post(f"{URL}/{home.pk}/calls", body, content_type="application/json")
        .status_code
        == 404
    )


def test_monthly_use_and_children_who_never_came(users, kids, cast, home):
    from guanai.testing import make_child

    other = make_child(cast["classes"]["bq31"], name="钱八")
    leader = users["bq_leader"]
    homes.sign_in(home=home, child=kids["bq31a"], by=leader)
    homes.sign_out(home=home, child=kids["bq31a"], by=leader)
    homes.sign_in(home=home, child=kids["bq31a"], by=leader)
    c = client_for(leader)
    use = c.get(f"{URL}/{home.pk}/use").json()
    assert use["month"] == "2026-11" and use["visits"] == 2 and use["children"] == 1
    assert use["per_child"] == [{"child": kids["bq31a"].pk, "name": "赵六", "visits": 2}]
    assert c.get(f"{URL}/{home.pk}/use?month=2026-10").json()["visits"] == 0
    assert fields(c.get(f"{URL}/{home.pk}/use?month=11月"))["month"].startswith("月份")
    assert [x["name"] for x in c.get(f"{URL}/{home.pk}/never-came").json()] == [other.name]
    assert HomeVisit.objects.count() == 2
