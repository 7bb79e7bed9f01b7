"""The per-village exports and the termly list of changed cards (the school ↔ village exchange),
and the 委托监护确认书 API."""

import base64
import io
import json

import openpyxl
import pytest
from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.villages.models import Entrustment

from .conftest import PDF, png_bytes


def sheet(response):
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_register_export_has_the_villages_civil_children_masked_for_the_director(
    client, users, village
):
    client.force_login(village["director"])
    response = client.get(reverse("villages:register", args=["枫树"]))
    assert response.status_code == 200
    rows = sheet(response)
    assert "农村留守儿童基本情况登记表" in rows[0][0]
    header = rows[1]
    assert header[:3] == ["序号", "姓名", "性别"]
    names = {r[1] for r in rows[2:]}
    # 民政 definition: both parents away (张三, 赵六); not 单小明 (father home), not 王五
    assert names == {"张三", "赵六"}
    id_col = header.index("公民身份证号码")
    zhang = next(r for r in rows[2:] if r[1] == "张三")
    assert zhang[id_col] == village["kids"]["c31a"].id_number_masked
    assert "*" in zhang[id_col]
    assert AccessLog.objects.filter(user=village["director"], action="export").count() == 1
    client.force_login(users["town"])
    zhang = next(
        r
        for r in sheet(client.get(reverse("villages:register", args=["枫树"])))[2:]
        if r[1] == "张三"
    )
    assert zhang[id_col] == village["kids"]["c31a"].id_number


def test_changed_cards_list_names_what_changed_in_plain_chinese(client, users, village, clock):
    clock.move_to("2027-01-10T10:00:00+08:00")
    child = Child.objects.get(pk=village["kids"]["c31a"].pk)
    update_child(
        child=child,
        data={"guardian.name": "张爷爷", "address": "枫树村3组12号"},
        version=child.version,
        by=users["zx_leader"],
    )
    client.force_login(village["director"])
    url = reverse("villages:changes", args=["枫树"])
    page = client.get(url, {"since": "2027-01-01"}).content.decode()
    assert "张三" in page
    changed = page.split('id="changed-cards"')[1]
    summary = changed.split("变更：")[1].split("<")[0]
    assert set(summary.split("、")) == {"详细住址", "监护人姓名"}, summary
    assert "赵六" not in page  # no change since 1 January
    assert "新建档卡" not in changed and "身份证" not in changed
    # since the term started (1 September): every card of the village was made this term
    page = client.get(url).content.decode()
    assert "新建档卡" in page and "赵六" in page
    rows = sheet(client.get(url, {"since": "2027-01-01", "export": "xlsx"}))
    assert rows[1] == ["姓名", "学校", "班级", "留守类别", "变更内容", "最近变更日期"]
    assert rows[2][0] == "张三" and "监护人姓名" in rows[2][4]
    assert len(rows) == 3
    assert AccessLog.objects.filter(action="export", user=village["director"]).exists()
    # a bad date says so and falls back to the term's start
    response = client.get(url, {"since": "明天"})
    assert response.status_code == 200 and "2026-09-01" in response.content.decode()


def test_changed_cards_for_the_other_roles(client, users, village):
    client.force_login(users["bq_leader"])
    page = client.get(reverse("villages:changes", args=["枫树"])).content.decode()
    assert "赵六" in page and "张三" not in page
    client.force_login(users["zx_teacher31"])  # reads the list, exports nothing
    url = reverse("villages:changes", args=["枫树"])
    assert client.get(url).status_code == 200
    assert client.get(url, {"export": "xlsx"}).status_code == 403
    client.force_login(village["director"])
    assert client.get(reverse("villages:changes", args=["古田"])).status_code == 404


# --- API -------------------------------------------------------------------------------------


def post(client, target, **over):
    data = {
        "child": target.pk,
        "guardian_name": "张奶奶",
        "guardian_relation": "祖母",
        "signed_on": "2026-11-20",
        "scan": base64.b64encode(PDF).decode(),
    }
    data.update(over)
    return client.post(
        "/api/v1/villages/entrustments", json.dumps(data), content_type="application/json"
    )


def test_api_records_and_lists_entrustments_in_scope(client, users, village):
    child = village["kids"]["bq31a"]
    client.force_login(village["director"])
    response = post(client, child)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["child_name"] == "赵六" and body["scan_kind"] == "pdf"
    assert client.get(body["scan_url"]).status_code == 200
    listed = client.get("/api/v1/villages/entrustments").json()
    assert listed["count"] == 1 and listed["items"][0]["guardian_relation"] == "祖母"
    assert client.get("/api/v1/villages/entrustments", {"child": child.pk}).json()["count"] == 1
    for name, count in (("bq_leader", 1), ("zx_leader", 0), ("town", 1)):
        client.force_login(users[name])
        assert client.get("/api/v1/villages/entrustments").json()["count"] == count, name


def test_api_refuses_before_the_body_and_outside_the_scope(client, users, village):
    child = village["kids"]["c31a"]
    client.force_login(users["inspector"])
    assert post(client, child).status_code == 403
    bad = client.post("/api/v1/villages/entrustments", "{", content_type="application/json")
    assert bad.status_code == 403
    client.force_login(users["zx_teacher31"])  # sees 张三, may not record
    assert post(client, child).status_code == 403
    client.force_login(users["bq_leader"])
    assert post(client, child).status_code == 404
    client.force_login(village["director"])
    assert post(client, village["kids"]["gt"]).status_code == 404
    assert post(client, village["far"]).status_code == 404
    assert not Entrustment.objects.exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"signed_on": "2026-12-30"}, "signed_on"),
        ({"signed_on": "2026-13-01"}, "signed_on"),
        ({"scan": base64.b64encode(b"GIF89a....").decode()}, "scan"),
        ({"scan": "not base64!"}, "scan"),
        ({"child": 10**20}, "child"),
        ({"guardian_relation": ""}, "guardian_relation"),
    ],
)
def test_api_bad_body_is_a_422_naming_the_field(client, village, over, field):
    client.force_login(village["director"])
    response = post(client, village["kids"]["c31a"], **over)
    assert response.status_code == 422, response.content
    assert field in [d["field"] for d in response.json()["detail"]]


def test_api_accepts_a_photo(client, village):
    client.force_login(village["director"])
    scan = base64.b64encode(png_bytes()).decode()
    response = post(client, village["kids"]["c31a"], scan=scan)
    assert response.status_code == 201 and response.json()["scan_kind"] == "image"
