"""A whole school's printable cards in one PDF (一人一卡, issue #14): a page per child, grouped
by class in order, for those who print for the whole school; what each printer reads, as for a
class; each print logged."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from guanai.accounts.models import AccessAction, AccessLog
from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.testing import make_child

URL = reverse("children:cards_pdf")


@pytest.fixture
def school(cast):
    child = cast["children"]["c31a"]
    update_child(
        child=child,
        data={"health": "哮喘需随身带药", "psych_summary": "想念母亲夜里常哭"},
        version=child.version,
        by=cast["users"]["zx_leader"],
    )
    gone = make_child(cast["classes"]["c32"], name="已转走")
    Child.objects.filter(pk=gone.pk).update(enrolment="transferred")
    return cast["schools"]["zx"]


def _pages(response) -> list[str]:
    reader = PdfReader(io.BytesIO(response.content))
    return [p.extract_text() for p in reader.pages]


def test_a_school_leader_prints_the_whole_school_a_page_a_child_by_class(client, cast, school):
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(URL, {"school": "HS-ZX"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = _pages(response)
    enrolled = Child.objects.filter(school=school, enrolment="enrolled").order_by(
        "school_class__grade", "school_class__class_no", "name", "pk"
    )
    assert len(pages) == enrolled.count() == 4
    for text, child in zip(pages, enrolled, strict=True):
        assert child.name in text  # one child a page, in class order
    assert "已转走" not in "".join(pages)
    classes = [("三年级(1)班" in t, "三年级(2)班" in t, "四年级(1)班" in t) for t in pages]
    assert classes == [(True, False, False)] * 2 + [(False, True, False), (False, False, True)]
    text = "".join(pages)
    assert "哮喘需随身带药" in text and "想念母亲夜里常哭" in text  # the leader reads both
    log = AccessLog.objects.get(action=AccessAction.EXPORT, detail__startswith="打印档卡")
    assert "打印档卡 4 张" in log.detail and "全校" in log.detail
    assert log.school == school


def test_the_town_prints_a_school_without_psychology(client, cast, school):
    client.force_login(cast["users"]["town"])
    text = "".join(_pages(client.get(URL, {"school": "HS-ZX"})))
    assert "张三" in text and "想念母亲夜里常哭" not in text


@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("zx_leader", "HS-ZX", 200),
        ("town", "HS-BQ", 200),
        ("zx_grade3", "HS-ZX", 403),  # prints for her grade's classes, not the school
        ("zx_teacher31", "HS-ZX", 403),
        ("zx_counselor", "HS-ZX", 403),
        ("inspector", "HS-ZX", 403),  # read-only
        ("proxy_wang", "HS-ZX", 404),  # holds no unit: the school is not his
        ("bq_leader", "HS-ZX", 404),  # another school
        ("zx_leader", "HS-BQ", 404),
        ("zx_leader", "NO-SUCH", 404),
    ],
)
def test_who_prints_a_whole_school(client, cast, school, role, code, status):
    client.force_login(cast["users"][role])
    assert client.get(URL, {"school": code}).status_code == status


def test_a_school_without_pupils_prints_nothing_and_says_so(client, cast):
    client.force_login(cast["users"]["town"])
    Child.objects.filter(school=cast["schools"]["gt"]).update(enrolment="graduated")
    response = client.get(URL, {"school": "HS-GT"}, follow=True)
    assert "没有在读学生" in response.content.decode()


def test_the_statistics_school_page_links_the_school_print(client, cast, school):
    client.force_login(cast["users"]["zx_leader"])
    html = client.get("/stats/?school=HS-ZX").content.decode()
    assert f'href="{URL}?school=HS-ZX"' in html
    client.force_login(cast["users"]["zx_grade3"])
    html = client.get("/stats/?school=HS-ZX&grade=3").content.decode()
    assert "打印全校档卡" not in html
    html = client.get("/stats/?school=HS-ZX&grade=3&class_no=1").content.decode()
    assert f"{URL}?class={cast['classes']['c31'].pk}" in html
    client.force_login(cast["users"]["inspector"])
    assert "打印" not in client.get("/stats/?school=HS-ZX").content.decode()
