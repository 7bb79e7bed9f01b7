"""监护人请求 (查阅、更正、删除): recorded and answered by school leaders and the town, read by the
town's inspectors, overdue after 15 days; pages, Excel export and /api/v1/privacy/requests."""

import datetime as dt
import io

import openpyxl
import pytest
from django.test import Client

from guanai.accounts.models import AccessLog
from guanai.privacy.models import GuardianRequest
from guanai.privacy.services import record_request

URL = "/api/v1/privacy/requests"
BODY = {
    "kind": "correct",
    "received_on": "2026-11-20",
    "requester": "张母",
    "relation": "母亲",
    "asked": "出生日期登记错了，应为 2017-03-12",
}
# Who reads a request about 张三 (c31a, 虎山镇中心小学 三年级(1)班), and who writes it.
READ = {
    "town": 200,
    "inspector": 200,
    "zx_leader": 200,
    "bq_leader": 404,
    "zx_grade3": 403,
    "zx_teacher31": 403,
    "zx_counselor": 403,
    "proxy_wang": 403,
}
WRITE = {
    "town": 201,
    "zx_leader": 201,
    "inspector": 403,
    "bq_leader": 404,
    "zx_teacher31": 403,
    "proxy_wang": 403,
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def item(users, kids):
    return record_request(
        child=kids["c31a"],
        by=users["zx_leader"],
        kind="see",
        received_on=dt.date(2026, 11, 10),
        requester="张父",
        relation="父亲",
        asked="想看孩子的家访记录",
    )


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("login", "status"), READ.items())
def test_who_reads_a_request_page(users, item, login, status):
    c = client_for(users[login])
    assert c.get(f"/privacy/requests/{item.pk}/").status_code == status
    listing = c.get("/privacy/requests/?state=all")
    assert listing.status_code == (403 if status == 403 else 200)
    if status == 404:
        assert "张三" not in listing.content.decode()


def test_leader_records_a_request_and_replies(users, kids):
    c = client_for(users["zx_leader"])
    page = c.get("/privacy/requests/new/?q=张三")
    assert "张三" in page.content.decode()
    r = c.post(f"/privacy/requests/new/{kids['c31a'].pk}/", BODY)
    item = GuardianRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/privacy/requests/{item.pk}/"
    assert item.recorded_by == users["zx_leader"] and item.status == "open"
    assert item.due_on == dt.date(2026, 12, 5)
    page = c.get(r["Location"]).content.decode()
    assert "更正补充" in page and "张母（母亲）" in page and "2026-12-05 前答复" in page
    r = c.post(
        f"/privacy/requests/{item.pk}/",
        {"status": "done", "reply": "已核对户口本，出生日期已更正", "replied_on": "2026-11-25"},
    )
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.replied_by == users["zx_leader"]
    assert "已核对户口本" in c.get(r["Location"]).content.decode()


def test_a_left_child_can_be_found_for_a_request(users, kids):
    child = kids["c31a"]
    child.enrolment = "transferred"
    child.save()
    page = client_for(users["zx_leader"]).get("/privacy/requests/new/?q=张三").content.decode()
    assert "已转出" in page


def test_pick_and_new_are_scoped(users, kids):
    page = client_for(users["bq_leader"]).get("/privacy/requests/new/?q=张三")
    assert page.status_code == 200 and page.context["found"] == []
    url = f"/privacy/requests/new/{kids['c31a'].pk}/"
    assert client_for(users["bq_leader"]).post(url, BODY).status_code == 404
    assert client_for(users["inspector"]).post(url, BODY).status_code == 403
    assert client_for(users["zx_teacher31"]).get(url).status_code == 403
    assert not GuardianRequest.objects.exists()


def test_inspector_reads_but_cannot_reply(users, item):
    c = client_for(users["inspector"])
    page = c.get(f"/privacy/requests/{item.pk}/").content.decode()
    assert "保存答复" not in page
    r = c.post(f"/privacy/requests/{item.pk}/", {"status": "done", "reply": "x"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "erase"}, "kind", "选择"),
        ({"received_on": "2026-12-01"}, "received_on", "不能晚于今天"),
        ({"received_on": "1999-12-31"}, "received_on", "不能早于 2000 年"),
        ({"received_on": "十一月"}, "received_on", ""),
        ({"requester": "  "}, "requester", "请填写"),
        ({"relation": ""}, "relation", "请填写"),
        ({"relation": "关" * 21}, "relation", "20"),
        ({"asked": ""}, "asked", "请填写"),
        ({"asked": "字" * 1001}, "asked", "1000"),
    ],
)
def test_bad_request_input_is_refused_in_chinese(users, kids, change, field, message):
    c = client_for(users["zx_leader"])
    r = c.post(f"/privacy/requests/new/{kids['c31a'].pk}/", {**BODY, **change})
    assert r.status_code == 200
    errors = r.context["form"].errors[field]
    assert message in " ".join(errors)
    assert not GuardianRequest.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status": "done", "reply": "", "replied_on": "2026-11-25"}, "reply", "请填写答复"),
        ({"status": "refused", "reply": "", "replied_on": "2026-11-25"}, "reply", "理由"),
        ({"status": "done", "reply": "已办", "replied_on": ""}, "replied_on", "请填写答复日期"),
        (
            {"status": "done", "reply": "已办", "replied_on": "2026-11-01"},
            "replied_on",
            "不能早于收到",
        ),
        (
            {"status": "done", "reply": "已办", "replied_on": "2026-12-30"},
            "replied_on",
            "不能晚于今天",
        ),
        ({"status": "closed", "reply": "已办", "replied_on": "2026-11-25"}, "status", "选择"),
    ],
)
def test_bad_reply_is_refused_in_chinese(users, item, data, field, message):
    r = client_for(users["zx_leader"]).post(f"/privacy/requests/{item.pk}/", data)
    assert r.status_code == 200
    assert message in " ".join(r.context["form"].errors[field])
    item.refresh_from_db()
    assert item.status == "open"


@pytest.mark.clock("2026-11-29")
def test_overdue_after_fifteen_days_is_highlighted(users, kids, item):
    late = record_request(
        child=kids["c31b"],
        by=users["zx_leader"],
        kind="delete",
        received_on=dt.date(2026, 11, 13),  # 16 days ago
        requester="单母",
        relation="母亲",
        asked="删除孩子的照片",
    )
    on_time = item  # received 11-10 → due 11-25: overdue too
    on_time.received_on = dt.date(2026, 11, 14)  # 15 days ago: due today, not yet late
    on_time.save()
    c = client_for(users["zx_leader"])
    page = c.get("/privacy/requests/").content.decode()
    assert "有 1 件请求收到已超过 15 天" in page
    assert page.count("已超期</span>") == 1
    overdue = c.get("/privacy/requests/?state=overdue")
    assert [r.pk for r, _late in overdue.context["rows"]] == [late.pk]
    assert c.get(f"/privacy/requests/{late.pk}/").content.decode().count("已超期") == 1
    assert "已超期" not in c.get(f"/privacy/requests/{on_time.pk}/").content.decode()
    data = c.get(f"{URL}?overdue=true").json()
    assert [r["id"] for r in data["items"]] == [late.pk]
    assert data["items"][0]["overdue"] is True


def test_export_to_excel_is_logged(users, item):
    c = client_for(users["zx_leader"])
    before = AccessLog.objects.count()
    r = c.get("/privacy/requests/?state=all&export=xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("学校", "班级", "儿童", "请求类型")
    assert rows[2][2] == "张三" and rows[2][3] == "查阅复制"
    assert AccessLog.objects.count() == before + 1
    assert "导出监护人请求 1 条" in AccessLog.objects.order_by("-pk").first().detail


def test_export_stays_in_scope(users, item):
    r = client_for(users["bq_leader"]).get("/privacy/requests/?state=all&export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert len(list(sheet.iter_rows(values_only=True))) == 2  # title and header only


def test_empty_list_says_what_to_do(users):
    page = client_for(users["zx_leader"]).get("/privacy/requests/").content.decode()
    assert "点“登记请求”记下来" in page


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("login", "status"), READ.items())
def test_who_reads_a_request_in_the_api(users, item, login, status):
    c = client_for(users[login])
    assert c.get(f"{URL}/{item.pk}").status_code == status
    listing = c.get(URL)
    if status == 403:
        assert listing.status_code == 403
    else:
        assert listing.json()["count"] == (1 if status == 200 else 0)


@pytest.mark.parametrize(("login", "status"), WRITE.items())
def test_who_records_a_request_in_the_api(users, kids, login, status):
    r = client_for(users[login]).post(
        URL, {**BODY, "child": kids["c31a"].pk}, content_type="application/json"
    )
    assert r.status_code == status
    assert GuardianRequest.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = r.json()
        assert body["kind_label"] == "更正补充" and body["due_on"] == "2026-12-05"
        assert body["status"] == "open" and body["overdue"] is False


def test_scope_before_the_body(users, kids):
    """A read-only role is 403 whatever it sends; the child is named in the body, so a leader
    of another school gets the 422 of a bad body and the 404 of a good one."""
    bad = {**BODY, "child": kids["c31a"].pk, "kind": "erase"}
    good = {**BODY, "child": kids["c31a"].pk}

    def post(login, body):
        return client_for(users[login]).post(URL, body, content_type="application/json")

    assert post("inspector", bad).status_code == 403
    assert post("zx_teacher31", bad).status_code == 403
    assert post("bq_leader", good).status_code == 404
    assert post("zx_leader", bad).status_code == 422


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"received_on": "2026-12-31"}, "received_on"),
        ({"requester": ""}, "requester"),
        ({"asked": "字" * 1001}, "asked"),
        ({"kind": "erase"}, "kind"),
        ({"child": 0}, "child"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_api_body_is_422_in_chinese(users, kids, change, where):
    r = client_for(users["zx_leader"]).post(
        URL, {**BODY, "child": kids["c31a"].pk, **change}, content_type="application/json"
    )
    assert r.status_code == 422
    [item] = [d for d in r.json()["detail"] if d["field"] == where]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in item["msg"])
    assert where not in item["msg"] or where == "extra"
    assert not GuardianRequest.objects.exists()


def test_reply_in_the_api(users, item):
    c = client_for(users["zx_leader"])
    url = f"{URL}/{item.pk}/reply"
    r = c.post(url, {"status": "done"}, content_type="application/json")
    assert r.status_code == 422
    messages = [d["msg"] for d in r.json()["detail"]]
    assert "答复与处理情况：请填写答复与处理情况" in messages
    r = c.post(
        url,
        {"status": "done", "reply": "已带家长查看", "replied_on": "2026-11-20"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status_label"] == "已办结"
    assert r.json()["replied_by"] == "刘校长"
    denied = {"status": "done", "reply": "x", "replied_on": "2026-11-20"}
    assert (
        client_for(users["inspector"])
        .post(url, denied, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for(users["bq_leader"])
        .post(url, {"status": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        client_for(users["inspector"])
        .post(url, {"status": "x"}, content_type="application/json")
        .status_code
        == 403
    )
