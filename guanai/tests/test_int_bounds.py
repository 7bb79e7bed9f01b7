"""Integers beyond what a database row can hold: every integer of every API route (path, query,
body, found by walking the OpenAPI schema) answers 422 naming the field in Chinese, and every
page's `<int:…>` path answers 404 — never a 500 (SQLite cannot bind 10²⁰)."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from guanai.api import api

HUGE = 10**20
CJK = re.compile(r"[\u4e00-\u9fff]")


def _integers(schema: dict, components: dict, path: tuple = ()) -> Iterator[tuple]:
    """Paths to every integer inside a JSON schema; "[]" stands for a list's item."""
    if "$ref" in schema:
        yield from _integers(components[schema["$ref"].split("/")[-1]], components, path)
        return
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            yield from _integers(sub, components, path)
    if schema.get("type") == "integer":
        yield path
    elif schema.get("type") == "array":
        yield from _integers(schema.get("items", {}), components, (*path, "[]"))
    for name, prop in schema.get("properties", {}).items():
        yield from _integers(prop, components, (*path, name))


def _api_cases() -> list[Any]:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    components = schema.get("components", {}).get("schemas", {})
    cases = []
    for route, operations in schema["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            ints = [
                (p["in"], path)
                for p in params
                for path in _integers(p["schema"], components, (p["name"],))
            ]
            for content in op.get("requestBody", {}).get("content", {}).values():
                ints += [("body", path) for path in _integers(content["schema"], components)]
            for where, path in ints:
                name = ".".join(path)
                cases.append(
                    pytest.param(method, route, where, path, id=f"{method} {route} {name}")
                )
    return cases


def _nest(path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [_nest(rest, value)] if head == "[]" else {head: _nest(rest, value)}


def _api_user(route: str) -> str:
    if route.startswith("/api/v1/psych"):
        return "zx_counselor"
    if route == "/api/v1/auth/access-requests":
        return "zx_teacher31"
    if route.startswith("/api/v1/auth/access-requests/"):
        return "zx_leader"
    return "town"


@pytest.mark.parametrize(("method", "route", "where", "path"), _api_cases())
def test_api_answers_422_naming_an_oversized_integer(
    client, users, records, method, route, where, path
):
    # The other path parameters name records in scope: the body is read after the scope check
    # (guanai/api.py), so an id that names nothing would answer 404 first.
    # psychology is read by the counselor and school leaders, not the town (SPEC §4)
    # access beyond one's role is asked by school staff and decided by school leaders
    client.force_login(users[_api_user(route)])
    query, body = {}, {}
    url = records.url(route, **({path[0]: HUGE} if where == "path" else {}))
    if where == "query":
        query[path[0]] = HUGE
    elif where == "body":
        body = _nest(path, HUGE)
    response = client.generic(
        method.upper(),
        url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        data=json.dumps(body) if method != "get" else "",
        content_type="application/json",
    )
    assert response.status_code == 422, response.content.decode()
    field = ".".join("0" if p == "[]" else p for p in path)
    named = [d for d in response.json()["detail"] if d["field"] == field]
    assert named, response.json()
    label = named[0]["msg"].split("：")[0]
    assert CJK.search(label) and not re.search(r"[A-Za-z_]", label), named[0]["msg"]
    assert "太大" in named[0]["msg"]


def _int_routes(patterns: list, prefix: str = "") -> Iterator[str]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _int_routes(p.url_patterns, route)
        elif isinstance(p, URLPattern) and "<int:" in route:
            yield route


PAGE_ROUTES = sorted({r for r in _int_routes(get_resolver().url_patterns) if "api/" not in r})


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_page_with_an_id_beyond_64_bits_is_not_found(client, users, route):
    """Django turns an equality lookup beyond the column's range into no rows: a page answers
    404 (a GET of a POST-only action 405, before any lookup), never 500."""
    # access requests and emergency openings are decided and reviewed by school leaders
    decided = route.startswith(("accounts/access-requests/", "accounts/emergency/"))
    client.force_login(users["zx_leader" if decided else "town"])
    url = "/" + re.sub(r"<int:\w+>", str(HUGE), route)
    url = re.sub(r"<(?:\w+:)?\w+>", "x", url)
    assert client.post(url).status_code == 404
    assert client.get(url).status_code in (404, 405)


def test_an_integer_the_database_cannot_take_is_a_422_not_a_500(client, users, monkeypatch):
    """The safety net under the bounded types, for a route that would forget them."""
    from guanai.contacts.models import ContactQuerySet

    def overflow(self, user, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(ContactQuerySet, "visible_to", overflow)
    client.force_login(users["town"])
    response = client.get("/api/v1/contacts")
    assert response.status_code == 422
    assert response.json() == {"detail": "数值超出范围"}
