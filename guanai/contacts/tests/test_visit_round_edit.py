"""Changing a 普访 round (name, dates, notes): who may (page and API, every demo role, in and
out of scope), bad input, the history, and that coverage follows the new dates."""

import datetime as dt

import pytest
from django.urls import reverse

from guanai.testing import VISIBLE

from .helpers import add_contact, at
from .test_visit_rounds import SEES, URL, new_round

ROLES = list(VISIBLE)
# who may change each round: those who may create a round for its town or school
CHANGES = {
    "town": {"town", "zx", "bq"},
    "zx_leader": {"zx"},
    "bq_leader": {"bq"},
}


@pytest.fixture
def rounds(cast):
    return {
        "town": new_round(cast, name="全镇普访"),
        "zx": new_round(cast, school="zx", name="中心小学普访"),
        "bq": new_round(cast, school="bq", name="板桥小学普访"),
    }


def expected(role: str, which: str) -> int:
    if which not in SEES[role]:
        return 404
    return 200 if which in CHANGES.get(role, set()) else 403


def patch(client, visit_round, **body):
    return client.patch(f"{URL}/{visit_round.pk}", body, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["town", "zx", "bq"])
def test_patch_scope(client, cast, rounds, role, which):
    client.force_login(cast["users"][role])
    response = patch(client, rounds[which], name="改过的名字")
    assert response.status_code == expected(role, which)
    rounds[which].refresh_from_db()
    changed = rounds[which].name == "改过的名字"
    assert changed == (response.status_code == 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["town", "zx", "bq"])
def test_edit_page_scope(client, cast, rounds, role, which):
    client.force_login(cast["users"][role])
    url = reverse("contacts:round_edit", args=[rounds[which].pk])
    assert client.get(url).status_code == expected(role, which)
    response = client.post(
        url,
        {
            "name": "页面改名",
            "since": rounds[which].since.isoformat(),
            "until": rounds[which].until.isoformat(),
        },
    )
    status = expected(role, which)
    assert response.status_code == (302 if status == 200 else status)
    rounds[which].refresh_from_db()
    assert (rounds[which].name == "页面改名") == (status == 200)


def test_anonymous_is_401_and_sent_to_login(client, rounds):
    assert patch(client, rounds["town"], name="x").status_code == 401
    response = client.get(reverse("contacts:round_edit", args=[rounds["town"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_rounds_page_links_edit_only_where_allowed(client, cast, rounds):
    client.force_login(cast["users"]["zx_leader"])
    page = client.get(reverse("contacts:rounds")).content.decode()
    assert reverse("contacts:round_edit", args=[rounds["zx"].pk]) in page
    assert reverse("contacts:round_edit", args=[rounds["town"].pk]) not in page
    client.force_login(cast["users"]["zx_teacher31"])
    assert "/edit/" not in client.get(reverse("contacts:rounds")).content.decode()


@pytest.mark.parametrize(
    ("body", "field", "msg"),
    [
        ({"name": "  "}, "name", "名称：请填写轮次名称"),
        ({"name": "名" * 61}, "name", "名称：不能超过 60 个字"),
        (
            {"since": "2027-02-01", "until": "2027-01-31"},
            "until",
            "结束日期不能早于开始日期",
        ),
        ({"notes": "说" * 301}, "notes", "说明：不能超过 300 个字"),
    ],
)
def test_bad_patches_are_422_naming_the_field(client, cast, rounds, body, field, msg):
    client.force_login(cast["users"]["town"])
    response = patch(client, rounds["town"], **body)
    assert response.status_code == 422
    detail = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert detail[field].startswith(msg)
    rounds["town"].refresh_from_db()
    assert rounds["town"].name == "全镇普访"


@pytest.mark.parametrize(
    "body",
    [{"school": "HS-BQ"}, {"since": "昨天"}, {"name": None}, {"left_behind_only": "也许"}],
)
def test_unknown_or_malformed_fields_are_422(client, cast, rounds, body):
    client.force_login(cast["users"]["town"])
    assert patch(client, rounds["town"], **body).status_code == 422


def test_page_reports_bad_dates_at_the_field_and_keeps_the_input(client, cast, rounds):
    client.force_login(cast["users"]["zx_leader"])
    url = reverse("contacts:round_edit", args=[rounds["zx"].pk])
    response = client.post(url, {"name": "新名字", "since": "2026-12-31", "until": "2026-12-01"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "结束日期不能早于开始日期" in page and 'value="新名字"' in page
    rounds["zx"].refresh_from_db()
    assert rounds["zx"].name == "中心小学普访"


def test_patch_changes_only_what_is_given_and_history_keeps_each_version(client, cast, rounds):
    client.force_login(cast["users"]["town"])
    r = rounds["town"]
    before = (r.since, r.until, r.notes)
    out = patch(client, r, name="2026 冬季普访", left_behind_only=True).json()
    assert out["name"] == "2026 冬季普访" and out["left_behind_only"] is True
    r.refresh_from_db()
    assert (r.since, r.until, r.notes) == before
    latest = r.history.first()
    assert latest.history_user == cast["users"]["town"]
    assert latest.history_change_reason == "修改普访轮次"
    assert latest.prev_record.name == "全镇普访"


def test_coverage_follows_the_new_dates(client, cast, rounds):
    kid = cast["children"]["c31a"]
    add_contact(kid, cast["users"]["zx_teacher31"], "home_visit", at(dt.date(2026, 10, 15)))
    client.force_login(cast["users"]["town"])
    r = rounds["zx"]
    patch(client, r, since="2026-10-01", until="2026-10-14")
    cov = client.get(f"{URL}/{r.pk}/coverage").json()
    assert kid.pk in {
        c["id"] for s in cov["schools"] for k in s["classes"] for c in k["not_visited"]
    }
    out = patch(client, r, until="2026-10-15").json()
    assert out["visited"] == 1
    cov = client.get(f"{URL}/{r.pk}/coverage").json()
    assert kid.pk not in {
        c["id"] for s in cov["schools"] for k in s["classes"] for c in k["not_visited"]
    }
