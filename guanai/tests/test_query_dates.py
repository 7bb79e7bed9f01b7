"""A date in a query string is read once (lib.dates.query_date), and each caller states its
policy: a page falls back to its default and says so, an API answers 422 naming the parameter
(issue #11)."""

import html

import pytest
from django.urls import reverse

from guanai.accounts.models import AccessLog

# (page, user, query, message on the page): the suite's clock is 2026-11-29.
PAGES = [
    ("contacts:due", "zx_teacher31", {"on": "明天"}, "日期：日期“明天”无法识别"),
    ("contacts:due", "zx_teacher31", {"on": "9999-12-31"}, "日期不能晚于 2028-11-29"),
    ("contacts:plan", "zx_teacher31", {"week": "9999-12-31"}, "周不能晚于 2028-11-29"),
    ("contacts:plan", "zx_teacher31", {"week": "0001-01-01"}, "周不能早于 2000-01-01"),
    (
        "contacts:coverage",
        "town",
        {"round": "custom", "since": "2026-09-01", "until": "2026-13-01"},
        "结束日期：日期“2026-13-01”不存在",
    ),
    ("accounts:access_log", "town", {"since": "11/02"}, "起始日期：日期“11/02”无法识别"),
]


@pytest.mark.parametrize(("name", "user", "query", "message"), PAGES)
def test_a_page_falls_back_to_its_default_and_says_so(client, users, name, user, query, message):
    client.force_login(users[user])
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert message in text
    assert "已改为 2026-" in text or "未按此日期筛选" in text


def test_a_page_takes_a_date_written_as_people_write_it(client, users):
    client.force_login(users["zx_teacher31"])
    text = client.get(reverse("contacts:plan"), {"week": "2026年11月16日"}).content.decode()
    assert "家访计划 11-16" in text
    assert "无法识别" not in html.unescape(text)


def test_the_access_log_leaves_out_a_filter_it_cannot_read(client, users):
    AccessLog.objects.create(
        user=users["town"], username="town", action="view_id_number", detail="测试"
    )
    client.force_login(users["town"])
    kept = client.get(reverse("accounts:access_log"), {"since": "明天"}).content.decode()
    assert "测试" in kept and "未按此日期筛选" in html.unescape(kept)
    gone = client.get(reverse("accounts:access_log"), {"since": "2027-01-01"}).content.decode()
    assert "测试" not in gone


# (API route, query, parameter, message): 422 naming the parameter, in the query.
APIS = [
    ("/api/v1/contacts/due", {"on": "明天"}, "on", "日期：日期“明天”无法识别"),
    ("/api/v1/contacts/due", {"on": "9999-12-31"}, "on", "日期不能晚于 2028-11-29"),
    ("/api/v1/contacts", {"since": "abc"}, "since", "起始时间：日期“abc”无法识别"),
    ("/api/v1/contacts", {"until": "2026-11-01T25:00"}, "until", "截止时间：“2026-11-01T25:00”"),
    ("/api/v1/contacts", {"since": "0001-01-01"}, "since", "起始时间不能早于 2000-01-01"),
]


@pytest.mark.parametrize(("url", "query", "field", "message"), APIS)
def test_an_api_answers_422_naming_the_parameter(client, users, url, query, field, message):
    client.force_login(users["town"])
    response = client.get(url, query)
    assert response.status_code == 422, response.content.decode()
    (item,) = response.json()["detail"]
    assert item["loc"] == ["query", field] and item["field"] == field
    assert item["msg"].startswith(message), item["msg"]


def test_an_api_takes_a_date_written_as_people_write_it(client, users):
    client.force_login(users["town"])
    assert client.get("/api/v1/contacts/due", {"on": "2026/11/29"}).status_code == 200
    assert client.get("/api/v1/contacts", {"since": "2026年11月1日"}).status_code == 200
