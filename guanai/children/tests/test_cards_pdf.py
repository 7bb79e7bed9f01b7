"""Printable cards (一人一卡, issue #14): a class's cards as one PDF, a page a child, for those
who print for the class; health only for its readers and psychology only for its readers
(issue #15); the full ID number only for those who read it; each print logged."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from guanai.accounts.models import AccessAction, AccessLog
from guanai.children.models import Child
from guanai.children.services import update_child

URL = reverse("children:cards_pdf")


@pytest.fixture
def c31a(cast):
    child = cast["children"]["c31a"]
    update_child(
        child=child,
        data={"health": "哮喘需随身带药", "psych_summary": "想念母亲夜里常哭"},
        version=child.version,
        by=cast["users"]["zx_leader"],
    )
    return Child.objects.get(pk=child.pk)


def _text(response) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(response.content))
    return len(reader.pages), "".join(p.extract_text() for p in reader.pages)


def test_class_teacher_prints_her_class(client, cast, c31a):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(URL, {"class": c31a.school_class_id})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages, text = _text(response)
    enrolled = Child.objects.filter(school_class=c31a.school_class, enrolment="enrolled")
    assert pages == enrolled.count()
    assert all(c.name in text for c in enrolled)
    assert "哮喘需随身带药" in text and "想念母亲夜里常哭" not in text
    assert c31a.id_number in text  # she reads full numbers on the card: the print is logged
    log = AccessLog.objects.get(action=AccessAction.EXPORT, detail__startswith="打印档卡")
    assert "含完整身份证号" in log.detail and log.user == cast["users"]["zx_teacher31"]


def test_leader_prints_one_card_with_psychology(client, cast, c31a):
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(URL, {"child": c31a.pk})
    pages, text = _text(response)
    assert pages == 1 and "想念母亲夜里常哭" in text and "哮喘需随身带药" in text


@pytest.mark.parametrize(
    ("role", "params", "status"),
    [
        ("inspector", "class", 403),  # read-only
        ("zx_counselor", "class", 404),  # no class to print for
        ("zx_counselor", "child", 403),  # sees the card, prints none
        ("proxy_wang", "child", 403),
        ("bq_leader", "class", 404),  # another school's class
        ("bq_leader", "child", 404),
        ("town", "class", 200),
    ],
)
def test_who_prints(client, cast, c31a, role, params, status):
    client.force_login(cast["users"][role])
    value = c31a.school_class_id if params == "class" else c31a.pk
    assert client.get(URL, {params: value}).status_code == status


@pytest.mark.parametrize("query", [{}, {"class": "abc"}, {"class": "999999"}, {"child": "-1"}])
def test_bad_requests_are_not_found(client, cast, query):
    client.force_login(cast["users"]["zx_leader"])
    assert client.get(URL, query).status_code == 404


def test_list_offers_the_class_print_when_filtered_to_one_class(client, cast, c31a):
    client.force_login(cast["users"]["zx_teacher31"])
    html = client.get(reverse("children:list"), {"grade": 3, "class_no": 1}).content.decode()
    assert 'id="print-cards"' in html
    html = client.get(reverse("children:list")).content.decode()
    assert 'id="print-cards"' not in html
    card = client.get(reverse("children:detail", args=[c31a.pk])).content.decode()
    assert 'id="print-card"' in card
