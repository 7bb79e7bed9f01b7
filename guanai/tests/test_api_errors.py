"""One API convention (SPEC §6.3, issue #11): every bad input answers 422 with the same
`{"detail": [{"loc", "field", "msg"}]}`, each message in Chinese naming the field in the words
of the routes it was sent to; every list pages in the database."""

import json

import pytest

from guanai.screening import services as screening
from guanai.screening.models import VerificationRound


def _post(client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("user", "url", "body", "field", "msg"),
    [
        # ninja's validation, in each router's words
        ("zx_leader", "/api/v1/responsibilities", {"school": "HS-ZX"}, "kind", "类型：必填"),
        ("zx_teacher31", "/api/v1/contacts", {"child": 1}, "kind", "联系方式：必填"),
        ("zx_leader", "/api/v1/visit-rounds", {"since": "2026-12-01"}, "until", "结束日期：必填"),
        # services' and views' Invalid, formerly three helpers
        (
            "zx_leader",
            "/api/v1/screenings",
            {"school": "HS-ZX", "term": "2026"},
            "term",
            "学期“2026”",
        ),
        ("zx_leader", "/api/v1/proxy-parents", {}, "name", "姓名：必填"),
    ],
)
def test_every_bad_input_has_one_shape(client, users, user, url, body, field, msg):
    client.force_login(users[user])
    response = _post(client, url, body)
    assert response.status_code == 422, response.content.decode()
    detail = response.json()["detail"]
    assert all(set(item) == {"loc", "field", "msg"} for item in detail)
    named = {item["field"]: item for item in detail}
    assert named[field]["msg"].startswith(msg), named[field]
    assert named[field]["loc"][0] == "body"


def test_a_view_raises_the_same_invalid(client, users, records):
    client.force_login(users["zx_leader"])
    url = f"/api/v1/pairs/{records['pair_id']}/follow"
    response = _post(client, url, {"teacher": "nobody"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "teacher"],
            "field": "teacher",
            "msg": "跟踪教师：nobody 不是虎山镇中心小学的教职工",
        }
    ]


@pytest.mark.parametrize("url", ["/api/v1/screenings", "/api/v1/verifications", "/api/v1/imports"])
def test_screening_lists_page_like_every_list(client, cast, users, url):
    zx = cast["schools"]["zx"]
    for term in ("2024-2025-1", "2024-2025-2", "2025-2026-1"):
        screening.open_campaign(school=zx, term=term, by=users["zx_leader"])
        if url == "/api/v1/verifications":
            VerificationRound.objects.create(
                school=zx, term=term, vacation="winter", deadline="2027-01-15"
            )
    client.force_login(users["zx_leader"])
    first = client.get(url, {"page_size": 1}).json()
    expected = 0 if url == "/api/v1/imports" else 3
    assert first["count"] == expected and len(first["items"]) == min(1, expected)
    second = client.get(url, {"page": 2, "page_size": 1}).json()
    if expected:
        assert second["items"][0]["term"] == "2024-2025-2"  # newest term first
    assert client.get(url, {"page_size": 501}).status_code == 200  # capped, like every list
    assert client.get(url, {"page_size": 0}).status_code == 422
