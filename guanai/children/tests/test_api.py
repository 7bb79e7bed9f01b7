"""The children API of SPEC §6.3: shapes, enums, filters, masking, versions, history."""

import datetime as dt

import pytest

from guanai.accounts.models import AccessLog, ApiToken
from guanai.children.models import Child
from guanai.testing import DEMO_PASSWORD, make_child


def bearer(client, username, password=DEMO_PASSWORD):
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def test_token_round_trip_and_stored_as_sha256(client, cast):
    headers = bearer(client, "zx_teacher31")
    token = headers["HTTP_AUTHORIZATION"].split()[1]
    assert ApiToken.objects.filter(key_hash=ApiToken.digest(token)).exists()
    assert not ApiToken.objects.filter(key_hash=token).exists()
    response = client.get("/api/v1/children", **headers)
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_bad_token_and_no_token_answer_401(client, cast):
    assert client.get("/api/v1/children").status_code == 401
    response = client.get("/api/v1/children", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401


def test_wrong_password_answers_401_in_chinese(client, cast):
    response = client.post(
        "/api/v1/auth/token", {"username": "town", "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert "密码" in response.json()["detail"]


def test_token_request_with_missing_field_is_422(client, cast):
    response = client.post(
        "/api/v1/auth/token", {"username": "town"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "password"


def test_list_item_shape_and_masking(client, cast):
    headers = bearer(client, "zx_leader")
    body = client.get("/api/v1/children", **headers).json()
    assert set(body) == {"items", "count"}
    item = body["items"][0]
    for key in (
        "id",
        "name",
        "gender",
        "birth_date",
        "school",
        "grade",
        "class_no",
        "category",
        "id_number",
    ):
        assert key in item
    assert item["school"] == "HS-ZX"
    assert isinstance(item["grade"], int) and isinstance(item["class_no"], int)
    assert item["gender"] in ("male", "female")
    assert "*" in item["id_number"] and len(item["id_number"]) == 18
    assert [i["id"] for i in body["items"]] == sorted(i["id"] for i in body["items"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"school": "HS-ZX"}, {"c31a", "c31b", "c32a", "c41a"}),
        ({"school": "HS-BQ"}, {"bq31a"}),
        ({"grade": 3}, {"c31a", "c31b", "c32a", "bq31a"}),
        ({"grade": 3, "class_no": 2}, {"c32a"}),
        ({"category": "single"}, {"c31b"}),
        ({"category": "none"}, {"c41a"}),
        ({"category": "double"}, {"c31a", "c32a", "bq31a", "gt"}),
        ({"q": "zs"}, {"c31a"}),
        ({"q": "张"}, {"c31a"}),
        ({"q": "shanxiao"}, {"c31b"}),  # 单 read as shàn, not only dān
        ({"q": "sxm"}, {"c31b"}),
        ({"q": "dxm"}, {"c31b"}),
    ],
)
def test_list_filters(client, cast, params, expected):
    client.force_login(cast["users"]["town"])
    body = client.get("/api/v1/children", params).json()
    kids = cast["children"]
    assert {i["id"] for i in body["items"]} == {kids[k].pk for k in expected}


def test_search_by_full_id_and_last4(client, cast):
    client.force_login(cast["users"]["town"])
    child = cast["children"]["bq31a"]
    for q in (child.id_number, child.id_number.lower(), child.id_number[-4:]):
        ids = [i["id"] for i in client.get("/api/v1/children", {"q": q}).json()["items"]]
        assert child.pk in ids


@pytest.mark.parametrize(
    "params",
    [
        {"category": "left"},
        {"grade": "three"},
        {"grade": 13},
        {"class_no": 0},
        {"page": 0},
        {"page": "x"},
    ],
)
def test_bad_filters_answer_422(client, cast, params):
    client.force_login(cast["users"]["town"])
    response = client.get("/api/v1/children", params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_pagination_and_page_size_cap(client, cast):
    client.force_login(cast["users"]["town"])
    body = client.get("/api/v1/children", {"page_size": 2, "page": 2}).json()
    assert body["count"] == 6 and len(body["items"]) == 2
    capped = client.get("/api/v1/children", {"page_size": 100000}).json()
    assert len(capped["items"]) == 6


def test_list_query_count_is_constant(client, cast, django_assert_max_num_queries):
    client.force_login(cast["users"]["town"])
    for i in range(10):
        make_child(cast["classes"]["c31"], name=f"学生{i}")
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/children").status_code == 200


def test_card_full_id_is_logged(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    card = client.get(f"/api/v1/children/{child.pk}").json()
    assert card["id_number"] == child.id_number
    assert card["father"]["status"] == "away"
    assert card["guardian"]["phone"] == "13912345678"
    log = AccessLog.objects.get(child=child)
    assert log.username == "zx_teacher31" and log.action == "view_id_number"


def test_inspector_sees_masked_id_only(client, cast):
    child = cast["children"]["gt"]
    client.force_login(cast["users"]["inspector"])
    card = client.get(f"/api/v1/children/{child.pk}").json()
    assert card["id_number"] == child.id_number_masked
    assert child.id_number not in str(card)


def test_proxy_card_is_reduced(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["proxy_wang"])
    card = client.get(f"/api/v1/children/{child.pk}").json()
    for key in ("id_number", "health", "disability", "psych_summary"):
        assert key not in card
    assert card["name"] == child.name
    assert not AccessLog.objects.exists()


def test_patch_changes_guardian_and_parent_with_history(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {
            "version": child.version,
            "reason": "家访核实",
            "guardian": {"phone": "139-0000-1111"},
            "father": {"status": "home"},
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["guardian"]["phone"] == "13900001111"
    assert card["category"] == "single"  # father home and able to care, mother away
    child.refresh_from_db()
    assert child.category == card["category"]


def test_patch_father_home_makes_single(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "father": {"status": "home"}},
        content_type="application/json",
    )
    assert response.json()["category"] == "single"
    assert response.json()["version"] == child.version + 1
    history = client.get(f"/api/v1/children/{child.pk}/history").json()
    assert history["count"] >= 2
    latest = history["items"][0]
    assert set(latest) == {"at", "by", "reason", "changes"}
    fields = {c["field"] for e in history["items"] for c in e["changes"]}
    assert "father.status" in fields and "category" in fields
    change = next(
        c for e in history["items"] for c in e["changes"] if c["field"] == "father.status"
    )
    assert (change["old"], change["new"]) == ("away", "home")
    assert latest["by"] == "zx_teacher31"


def test_stale_version_answers_409_and_changes_nothing(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    first = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "village": "甲村"},
        content_type="application/json",
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "village": "乙村"},
        content_type="application/json",
    )
    assert second.status_code == 409
    assert "重新" in second.json()["detail"]
    child.refresh_from_db()
    assert child.village == "甲村"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gender": "boy"}, "gender"),
        ({"birth_date": "2015-02-30"}, "birth_date"),
        ({"father": {"status": "working"}}, "father.status"),
        ({"guardian": {"phone": "12345"}}, "guardian.phone"),
        ({"id_number": "430102201503021231"}, "id_number"),
        ({"birth_date": "2010-01-01"}, "birth_date"),  # contradicts the ID number
        ({"name": ""}, "name"),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"latitude": 123}, "latitude"),
        ({"tags": ["rich"]}, "tags"),
        ({"grade": 9, "class_no": 9}, "class_no"),
    ],
)
def test_bad_body_answers_422_naming_field_in_chinese(client, cast, body, field):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "village": "不应保存", **body},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    details = response.json()["detail"]
    assert any(d["field"] == field for d in details), details
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d["msg"]) for d in details)
    child.refresh_from_db()
    assert child.village != "不应保存"  # nothing half-written


def test_patch_missing_version_is_422(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}", {"village": "x"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "version"


def test_patch_id_of_child_at_other_school_names_that_school(client, cast):
    child = cast["children"]["c31a"]
    other = cast["children"]["bq31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {
            "version": child.version,
            "id_number": other.id_number,
            "birth_date": other.birth_date.isoformat(),
            "gender": other.gender,
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "板桥小学" in response.json()["detail"][0]["msg"]


def test_move_to_other_class_of_same_school(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_leader"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "class_no": 2},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["grade"], response.json()["class_no"]) == (3, 2)


def test_proxy_cannot_patch(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["proxy_wang"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "village": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_openapi_and_healthz(client, cast):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/children" in paths and "/api/v1/auth/token" in paths
    assert spec.json()["openapi"].startswith("3.")
    assert client.get("/healthz").status_code == 200


def test_history_lists_creation(client, cast):
    child = cast["children"]["c41a"]
    client.force_login(cast["users"]["town"])
    items = client.get(f"/api/v1/children/{child.pk}/history").json()["items"]
    assert items and all(dt.datetime.fromisoformat(i["at"]) for i in items)
    assert Child.objects.get(pk=child.pk).history.count() == 1
