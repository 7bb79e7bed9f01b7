"""Scope before the body (guanai/api.py, issue #11): on every write route, an id outside the
user's scope answers 404 and a read-only role 403 whatever the body — a bad body is a 422 only
for someone who may send one. Routes are found by walking the OpenAPI schema."""

import json

import pytest
from django.test import Client
from ninja import NinjaAPI, Schema
from ninja.testing import TestClient

from guanai.accounts.models import AccessLog
from guanai.api import _scope_before_body, api
from guanai.api_common import ROUTE_LABELS

BAD_BODIES = {
    "wrong type": ("[1]", "application/json"),
    "not JSON": ("{", "application/json"),
    "unknown field": ('{"no_such_field": 1}', "application/json"),
}
OPEN_TO_ALL = {"/api/v1/auth/token"}  # logs in: no scope, no role
# The inspector writes these (action `inspect`): the school's leader, who reads them, may not.
INSPECTOR_WRITES = {
    "/api/v1/inspections",
    "/api/v1/inspections/{inspection_id}/status",
    "/api/v1/inspections/{inspection_id}/findings",
    "/api/v1/inspections/{inspection_id}",
    "/api/v1/inspections/{inspection_id}/checklist/{checklist_item_id}/attachments",
    "/api/v1/rectifications",
    "/api/v1/rectifications/{item_id}/close",
    "/api/v1/auth/emergency-access",  # break-the-glass (accounts/access_requests.py)
}


def _write_routes(*, with_path: bool = False) -> list[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return [
        (method, route)
        for route, operations in schema["paths"].items()
        for method, op in operations.items()
        if "requestBody" in op and route not in OPEN_TO_ALL and (not with_path or "{" in route)
    ]


def _send(client: Client, method: str, url: str, kind: str):
    if url.startswith("/api/v1/imports"):  # multipart: no file, no school
        return client.post(url, {})
    data, content_type = BAD_BODIES[kind]
    return client.generic(method.upper(), url, data=data, content_type=content_type)


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize(("method", "route"), _write_routes())
def test_a_read_only_role_is_refused_whatever_the_body(client, users, records, method, route, kind):
    client.force_login(users["zx_leader" if route in INSPECTOR_WRITES else "inspector"])
    response = _send(client, method, records.url(route), kind)
    assert response.status_code == 403, response.content.decode()
    assert not AccessLog.objects.exists()  # nothing the view did before the 403 is kept


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize(("method", "route"), _write_routes(with_path=True))
def test_an_id_outside_the_scope_is_not_found_whatever_the_body(
    client, users, records, method, route, kind
):
    client.force_login(users["bq_leader"])  # 板桥小学: the records are 中心小学's
    assert _send(client, method, records.url(route), kind).status_code == 404
    client.force_login(users["town"])
    nowhere = {name: 10**9 for name in ("child_id", "contact_id", "round_id", "campaign_id")}
    nowhere |= {name: 10**9 for name in ("pair_id", "proxy_id", "assignment_id")}
    nowhere |= {name: 10**9 for name in ("incident_id", "case_id")}
    nowhere |= {name: 10**9 for name in ("inspection_id", "check_id", "item_id")}
    nowhere |= {name: 10**9 for name in ("activity_id", "donation_id", "home_id")}
    nowhere |= {"request_id": 10**9}
    assert _send(client, method, records.url(route, **nowhere), kind).status_code == 404


def test_a_bad_body_from_someone_who_may_send_one_is_a_422_naming_the_field(client, users, records):
    client.force_login(users["zx_leader"])
    url = records.url("/api/v1/pairs/{pair_id}/end")
    response = client.post(url, json.dumps({"reason": ""}), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"
    response = client.post(url, "{", content_type="application/json")
    assert response.status_code == 400  # not JSON at all: ninja's answer, as before


def test_a_bad_path_or_query_is_still_a_422_before_the_scope(client, users):
    client.force_login(users["bq_leader"])
    response = client.patch("/api/v1/children/0", "[1]", content_type="application/json")
    assert response.status_code == 422  # with the body's errors: ninja reports them all
    assert "child_id" in [d["field"] for d in response.json()["detail"]]


# --- the mechanism, on a route of its own ----------------------------------------------------


class NoteIn(Schema):
    note: str


def _test_api() -> TestClient:
    test_api = NinjaAPI(urls_namespace="scope_before_body_test")
    test_api.add_decorator(_scope_before_body, mode="view")

    @test_api.post("/writes-then-reads", auth=None)
    def writes_then_reads(request, payload: NoteIn):
        AccessLog.objects.create(username="test", action="view_id_number", detail="before")
        return {"note": payload.note}

    @test_api.post("/never-reads", auth=None)
    def never_reads(request, payload: NoteIn):
        AccessLog.objects.create(username="test", action="view_id_number", detail="unread")
        return {"ok": True}

    return TestClient(test_api)


@pytest.mark.django_db
def test_what_a_view_did_before_reading_a_bad_body_is_undone():
    client = _test_api()
    assert client.post("/writes-then-reads", json={"note": 1}).status_code == 422
    assert client.post("/never-reads", json={}).status_code == 422
    assert not AccessLog.objects.exists()
    assert client.post("/writes-then-reads", json={"note": "好"}).json() == {"note": "好"}
    assert AccessLog.objects.count() == 1


def test_every_route_words_table_names_a_mounted_prefix():
    mounted = {
        route.removeprefix("/api/v1").split("/")[1]
        for route in api.get_openapi_schema(path_prefix="/api/v1")["paths"]
    }
    assert {prefix.lstrip("/") for prefix in ROUTE_LABELS} <= mounted
