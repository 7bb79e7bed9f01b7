"""Pages of issue #17: the 学籍与档卡不一致 list (scope per role, Excel export), the 学籍 export
and the 民政 returns for leaders (404 outside the scope, 403 without the export right)."""

import io

import openpyxl
import pytest
from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.exports import XLSX

MISMATCH = reverse("children:xueji_mismatch")
XUEJI = reverse("children:xueji_export")
MINZHENG = reverse("children:minzheng_export")


@pytest.fixture
def mismatched(kids):
    # c31a and c32a and bq31a and gt are double; c31b single; c41a none
    for key, xueji in (
        ("c31a", "none"),
        ("c41a", "single"),
        ("bq31a", "single"),
        ("c31b", "single"),
    ):
        Child.objects.filter(pk=kids[key].pk).update(xueji_category=xueji)
    return kids


SEES = {
    "town": {"张三", "王五", "赵六"},
    "inspector": {"张三", "王五", "赵六"},
    "zx_leader": {"张三", "王五"},
    "zx_counselor": {"张三", "王五"},
    "zx_grade3": {"张三"},
    "zx_teacher31": {"张三"},
    "bq_leader": {"赵六"},
    "proxy_wang": set(),
}


@pytest.mark.parametrize("role", sorted(SEES))
def test_mismatch_list_shows_the_scope(client, users, mismatched, role):
    client.force_login(users[role])
    response = client.get(MISMATCH)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("张三", "王五", "赵六", "单小明"):
        assert (f">{name}</a>" in html) is (name in SEES[role]), (role, name)
    if not SEES[role]:
        assert "没有学籍与档卡不一致的学生" in html
    assert "none" not in html and "single" not in html  # words, not codes


def test_mismatch_list_filters_and_htmx_fragment(client, users, mismatched):
    client.force_login(users["town"])
    response = client.get(MISMATCH, {"school": "HS-ZX", "grade": "4"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and ">王五</a>" in html and ">张三</a>" not in html
    assert "共 1 人" in html


def test_mismatch_list_query_count_is_pinned(
    client, users, mismatched, django_assert_max_num_queries
):
    client.force_login(users["town"])
    with django_assert_max_num_queries(12):
        assert client.get(MISMATCH).status_code == 200


def test_mismatch_export_for_leaders_only(client, users, mismatched):
    client.force_login(users["zx_leader"])
    response = client.get(MISMATCH, {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    )
    assert rows[1][:3] == ("学校", "姓名", "身份证号")
    names = {r[1] for r in rows[2:]}
    assert names == {"张三", "王五"}
    assert all("*" in r[2] for r in rows[2:])  # masked
    assert AccessLog.objects.filter(action="export", detail__contains="学籍与档卡不一致").exists()
    for role in ("zx_teacher31", "inspector", "proxy_wang"):
        client.force_login(users[role])
        assert client.get(MISMATCH, {"export": "xlsx"}).status_code == 403, role


def test_pages_need_login(client, cast):
    for url in (MISMATCH, XUEJI, MINZHENG):
        assert client.get(url).status_code == 302


# --- the 学籍 export page ---------------------------------------------------------------------


def test_xueji_export_page_and_download(client, users, kids):
    client.force_login(users["zx_leader"])
    page = client.get(XUEJI)
    assert page.status_code == 200 and "虎山镇中心小学" in page.content.decode()
    assert "板桥小学" not in page.content.decode()
    response = client.get(XUEJI, {"school": "HS-ZX"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    names = {r[0] for r in book["学籍留守信息"].iter_rows(min_row=2, values_only=True)}
    assert names == {"张三", "单小明", "李四", "王五"}
    assert AccessLog.objects.filter(action="export", user=users["zx_leader"]).exists()


@pytest.mark.parametrize(
    ("role", "school", "status"),
    [
        ("zx_leader", "HS-BQ", 404),
        ("zx_leader", "NOPE", 404),
        ("bq_leader", "HS-BQ", 200),
        ("town", "HS-GT", 200),
        ("zx_teacher31", "HS-ZX", 403),
        ("zx_grade3", "HS-ZX", 403),
        ("inspector", "HS-ZX", 403),
        ("proxy_wang", "HS-ZX", 403),
    ],
)
def test_xueji_export_scope(client, users, kids, role, school, status):
    client.force_login(users[role])
    assert client.get(XUEJI, {"school": school}).status_code == status


# --- the 民政 page ------------------------------------------------------------------------------


def test_minzheng_page_lists_violations_then_exports(client, users, kids):
    client.force_login(users["zx_leader"])
    page = client.get(MINZHENG)
    assert page.status_code == 200
    html = page.content.decode()
    assert "虎山镇中心小学" in html and "全镇" not in html
    response = client.get(MINZHENG, {"unit": "school:HS-ZX", "as_of": "2026-11-29"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "勾稽关系不符" in html and "监护情况评估未填写" in html and "张三" in html
    Child.objects.update(boarding=True, guardianship_assessment="fair")
    response = client.get(MINZHENG, {"unit": "school:HS-ZX", "as_of": "2026-11-29"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert set(book.sheetnames) == {"登记表", "汇总表"}


def test_minzheng_town_for_the_town_admin(client, users, kids):
    Child.objects.update(boarding=True, guardianship_assessment="good")
    client.force_login(users["town"])
    town = users["town"].role_assignments.first().town
    assert "全镇" in client.get(MINZHENG).content.decode()
    response = client.get(MINZHENG, {"unit": f"town:{town.pk}"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX


@pytest.mark.parametrize(
    ("role", "unit", "status"),
    [
        ("zx_leader", "school:HS-BQ", 404),
        ("zx_leader", "town:1", 404),
        ("zx_leader", "town:x", 404),
        ("zx_leader", "other:1", 404),
        ("zx_teacher31", "school:HS-ZX", 403),
        ("inspector", "school:HS-ZX", 403),
        ("proxy_wang", "school:HS-ZX", 403),
    ],
)
def test_minzheng_scope(client, users, kids, role, unit, status):
    client.force_login(users[role])
    assert client.get(MINZHENG, {"unit": unit}).status_code == status


def test_minzheng_bad_date_is_named(client, users, kids):
    client.force_login(users["zx_leader"])
    response = client.get(MINZHENG, {"unit": "school:HS-ZX", "as_of": "2026-02-30"})
    assert response.status_code == 422
    assert "统计基准日" in response.content.decode()


# --- one child's 登记表 as PDF ----------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1  # one A4 page
    return "".join(p.extract_text() for p in reader.pages)


def test_minzheng_pdf_of_one_child(client, users, kids):
    client.force_login(users["zx_leader"])
    url = reverse("children:minzheng_pdf", args=[kids["c31a"].pk])
    response = client.get(url, {"as_of": "2026-11-30"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "农村留守儿童基本情况登记表" in text and "张三" in text and "2026-11-30" in text
    assert kids["c31a"].id_number in text
    assert AccessLog.objects.filter(
        action="export", child=kids["c31a"], detail__contains="民政登记表 PDF"
    ).exists()
    not_civil = client.get(reverse("children:minzheng_pdf", args=[kids["c41a"].pk]))
    assert "不属于民政口径" in pdf_text(not_civil.content)


@pytest.mark.parametrize(
    ("role", "key", "status"),
    [
        ("zx_leader", "bq31a", 404),
        ("bq_leader", "c31a", 404),
        ("town", "gt", 200),
        ("zx_teacher31", "c31a", 403),
        ("inspector", "c31a", 403),
        ("proxy_wang", "c31a", 403),
        ("proxy_wang", "c41a", 404),
    ],
)
def test_minzheng_pdf_scope(client, users, kids, role, key, status):
    client.force_login(users[role])
    response = client.get(reverse("children:minzheng_pdf", args=[kids[key].pk]))
    assert response.status_code == status


def test_minzheng_pdf_bad_date(client, users, kids):
    client.force_login(users["zx_leader"])
    url = reverse("children:minzheng_pdf", args=[kids["c31a"].pk])
    response = client.get(url, {"as_of": "明天"})
    assert response.status_code == 422 and "统计基准日" in response.content.decode()
