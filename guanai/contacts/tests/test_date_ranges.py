"""普访 rounds and the contact list's since/until: periods in order and plausible
(lib.dates.range_errors), and a date in a link never a 500."""

import pytest
from django.urls import reverse

from guanai.contacts.models import VisitRound

ROUNDS = "/api/v1/visit-rounds"
BAD_ROUNDS = [
    ({"since": "3626-09-14", "until": "2026-12-04"}, "since", "开始日期不能晚于 2028-11-29"),
    ({"since": "1999-09-01", "until": "2026-12-04"}, "since", "开始日期不能早于 2000-01-01"),
    ({"since": "2026-12-01", "until": "2026-11-30"}, "until", "结束日期不能早于开始日期"),
    ({"since": "2026-12-01", "until": "9999-12-31"}, "until", "结束日期不能晚于"),
]


@pytest.mark.parametrize(("period", "field", "message"), BAD_ROUNDS)
def test_api_refuses_a_round_with_a_bad_period(client, users, period, field, message):
    client.force_login(users["town"])
    response = client.post(ROUNDS, {"name": "普访", **period}, content_type="application/json")
    assert response.status_code == 422
    detail = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert message in detail[field]
    assert not VisitRound.objects.exists()


@pytest.mark.parametrize(("period", "field", "message"), BAD_ROUNDS)
def test_api_refuses_to_change_a_round_to_a_bad_period(client, users, period, field, message):
    client.force_login(users["town"])
    created = client.post(
        ROUNDS,
        {"name": "普访", "since": "2026-09-01", "until": "2027-01-31"},
        content_type="application/json",
    ).json()
    response = client.patch(f"{ROUNDS}/{created['id']}", period, content_type="application/json")
    assert response.status_code == 422
    assert message in {d["field"]: d["msg"] for d in response.json()["detail"]}[field]
    assert str(VisitRound.objects.get().since) == "2026-09-01"


@pytest.mark.parametrize(("period", "field", "message"), BAD_ROUNDS)
def test_page_refuses_a_round_with_a_bad_period(client, cast, period, field, message):
    client.force_login(cast["users"]["town"])
    data = {"unit": f"town:{cast['town_obj'].pk}", "name": "秋季普访", **period}
    response = client.post(reverse("contacts:rounds"), data)
    assert message in response.content.decode()
    assert not VisitRound.objects.exists()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until", "截止时间不能早于起始时间"),
        (
            {"since": "2026-11-02T08:00:00", "until": "2026-11-02T07:59:00"},
            "until",
            "截止时间不能早于起始时间",
        ),
        ({"until": "9999-12-31"}, "until", "截止时间不能晚于"),
        ({"since": "0001-01-01"}, "since", "起始时间不能早于 2000-01-01"),
    ],
)
def test_contact_list_refuses_a_bad_period(client, users, query, field, message):
    client.force_login(users["town"])
    response = client.get("/api/v1/contacts", query)
    assert response.status_code == 422
    assert message in {d["field"]: d["msg"] for d in response.json()["detail"]}[field]


def test_contact_list_takes_a_one_day_period(client, users):
    client.force_login(users["town"])
    response = client.get("/api/v1/contacts", {"since": "2026-11-01", "until": "2026-11-01"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("contacts:coverage", {"round": "custom", "since": "2026-09-01", "until": "9999-12-31"}),
        ("contacts:coverage", {"round": "custom", "since": "0001-01-01"}),
        ("contacts:plan", {"week": "9999-12-31"}),
        ("contacts:plan", {"week": "0001-01-01"}),
    ],
)
def test_an_implausible_date_in_a_link_falls_back_to_the_default(client, users, name, query):
    client.force_login(users["zx_teacher31"] if name == "contacts:plan" else users["town"])
    assert client.get(reverse(name), query).status_code == 200
