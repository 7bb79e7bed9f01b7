"""Periods of proxy assignments and of grade leaders / class teachers are in order and plausible
(lib.dates.range_errors), on the pages and in the API alike (security issue #10: a proxy
assignment was saved from 3626-09-14 to 2026-12-04)."""

import pytest
from django.urls import reverse

from guanai.accounts.models import RoleAssignment
from guanai.children.models import ChildAssignment

from .test_proxies import register
from .test_responsibility import grade_post

MISTYPED = {"valid_from": "3626-09-14", "valid_to": "2026-12-04"}
BAD_PERIODS = [
    (MISTYPED, "valid_from", "起始日期不能晚于 2028-11-29"),
    ({"valid_from": "1999-09-01"}, "valid_from", "起始日期不能早于 2000-01-01"),
    (
        {"valid_from": "2026-12-01", "valid_to": "2026-11-30"},
        "valid_to",
        "截止日期不能早于起始日期",
    ),
    ({"valid_from": "2026-12-01", "valid_to": "9999-12-31"}, "valid_to", "截止日期不能晚于"),
]


@pytest.fixture
def proxy(cast, users):
    return register(cast["schools"]["zx"], by=users["zx_leader"])


@pytest.mark.parametrize(("period", "field", "message"), BAD_PERIODS)
def test_api_refuses_a_bad_proxy_assignment_period(
    client, users, kids, proxy, period, field, message
):
    client.force_login(users["zx_leader"])
    response = client.post(
        f"/api/v1/proxy-parents/{proxy.pk}/assignments",
        {"child": kids["c31b"].pk, **period},
        content_type="application/json",
    )
    assert response.status_code == 422
    detail = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert message in detail[field]
    assert not ChildAssignment.objects.filter(user=proxy.user).exists()


@pytest.mark.parametrize(("period", "field", "message"), BAD_PERIODS)
def test_page_refuses_a_bad_proxy_assignment_period(
    client, users, kids, proxy, period, field, message
):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("pairing:proxy_assign", args=[proxy.pk]), {"child": kids["c31b"].pk, **period}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ChildAssignment.objects.filter(user=proxy.user).exists()


@pytest.mark.parametrize(("period", "field", "message"), BAD_PERIODS)
def test_api_refuses_a_bad_responsibility_period(client, users, period, field, message):
    client.force_login(users["zx_leader"])
    body = {"kind": "grade_leader", "school": "HS-ZX", "grade": 4, "user": "zx_counselor"}
    response = client.post(
        "/api/v1/responsibilities", body | period, content_type="application/json"
    )
    assert response.status_code == 422
    detail = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert message in detail[field]
    assert not RoleAssignment.objects.filter(role="grade_leader", grade=4).exists()


@pytest.mark.parametrize(("period", "field", "message"), BAD_PERIODS)
def test_page_refuses_a_bad_responsibility_period(client, users, period, field, message):
    client.force_login(users["zx_leader"])
    data = grade_post(users, **{"g-term": ""}, **{f"g-{k}": v for k, v in period.items()})
    response = client.post(reverse("pairing:assign_grade"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not RoleAssignment.objects.filter(role="grade_leader", grade=4).exists()
