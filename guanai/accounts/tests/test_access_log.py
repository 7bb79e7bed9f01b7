"""The access log page (访问日志): 50 rows a page, and the filtered log as Excel for town
administrators through the one export helper (itself logged)."""

import io

import openpyxl
from django.db import connection
from django.urls import reverse

from guanai.accounts import views
from guanai.accounts.models import AccessAction, AccessLog
from guanai.accounts.services import log_access


def _logs(cast, n: int, user: str = "zx_teacher31") -> None:
    child = cast["children"]["c31a"]
    for i in range(n):
        log_access(
            request=None,
            user=cast["users"][user],
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail=f"档卡页查看完整电话号码 {i}",
        )


def test_access_log_pages_by_fifty_with_a_pinned_query_count(
    client, cast, django_assert_max_num_queries
):
    _logs(cast, 120)
    client.force_login(cast["users"]["town"])
    url = reverse("accounts:access_log")
    client.get(url)
    # the reading is logged: on PostgreSQL the hash chain's advisory lock is one query more
    with django_assert_max_num_queries(12 + (connection.vendor == "postgresql")):
        first = client.get(url)
    page = first.context["page"]
    assert len(page.object_list) == 50 and page.paginator.num_pages == 3
    text = first.content.decode()
    # 120 rows and the administrator's first reading of the log (each reading is logged)
    assert "共 121 条" in text and "第 1 / 3 页" in text and "下一页" in text
    last = client.get(url, {"page": 3}).context["page"]
    assert len(last.object_list) == 22
    filtered = client.get(url, {"user": "zx_teacher31", "page": 2}).content.decode()
    assert "user=zx_teacher31&amp;page=3" in filtered or "user=zx_teacher31&page=3" in filtered


def test_town_admin_exports_the_filtered_log_and_the_export_is_logged(client, cast):
    _logs(cast, 3)
    _logs(cast, 2, user="zx_leader")
    client.force_login(cast["users"]["town"])
    page = client.get(reverse("accounts:access_log"), {"user": "zx_leader"}).content.decode()
    assert "导出 Excel" in page and "user=zx_leader&amp;export=xlsx" in page
    response = client.get(reverse("accounts:access_log"), {"user": "zx_leader", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="access-log-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert "访问日志" in rows[0][0] and "镇管理员" in rows[0][0]
    assert list(rows[1]) == [
        "编号",
        "时间",
        "用户",
        "操作",
        "学生",
        "学校",
        "内容",
        "地址",
        "前一条哈希",
        "本条哈希",
    ]
    body = rows[2:]
    assert len(body) == 2 and {r[2] for r in body} == {"zx_leader"}
    assert body[0][3] == "查看敏感信息" and body[0][4] == "张三" and body[0][5] == "虎山镇中心小学"
    assert str(body[0][1]).startswith("2026-11-29 10:00")
    # hashes in, so the auditor checks the chain himself: each row's prev is the one before's
    assert body[1][8] == body[0][9] or body[1][0] != body[0][0] + 1
    export = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert export.username == "town" and export.detail == "导出访问日志 2 条（用户 zx_leader）"


def test_a_too_long_export_asks_to_narrow_it(client, cast, monkeypatch):
    monkeypatch.setattr(views, "ACCESS_LOG_EXPORT_MAX", 3)
    _logs(cast, 4)
    client.force_login(cast["users"]["town"])
    response = client.get(reverse("accounts:access_log"), {"export": "xlsx"})
    assert response.status_code == 200 and "缩小范围" in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_only_town_admins_and_auditors_read_or_export_the_access_log(client, cast):
    _logs(cast, 1)
    for name in ("zx_leader", "zx_teacher31", "inspector"):
        client.force_login(cast["users"][name])
        url = reverse("accounts:access_log")
        assert client.get(url).status_code == 403
        assert client.get(url, {"export": "xlsx"}).status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_rows_without_a_school_stay_in_the_town_of_whoever_acted(client, cast):
    """A search by a whole ID number has no school: the town of the searcher reads it, the
    administrator of another town does not (issue #11)."""
    from guanai.accounts.models import Role
    from guanai.org.models import Town
    from guanai.testing import make_user

    other = make_user("other_town", Role.TOWN_ADMIN, town=Town.objects.create(name="别的镇"))
    log_access(
        request=None,
        user=cast["users"]["zx_leader"],
        action=AccessAction.VIEW_ID_NUMBER,
        detail="按完整身份证号或学籍号查找",
    )
    client.force_login(cast["users"]["town"])
    assert (
        "按完整身份证号或学籍号查找" in client.get(reverse("accounts:access_log")).content.decode()
    )
    client.force_login(other)
    assert (
        "按完整身份证号或学籍号查找"
        not in client.get(reverse("accounts:access_log")).content.decode()
    )
