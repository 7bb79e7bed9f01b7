"""The API's cross-cutting rules (guanai/tests: scope before the body, bounded integers) on this
app's write routes, with records of 虎山镇中心小学 that the routes' paths name. The inspector
writes here (action `inspect`), so "refused whatever the body" is asked of the role that may
not take each route's action."""

import datetime as dt
import json

import pytest

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.inspections import findings, rectifications, services

from .conftest import client_for

HUGE = 10**20
BAD_BODIES = {"wrong type": "[1]", "not JSON": "{", "unknown field": '{"no_such_field": 1}'}
# route → who sees its record but may not take its action (403 whatever the body)
REFUSED = {
    "/api/v1/inspections": "zx_leader",
    "/api/v1/inspections/{inspection_id}/status": "zx_leader",
    "/api/v1/inspections/{inspection_id}/findings": "zx_leader",
    "/api/v1/inspections/corrections/{check_id}": "inspector",
    "/api/v1/rectifications": "zx_teacher31",
    "/api/v1/rectifications/{item_id}/done": "inspector",
    "/api/v1/rectifications/{item_id}/close": "zx_leader",
    "/api/v1/inspections/{inspection_id}/checklist/{checklist_item_id}/attachments": "zx_leader",
    "/api/v1/rectifications/{item_id}/files": "inspector",
}
# route → the integers of its body
BODY_INTS = {
    "/api/v1/inspections": ["sample_size", "previous"],
    "/api/v1/inspections/{inspection_id}/findings": ["child"],
    "/api/v1/rectifications": ["inspection", "owner", "finding", "checklist_item"],
}


@pytest.fixture
def ids(cast, users):
    zx, today = cast["schools"]["zx"], dt.date(2026, 11, 29)
    insp = services.create_inspection(
        school=zx, planned_on=today, sample_size=3, seed="r", by=users["town"]
    )
    services.advance(inspection=insp, to="in_progress", by=users["town"])
    finding = findings.record_finding(
        inspection=insp,
        child=Child.objects.get(pk=insp.sample[0]),
        visited=True,
        checks=[{"field": "address", "correct": False, "found": "新村"}],
        by=users["town"],
    )
    item = rectifications.raise_item(
        inspection=insp,
        school=zx,
        title="整改",
        owner=users["zx_leader"],
        due_on=today,
        by=users["town"],
    )
    return {
        "inspection_id": insp.pk,
        "check_id": finding.checks.get().pk,
        "item_id": item.pk,
        "checklist_item_id": insp.checklist.first().pk,
    }


def url(route: str, ids: dict, **values) -> str:
    for name, pk in (ids | values).items():
        route = route.replace("{" + name + "}", str(pk))
    return route


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize("route", list(REFUSED))
def test_a_role_without_the_action_is_refused_whatever_the_body(users, ids, route, kind):
    r = client_for(users[REFUSED[route]]).post(
        url(route, ids), BAD_BODIES[kind], content_type="application/json"
    )
    assert r.status_code == 403, (route, r.content.decode())
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize("route", [r for r in REFUSED if "{" in r])
def test_a_record_outside_the_scope_is_not_found_whatever_the_body(users, ids, route, kind):
    r = client_for(users["bq_leader"]).post(
        url(route, ids), BAD_BODIES[kind], content_type="application/json"
    )
    assert r.status_code == 404
    nowhere = {k: 10**9 for k in ids}
    r = client_for(users["town"]).post(
        url(route, ids, **nowhere), BAD_BODIES[kind], content_type="application/json"
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "route, field", [(r, f) for r, fields in BODY_INTS.items() for f in fields]
)
def test_an_oversized_integer_in_a_body_is_a_422_naming_it(users, ids, route, field):
    r = client_for(users["town"]).post(
        url(route, ids), json.dumps({field: HUGE}), content_type="application/json"
    )
    assert r.status_code == 422
    (named,) = [d for d in r.json()["detail"] if d["field"] == field]
    assert "太大" in named["msg"] and not named["msg"].split("：")[0].isascii()


@pytest.mark.parametrize("name", ["inspection_id", "check_id", "item_id", "checklist_item_id"])
def test_an_oversized_id_in_a_path_is_a_422(users, ids, name):
    routes = [r for r in REFUSED if "{" + name + "}" in r]
    for route in routes:
        r = client_for(users["town"]).post(
            url(route, ids, **{name: HUGE}), "{}", content_type="application/json"
        )
        assert r.status_code == 422, route
