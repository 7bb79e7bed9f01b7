"""The card's `xueji_category` and `GET /api/v1/children?xueji_mismatch=` (SPEC §6.3): where
the 学籍 system's 是否留守儿童 disagrees with the category derived from the card."""

import pytest

from guanai.children.models import Child
from guanai.children.xueji import expected_xueji, is_mismatch
from guanai.testing import make_child

# derived category → the parents' facts that give it
FACTS = {
    "single": {"father.status": "away", "mother.status": "home"},
    "double": {"father.status": "away", "mother.status": "away"},
    "none": {"father.status": "home", "mother.status": "home"},
    "migrant": {"father.status": "home", "mother.status": "home", "is_migrant": "是"},
    "unknown": {"father.status": "", "mother.status": ""},
}
# (derived, 学籍) → listed as a mismatch?
CASES = [
    ("single", "single", False),
    ("single", "double", True),
    ("single", "none", True),
    ("double", "double", False),
    ("double", "single", True),
    ("double", "none", True),
    ("none", "none", False),
    ("none", "single", True),
    ("migrant", "none", False),
    ("migrant", "double", True),
    ("unknown", "single", False),
    ("unknown", "none", False),
    ("single", None, False),
    ("none", None, False),
]


def child_with(cls, derived: str, xueji: str | None, name: str) -> Child:
    child = make_child(cls, name=name, **FACTS[derived])
    assert child.category == derived
    Child.objects.filter(pk=child.pk).update(xueji_category=xueji)
    child.refresh_from_db()
    return child


def api(client, user, query: str = "") -> dict:
    client.force_login(user)
    response = client.get("/api/v1/children" + query)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(("derived", "xueji", "listed"), CASES)
def test_mismatch_boundaries(client, cast, derived, xueji, listed):
    cls = cast["classes"]["bq31"]
    child = child_with(cls, derived, xueji, "对照")
    assert is_mismatch(child) is listed
    body = api(client, cast["users"]["bq_leader"], "?xueji_mismatch=true")
    assert (child.pk in {i["id"] for i in body["items"]}) is listed
    body = api(client, cast["users"]["bq_leader"], "?xueji_mismatch=false")
    assert (child.pk in {i["id"] for i in body["items"]}) is not listed


def test_expected_xueji_of_each_category():
    assert [expected_xueji(c) for c in ("single", "double", "migrant", "none", "unknown")] == [
        "single",
        "double",
        "none",
        "none",
        None,
    ]


def test_list_and_card_carry_xueji_category(client, cast):
    child = child_with(cast["classes"]["bq31"], "single", "double", "卡片")
    user = cast["users"]["bq_leader"]
    items = {i["id"]: i for i in api(client, user)["items"]}
    assert items[child.pk]["xueji_category"] == "double"
    assert items[cast["children"]["bq31a"].pk]["xueji_category"] is None
    card = client.get(f"/api/v1/children/{child.pk}").json()
    assert card["xueji_category"] == "double"
    card = client.get(f"/api/v1/children/{cast['children']['bq31a'].pk}").json()
    assert card["xueji_category"] is None


def test_mismatch_list_is_scoped(client, cast):
    zx31 = child_with(cast["classes"]["c31"], "double", "none", "甲")
    zx41 = child_with(cast["classes"]["c41"], "single", "double", "乙")
    bq = child_with(cast["classes"]["bq31"], "none", "double", "丙")
    users = cast["users"]
    seen = {
        name: {i["id"] for i in api(client, users[name], "?xueji_mismatch=true")["items"]}
        for name in users
    }
    assert seen["town"] == seen["inspector"] == {zx31.pk, zx41.pk, bq.pk}
    assert seen["zx_leader"] == seen["zx_counselor"] == {zx31.pk, zx41.pk}
    assert seen["zx_grade3"] == seen["zx_teacher31"] == {zx31.pk}
    assert seen["bq_leader"] == {bq.pk}
    assert seen["proxy_wang"] == set()
    body = api(client, users["town"], "?xueji_mismatch=true&school=HS-ZX")
    assert body["count"] == 2


def test_bad_mismatch_value_is_422(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.get("/api/v1/children?xueji_mismatch=maybe")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "xueji_mismatch"
