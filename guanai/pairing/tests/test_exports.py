"""Excel exports of the pair list and the proxy-parent register: what a leader downloads, who
may, scope, and the access log; and the proxy parents' due counts on the register page."""

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from guanai.accounts.models import AccessLog
from guanai.contacts.models import Contact
from guanai.pairing.services import accept_pairs, propose_pairs
from guanai.testing import VISIBLE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTERS = {"town", "zx_leader", "bq_leader"}


def sheet_rows(response) -> list[list]:
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


@pytest.fixture
def pairs(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    accept_pairs(pairs=saved[:1], by=users["zx_leader"])
    return saved


def test_a_leader_downloads_every_pair_of_the_filtered_list(client, users, pairs):
    client.force_login(users["zx_leader"])
    rows = sheet_rows(client.get(reverse("pairing:list"), {"export": "xlsx"}))
    assert rows[0][0].startswith("结对名单 · 导出人 刘校长")
    assert rows[1][:5] == ["学校", "班级", "儿童", "类别", "结对伙伴"]
    body = rows[2:]
    assert {(r[2], r[4]) for r in body} == {("张三", "刘一"), ("单小明", "陈二"), ("李四", "王五")}
    assert {r[6] for r in body} == {"进行中", "草稿"}
    assert all(r[7] for r in body)  # the explanation ("同村…，相差 …")
    log = AccessLog.objects.get(action="export", user=users["zx_leader"])
    assert log.detail == "导出结对名单 3 条"
    # the filters apply: only class 3(2)
    rows = sheet_rows(client.get(reverse("pairing:list"), {"export": "xlsx", "class_no": 2}))
    assert [r[2] for r in rows[2:]] == ["李四"]


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_pair_export_scope(client, users, pairs, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:list"), {"export": "xlsx"})
    if role not in EXPORTERS:
        assert response.status_code == 403
        assert not AccessLog.objects.filter(action="export").exists()
        return
    names = {r[2] for r in sheet_rows(response)[2:]}
    expected = {"张三", "单小明", "李四"} if role != "bq_leader" else set()
    assert names == expected


def test_the_pair_list_offers_the_export_to_leaders_only(client, users, pairs):
    client.force_login(users["zx_leader"])
    assert "export=xlsx" in client.get(reverse("pairing:list")).content.decode()
    client.force_login(users["zx_teacher31"])
    assert "export=xlsx" not in client.get(reverse("pairing:list")).content.decode()


# --- proxy parents ------------------------------------------------------------------------------


def test_the_register_export_lists_each_proxy_parent_with_children_and_due(client, users):
    client.force_login(users["zx_leader"])
    rows = sheet_rows(client.get(reverse("pairing:proxies"), {"export": "xlsx"}))
    assert rows[1] == [
        "学校",
        "姓名",
        "身份",
        "电话",
        "居住村",
        "住址",
        "在册",
        "声明日期",
        "代理儿童",
        "代理人数",
        "待联系人数",
    ]
    assert len(rows) == 2  # the cast's proxy_wang has no register entry: only a login


def test_register_export_rows(client, users, cast):
    from guanai.pairing.proxies import assign_child, register_proxy_parent

    zx = cast["schools"]["zx"]
    proxy = register_proxy_parent(
        school=zx,
        data={"name": "李阿姨", "phone": "13812345678", "kind": "volunteer", "village": "虎山村"},
        declared=True,
        declared_on=timezone.localdate(),
        username="proxy_li",
        password="guanai-demo",
        by=users["zx_leader"],
    )
    for key in ("c31b", "c41a"):
        assign_child(
            proxy=proxy,
            child=cast["children"][key],
            valid_from=timezone.localdate(),
            valid_to=None,
            by=None,
        )
    Contact.objects.create(
        child=cast["children"]["c41a"], by=proxy.user, kind="meeting", at=timezone.now()
    )
    client.force_login(users["zx_leader"])
    page = client.get(reverse("pairing:proxies")).content.decode()
    assert f'data-due="{proxy.pk}">1</td>' in page  # c31b not yet met
    rows = sheet_rows(client.get(reverse("pairing:proxies"), {"export": "xlsx"}))
    (row,) = rows[2:]
    assert row[:4] == ["虎山镇中心小学", "李阿姨", "志愿者", "13812345678"]
    assert row[6] == "在册"
    assert set(row[8].split("、")) == {"单小明（三年级(1)班）", "王五（四年级(1)班）"}
    assert row[9:] == [2, 1]
    # another school's leader neither sees nor exports the entry
    client.force_login(users["bq_leader"])
    rows = sheet_rows(client.get(reverse("pairing:proxies"), {"export": "xlsx"}))
    assert rows[2:] == []


@pytest.mark.parametrize("role", ["inspector", "zx_teacher31", "zx_grade3", "proxy_wang"])
def test_register_export_is_refused_without_the_export_right(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("pairing:proxies"), {"export": "xlsx"}).status_code == 403


def test_the_register_page_links_the_proxy_overdue_list(client, users):
    client.force_login(users["zx_leader"])
    page = client.get(reverse("pairing:proxies")).content.decode()
    # proxy_wang's two children are in scope; he has met neither
    assert 'data-count="proxy-due">代理家长待联系 2 人</a>' in page
    assert "?rule=proxy_contact" in page
