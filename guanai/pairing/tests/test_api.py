"""/api/v1/pairs, scoped through the child: inside-scope and outside-scope cases for every route.

Mounted here by a test URLconf exactly as guanai/api.py mounts it (`/api/v1/pairs`).
"""

import pytest
from django.test import Client

from guanai.pairing.models import Pair
from guanai.pairing.services import propose_pairs

URL = "/api/v1/pairs"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def drafts(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    return {p.child_id: p for p in saved}


def draft_of(drafts, school, key):
    return drafts[school["kids"][key].pk]


def test_list_needs_a_login(drafts):
    assert Client().get(URL).status_code == 401


@pytest.mark.parametrize(
    "login, children",
    [
        ("zx_leader", {"c31a", "c31b", "c32a"}),
        ("zx_grade3", {"c31a", "c31b", "c32a"}),
        ("zx_teacher31", {"c31a", "c31b"}),
        ("proxy_wang", {"c31a", "c32a"}),
        ("inspector", {"c31a", "c31b", "c32a"}),
        ("bq_leader", set()),
    ],
)
def test_list_shows_the_pairs_whose_child_is_in_scope(users, school, drafts, login, children):
    body = client_for(users[login]).get(URL).json()
    assert body["count"] == len(children)
    assert {item["child"] for item in body["items"]} == {school["kids"][k].pk for k in children}


def test_list_item_shape_filters_and_order(users, school, drafts):
    client = client_for(users["zx_leader"])
    body = client.get(URL, {"school": "HS-ZX", "status": "draft"}).json()
    assert [i["id"] for i in body["items"]] == sorted(i["id"] for i in body["items"])
    item = next(i for i in body["items"] if i["child"] == school["kids"]["c31a"].pk)
    assert item["buddy"] == school["buddies"]["liu"].pk
    assert (item["child_name"], item["buddy_name"], item["school"]) == ("张三", "刘一", "HS-ZX")
    assert (item["status"], item["explanation"]) == ("draft", "同村同组，相差 8 天")
    assert item["follow_teacher"] == "王老师"
    assert item["cost"] == pytest.approx(8 / 365, abs=1e-6)
    assert client.get(URL, {"status": "active"}).json()["count"] == 0
    assert client.get(URL, {"school": "HS-BQ"}).json()["count"] == 0
    assert client.get(URL, {"status": "nonsense"}).status_code == 422


def test_list_pins_its_query_count(users, school, drafts, django_assert_max_num_queries):
    client = client_for(users["zx_leader"])
    client.get(URL)  # warm the session
    # session, user, roles, count, page, and the session saved on every request (idle timeout)
    with django_assert_max_num_queries(8):
        assert client.get(URL).json()["count"] == 3


def test_get_one_pair_in_and_out_of_scope(users, school, drafts):
    pair = draft_of(drafts, school, "c32a")
    assert client_for(users["zx_grade3"]).get(f"{URL}/{pair.pk}").status_code == 200
    assert client_for(users["zx_teacher31"]).get(f"{URL}/{pair.pk}").status_code == 404
    assert client_for(users["bq_leader"]).get(f"{URL}/{pair.pk}").status_code == 404


def test_propose_answers_the_command_shape(users, school):
    client = client_for(users["zx_leader"])
    resp = client.post(
        f"{URL}/propose", {"school": "HS-ZX", "dry_run": True}, content_type="application/json"
    )
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["pairs", "unpaired", "total_cost"]
    assert {(p["child"], p["buddy"]) for p in body["pairs"]} == school["expected"]
    assert not Pair.objects.exists()
    resp = client.post(f"{URL}/propose", {"school": "HS-ZX"}, content_type="application/json")
    assert resp.status_code == 200
    assert Pair.objects.filter(status="draft", created_by=users["zx_leader"]).count() == 3


@pytest.mark.parametrize(
    "login, code, status",
    [
        ("town", "HS-BQ", 200),
        ("zx_leader", "HS-ZX", 200),
        ("bq_leader", "HS-ZX", 404),
        ("zx_leader", "NOPE", 404),
        ("zx_teacher31", "HS-ZX", 403),
        ("zx_grade3", "HS-ZX", 403),
        ("inspector", "HS-ZX", 403),
        ("proxy_wang", "HS-BQ", 404),
    ],
)
def test_propose_scope(users, school, login, code, status):
    resp = client_for(users[login]).post(
        f"{URL}/propose", {"school": code, "dry_run": True}, content_type="application/json"
    )
    assert resp.status_code == status, resp.content


def test_propose_rejects_a_bad_body(users, school):
    resp = client_for(users["zx_leader"]).post(
        f"{URL}/propose", {"dry_run": True}, content_type="application/json"
    )
    assert resp.status_code == 422


def test_accept_in_scope_out_of_scope_and_read_only(users, school, drafts):
    zhang, li = draft_of(drafts, school, "c31a"), draft_of(drafts, school, "c32a")
    teacher = client_for(users["zx_teacher31"])
    assert teacher.post(f"{URL}/{li.pk}/accept").status_code == 404
    assert client_for(users["bq_leader"]).post(f"{URL}/{zhang.pk}/accept").status_code == 404
    assert client_for(users["inspector"]).post(f"{URL}/{zhang.pk}/accept").status_code == 403
    assert client_for(users["proxy_wang"]).post(f"{URL}/{zhang.pk}/accept").status_code == 403
    resp = teacher.post(f"{URL}/{zhang.pk}/accept")
    assert resp.status_code == 200
    assert resp.json()["status"] == "active" and resp.json()["accepted_at"]
    again = teacher.post(f"{URL}/{zhang.pk}/accept")
    assert again.status_code == 409 and "草稿" in again.json()["detail"]


def test_end_with_a_reason(users, school, drafts):
    zhang = draft_of(drafts, school, "c31a")
    client = client_for(users["zx_leader"])
    client.post(f"{URL}/{zhang.pk}/accept")
    assert (
        client.post(f"{URL}/{zhang.pk}/end", {}, content_type="application/json").status_code == 422
    )
    assert (
        client_for(users["inspector"])
        .post(f"{URL}/{zhang.pk}/end", {"reason": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for(users["bq_leader"])
        .post(f"{URL}/{zhang.pk}/end", {"reason": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    resp = client.post(
        f"{URL}/{zhang.pk}/end", {"reason": "父母返乡"}, content_type="application/json"
    )
    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["end_reason"]) == ("ended", "父母返乡")


def test_swap_answers_the_cost_change_and_hides_out_of_scope_buddies(users, school, drafts):
    zhang = draft_of(drafts, school, "c31a")
    teacher = client_for(users["zx_teacher31"])
    wang = school["kids"]["c41a"]  # grade 4: outside 王老师's class
    resp = teacher.post(
        f"{URL}/{zhang.pk}/swap", {"buddy": wang.pk}, content_type="application/json"
    )
    assert resp.status_code == 404
    chen = school["buddies"]["chen"]
    resp = teacher.post(
        f"{URL}/{zhang.pk}/swap", {"buddy": chen.pk}, content_type="application/json"
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["pair"]["buddy"] == chen.pk
    assert body["cost_change"] == pytest.approx(104 / 365, abs=2e-6)
    bq = school["buddies"]["bq_perfect"]
    resp = client_for(users["town"]).post(
        f"{URL}/{zhang.pk}/swap", {"buddy": bq.pk}, content_type="application/json"
    )
    assert resp.status_code == 409 and "本校" in resp.json()["detail"]


@pytest.mark.parametrize(
    "login, body, status",
    [
        ("zx_teacher31", {"school": "HS-ZX", "grade": 3, "class_no": 1}, 200),
        ("zx_grade3", {"school": "HS-ZX", "grade": 3, "class_no": 2}, 200),
        ("zx_leader", {"school": "HS-ZX", "grade": 4, "class_no": 1}, 200),
        ("zx_teacher31", {"school": "HS-ZX", "grade": 3, "class_no": 2}, 404),
        ("zx_grade3", {"school": "HS-ZX", "grade": 4, "class_no": 1}, 404),
        ("bq_leader", {"school": "HS-ZX", "grade": 3, "class_no": 1}, 404),
        ("inspector", {"school": "HS-ZX", "grade": 3, "class_no": 1}, 403),
        ("zx_counselor", {"school": "HS-ZX", "grade": 3, "class_no": 1}, 403),
        ("proxy_wang", {"school": "HS-ZX", "grade": 3, "class_no": 1}, 404),
        ("zx_leader", {"school": "HS-ZX", "grade": 9, "class_no": 1}, 404),
    ],
)
def test_propose_for_one_class_scope(users, school, login, body, status):
    resp = client_for(users[login]).post(
        f"{URL}/propose", body | {"dry_run": True}, content_type="application/json"
    )
    assert resp.status_code == status, resp.content


def test_propose_for_one_class_pairs_within_it(users, school):
    resp = client_for(users["zx_teacher31"]).post(
        f"{URL}/propose",
        {"school": "HS-ZX", "grade": 3, "class_no": 1},
        content_type="application/json",
    )
    kids, buddies = school["kids"], school["buddies"]
    assert {(p["child"], p["buddy"]) for p in resp.json()["pairs"]} == {
        (kids["c31a"].pk, buddies["liu"].pk),
        (kids["c31b"].pk, buddies["chen"].pk),
    }
    assert Pair.objects.filter(created_by=users["zx_teacher31"]).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"school": "HS-ZX", "grade": 3},
        {"school": "HS-ZX", "class_no": 1},
        {"school": "HS-ZX", "grade": 13, "class_no": 1},
        {"school": "HS-ZX", "grade": "三", "class_no": 1},
        {"school": "HS-ZX", "grade": 3, "class_no": 1, "extra": 1},
    ],
)
def test_propose_for_one_class_rejects_a_bad_body(users, school, body):
    resp = client_for(users["zx_leader"]).post(
        f"{URL}/propose", body, content_type="application/json"
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["msg"]


def test_accept_many_all_or_none(users, school, drafts):
    zhang, shan, li = (draft_of(drafts, school, k) for k in ("c31a", "c31b", "c32a"))
    teacher = client_for(users["zx_teacher31"])
    resp = teacher.post(
        f"{URL}/accept", {"pairs": [zhang.pk, li.pk]}, content_type="application/json"
    )
    assert resp.status_code == 404  # 李四 is outside her class
    assert not Pair.objects.active().exists()
    resp = client_for(users["proxy_wang"]).post(
        f"{URL}/accept", {"pairs": [zhang.pk]}, content_type="application/json"
    )
    assert resp.status_code == 403
    resp = teacher.post(
        f"{URL}/accept", {"pairs": [zhang.pk, shan.pk]}, content_type="application/json"
    )
    assert resp.status_code == 200
    assert [p["status"] for p in resp.json()] == ["active", "active"]
    again = teacher.post(f"{URL}/accept", {"pairs": [zhang.pk]}, content_type="application/json")
    assert again.status_code == 409
    for bad in ({}, {"pairs": []}, {"pairs": ["x"]}):
        assert (
            teacher.post(f"{URL}/accept", bad, content_type="application/json").status_code == 422
        )


def test_follow_teacher_by_username(users, school, drafts):
    zhang = draft_of(drafts, school, "c31a")
    leader = client_for(users["zx_leader"])
    resp = leader.post(
        f"{URL}/{zhang.pk}/follow", {"teacher": "zx_grade3"}, content_type="application/json"
    )
    assert resp.status_code == 200 and resp.json()["follow_teacher"] == "陈主任"
    resp = leader.post(
        f"{URL}/{zhang.pk}/follow", {"teacher": "bq_leader"}, content_type="application/json"
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["field"] == "teacher"
    assert "跟踪教师" in resp.json()["detail"][0]["msg"]
    assert (
        leader.post(f"{URL}/{zhang.pk}/follow", {}, content_type="application/json").status_code
        == 422
    )
    resp = leader.post(
        f"{URL}/{zhang.pk}/follow", {"teacher": None}, content_type="application/json"
    )
    assert resp.status_code == 200 and resp.json()["follow_teacher"] is None
    for login, status in (("inspector", 403), ("bq_leader", 404), ("proxy_wang", 403)):
        resp = client_for(users[login]).post(
            f"{URL}/{zhang.pk}/follow", {"teacher": None}, content_type="application/json"
        )
        assert resp.status_code == status, login
