"""The contacts API contract of SPEC §6.3: POST/GET /api/v1/contacts, idempotency, scope."""

import datetime as dt

import pytest
from django.utils import timezone

from guanai.contacts.models import Contact
from guanai.testing import VISIBLE

from .helpers import add_contact, at

URL = "/api/v1/contacts"
ROLES = list(VISIBLE)
KIDS = ["c31a", "c31b", "c32a", "c41a", "bq31a", "gt"]
WRITERS = [r for r in ROLES if r != "inspector"]


def body(kid, **over):
    data = {
        "child": kid.pk,
        "kind": "home_visit",
        "at": "2026-11-20T15:30:00+08:00",
        "with_whom": "祖母 张奶奶",
        "notes": "孩子作业按时完成，奶奶身体还好",
        "follow_up_by": None,
    }
    data.update(over)
    return data


def post(client, data, **headers):
    return client.post(URL, data, content_type="application/json", **headers)


@pytest.fixture
def teacher(client, users):
    client.force_login(users["zx_teacher31"])
    return users["zx_teacher31"]


def test_post_creates_the_contact_and_answers_201_with_its_fields(client, teacher, kids):
    response = post(client, body(kids["c31a"], follow_up_by="2026-12-01"))
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["id"] == Contact.objects.get().pk
    assert out["child"] == kids["c31a"].pk
    assert out["kind"] == "home_visit"
    assert out["at"] == "2026-11-20T15:30:00+08:00"
    assert out["with_whom"] == "祖母 张奶奶"
    assert out["notes"] == "孩子作业按时完成，奶奶身体还好"
    assert out["follow_up_by"] == "2026-12-01"
    assert out["by"] == "zx_teacher31"


def test_at_without_zone_is_shanghai_and_answered_with_offset(client, teacher, kids):
    out = post(client, body(kids["c31a"], at="2026-11-20T09:05:00")).json()
    assert out["at"] == "2026-11-20T09:05:00+08:00"
    stored = Contact.objects.get().at
    assert stored == dt.datetime(2026, 11, 20, 1, 5, tzinfo=dt.UTC)


def test_at_in_another_zone_is_kept_as_the_same_instant(client, teacher, kids):
    out = post(client, body(kids["c31a"], at="2026-11-20T01:00:00Z")).json()
    assert out["at"] == "2026-11-20T09:00:00+08:00"


def test_optional_fields_default_and_findings_round_trip(client, teacher, kids):
    # a meeting at school (a call or a visit must say whom it reached: test_contact_checks)
    data = {"child": kids["c31a"].pk, "kind": "meeting", "at": "2026-11-21T20:00:00"}
    data["findings"] = {"safety": {"level": "follow_up", "text": "常到河边玩"}}
    out = post(client, data).json()
    assert out["with_whom"] == "" and out["notes"] == "" and out["follow_up_by"] is None
    assert out["findings"] == {"safety": {"level": "follow_up", "text": "常到河边玩"}}
    assert Contact.objects.get().safety_level == "follow_up"


def test_same_idempotency_key_answers_the_first_result_and_creates_nothing(client, teacher, kids):
    first = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="visit-1")
    again = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="visit-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Contact.objects.count() == 1


def test_same_key_with_naive_or_offset_at_for_the_same_moment_is_the_same_body(
    client, teacher, kids
):
    post(client, body(kids["c31a"], at="2026-11-20T15:30:00"), HTTP_IDEMPOTENCY_KEY="k")
    again = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 200 and Contact.objects.count() == 1


def test_same_key_with_a_different_body_is_409(client, teacher, kids):
    post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="visit-1")
    response = post(client, body(kids["c31a"], notes="别的内容"), HTTP_IDEMPOTENCY_KEY="visit-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert Contact.objects.count() == 1


def test_idempotency_keys_belong_to_their_user(client, users, kids):
    client.force_login(users["zx_teacher31"])
    post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="shared")
    client.force_login(users["zx_leader"])
    response = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert response.json()["by"] == "zx_leader"
    assert Contact.objects.count() == 2


def test_without_key_each_post_creates_a_contact(client, teacher, kids):
    post(client, body(kids["c31a"]))
    post(client, body(kids["c31a"]))
    assert Contact.objects.count() == 2


def test_bearer_token_works_with_idempotency(client, cast, kids):
    from guanai.children.tests.test_api import bearer

    headers = bearer(client, "zx_teacher31")
    first = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="t1", **headers)
    again = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="t1", **headers)
    assert (first.status_code, again.status_code) == (201, 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_post_scope_matrix(client, cast, role, kid):
    client.force_login(cast["users"][role])
    response = post(client, body(cast["children"][kid]))
    if role == "inspector":
        expected = 403
    else:
        expected = 201 if kid in VISIBLE[role] else 404
    assert response.status_code == expected, (role, kid, response.content)
    assert Contact.objects.count() == (1 if expected == 201 else 0)


def test_out_of_scope_child_in_body_is_404_not_422(client, teacher, kids):
    response = post(client, body(kids["bq31a"], kind="nope"))
    # a bad kind is a 422 even for… no: pydantic checks the body shape first, so a malformed
    # body is 422 whatever the child; a well-formed one naming an outside child is 404
    assert response.status_code == 422
    response = post(client, body(kids["bq31a"]))
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到"}


def test_unknown_child_is_404(client, teacher):
    assert (
        post(client, {"child": 999999, "kind": "phone", "at": "2026-11-20T10:00"}).status_code
        == 404
    )


def test_proxy_parent_logs_a_meeting_for_his_child(client, users, kids):
    client.force_login(users["proxy_wang"])
    response = post(client, body(kids["c32a"], kind="meeting"))
    assert response.status_code == 201
    assert response.json()["by"] == "proxy_wang"


def test_inspector_is_refused_even_for_an_out_of_scope_or_bad_body(client, users, kids):
    client.force_login(users["inspector"])
    assert post(client, body(kids["c31a"])).status_code == 403
    assert "只读" in post(client, body(kids["c31a"])).json()["detail"]


def test_anonymous_is_401(client, cast, kids):
    assert post(client, body(kids["c31a"])).status_code == 401
    assert client.get(URL).status_code == 401
    assert client.get(URL + "/due").status_code == 401


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"kind": "visit"}, "kind", "联系方式"),
        ({"kind": None}, "kind", "联系方式"),
        ({"at": "昨天"}, "at", "联系时间"),
        ({"at": "2026-13-01T10:00"}, "at", "联系时间"),
        ({"at": None}, "at", "联系时间"),
        ({"child": "张三"}, "child", "儿童"),
        ({"follow_up_by": "下周"}, "follow_up_by", "跟进截止日期"),
        ({"with_whom": "长" * 101}, "with_whom", "联系对象"),
        ({"notes": 12}, "notes", "备注"),
        ({"extra": 1}, "extra", "不是可以提交的字段"),
        ({"findings": {"study": {"level": "bad"}}}, "findings.study.level", "学习情况等级"),
        ({"findings": {"money": {"level": "normal"}}}, "findings.money", "findings"),
    ],
)
def test_bad_bodies_are_422_naming_the_field_in_chinese(
    client, teacher, kids, change, field, words
):
    response = post(client, body(kids["c31a"], **change))
    assert response.status_code == 422, response.content
    details = response.json()["detail"]
    assert any(d["field"].startswith(field) for d in details), details
    assert any(words in d["msg"] for d in details), details
    assert not Contact.objects.exists()


def test_missing_fields_are_each_named(client, teacher):
    details = post(client, {}).json()["detail"]
    assert {d["field"] for d in details} >= {"child", "kind", "at"}
    assert all("必填" in d["msg"] for d in details)
    assert any(d["msg"].startswith("联系方式") for d in details)


def test_not_json_is_422(client, teacher):
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code in (400, 422)  # the shared API answers unparsable JSON
    assert not Contact.objects.exists()


def test_own_checks_are_422_in_chinese(client, teacher, kids):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = post(client, body(kids["c31a"], at=f"{tomorrow}T09:00:00"))
    assert response.status_code == 422
    # A message that names its field is not prefixed with the name again.
    assert response.json()["detail"][0]["msg"] == "联系时间不能晚于现在（2026-11-29 10:00）"
    response = post(client, body(kids["c31a"], follow_up_by="2026-11-01"))
    assert response.status_code == 422
    assert "跟进截止日期" in response.json()["detail"][0]["msg"]
    assert not Contact.objects.exists()


def test_too_long_idempotency_key_is_422(client, teacher, kids):
    response = post(client, body(kids["c31a"]), HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert response.status_code == 422


# --- GET /api/v1/contacts -------------------------------------------------------------------------


@pytest.fixture
def logged(cast):
    users, kids = cast["users"], cast["children"]
    t = users["zx_teacher31"]
    rows = [
        add_contact(kids["c31a"], t, "home_visit", at(dt.date(2026, 11, 1))),
        add_contact(kids["c31a"], t, "phone", at(dt.date(2026, 11, 10))),
        add_contact(kids["c31b"], t, "family_call", at(dt.date(2026, 11, 15), 23, 30)),
        add_contact(kids["c32a"], users["zx_leader"], "phone", at(dt.date(2026, 11, 16))),
        add_contact(kids["bq31a"], users["bq_leader"], "home_visit", at(dt.date(2026, 11, 2))),
        add_contact(kids["gt"], users["town"], "letter", at(dt.date(2026, 11, 3))),
    ]
    return rows


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_contacts_of_visible_children(client, cast, logged, role):
    client.force_login(cast["users"][role])
    out = client.get(URL).json()
    kids = cast["children"]
    visible = {kids[k].pk for k in VISIBLE[role]}
    expected = [c.pk for c in logged if c.child_id in visible]
    assert [i["id"] for i in out["items"]] == sorted(expected)
    assert out["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "phone"}, [1, 3]),
        ({"since": "2026-11-10"}, [1, 2, 3]),
        ({"until": "2026-11-10"}, [0, 1, 4, 5]),
        ({"since": "2026-11-10", "until": "2026-11-15"}, [1, 2]),
        ({"since": "2026-11-15T23:00:00"}, [2, 3]),
        ({"until": "2026-11-15T23:00:00+08:00"}, [0, 1, 4, 5]),
        ({"by": "zx_leader"}, [3]),
        ({"teacher": "zx_leader"}, [3]),
        ({"school": "HS-BQ"}, [4]),
    ],
)
def test_list_filters(client, cast, logged, params, expected):
    client.force_login(cast["users"]["town"])
    out = client.get(URL, params).json()
    assert [i["id"] for i in out["items"]] == [logged[n].pk for n in expected]


def test_list_filter_by_child(client, cast, logged):
    client.force_login(cast["users"]["town"])
    out = client.get(URL, {"child": cast["children"]["c31a"].pk}).json()
    assert [i["id"] for i in out["items"]] == [logged[0].pk, logged[1].pk]


def test_list_child_filter_outside_scope_is_empty(client, cast, logged):
    client.force_login(cast["users"]["zx_teacher31"])
    out = client.get(URL, {"child": cast["children"]["bq31a"].pk}).json()
    assert out == {"items": [], "count": 0}


@pytest.mark.parametrize(
    "params",
    [{"kind": "visit"}, {"since": "上周"}, {"until": "2026-02-30"}, {"child": "x"}, {"page": 0}],
)
def test_list_bad_filters_are_422(client, cast, params):
    client.force_login(cast["users"]["town"])
    response = client.get(URL, params)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]


def test_list_paginates_and_caps_page_size(client, cast):
    t = cast["users"]["zx_teacher31"]
    Contact.objects.bulk_create(
        Contact(child=cast["children"]["c31a"], by=t, kind="phone", at=timezone.now())
        for _ in range(60)
    )
    client.force_login(t)
    first = client.get(URL).json()
    assert first["count"] == 60 and len(first["items"]) == 50
    second = client.get(URL, {"page": 2}).json()
    assert len(second["items"]) == 10
    assert second["items"][0]["id"] > first["items"][-1]["id"]
    assert len(client.get(URL, {"page_size": 1000}).json()["items"]) == 60


def test_list_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    t = cast["users"]["zx_teacher31"]
    for _ in range(30):
        add_contact(cast["children"]["c31a"], t)
        add_contact(cast["children"]["c31b"], t)
    client.force_login(cast["users"]["zx_leader"])
    # session, user, roles, "sees every child?", count, page ids, their rows, session save (3)
    with django_assert_max_num_queries(10):
        out = client.get(URL).json()
    assert out["count"] == 60


def test_proxy_parent_does_not_read_psych_findings_of_others(client, cast):
    t = cast["users"]["zx_teacher31"]
    add_contact(cast["children"]["c31a"], t, psych_level="watch", psych_text="情绪低落")
    client.force_login(cast["users"]["proxy_wang"])
    item = client.get(URL).json()["items"][0]
    assert "psych" not in item["findings"]
    client.force_login(cast["users"]["zx_leader"])
    assert client.get(URL).json()["items"][0]["findings"]["psych"]["text"] == "情绪低落"


@pytest.mark.parametrize("role", ROLES)
def test_get_one_contact_scope(client, cast, logged, role):
    client.force_login(cast["users"][role])
    kids = cast["children"]
    for contact in logged:
        visible = any(kids[k].pk == contact.child_id for k in VISIBLE[role])
        response = client.get(f"{URL}/{contact.pk}")
        assert response.status_code == (200 if visible else 404)


def test_follow_up_done_endpoint(client, cast):
    t = cast["users"]["zx_teacher31"]
    c = add_contact(cast["children"]["c31a"], t, follow_up_by=timezone.localdate())
    client.force_login(cast["users"]["inspector"])
    assert (
        client.post(f"{URL}/{c.pk}/follow-up-done", {}, content_type="application/json").status_code
        == 403
    )
    client.force_login(cast["users"]["bq_leader"])
    assert (
        client.post(f"{URL}/{c.pk}/follow-up-done", {}, content_type="application/json").status_code
        == 404
    )
    client.force_login(t)
    response = client.post(
        f"{URL}/{c.pk}/follow-up-done", {"note": "已联系村委"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["follow_up_done"] is True
    c.refresh_from_db()
    assert c.follow_up_note == "已联系村委" and c.follow_up_done_by == t
    no_follow_up = add_contact(cast["children"]["c31a"], t)
    response = client.post(
        f"{URL}/{no_follow_up.pk}/follow-up-done", {}, content_type="application/json"
    )
    assert response.status_code == 422


def test_openapi_describes_the_contact_routes(client, cast):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/contacts" in schema["paths"]
    assert "/api/v1/contacts/due" in schema["paths"]
    assert "/api/v1/messages" in schema["paths"]
    assert "/api/v1/messages/{message_id}" in schema["paths"]
