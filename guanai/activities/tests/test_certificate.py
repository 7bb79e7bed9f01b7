"""The donor's certificate (捐赠证书): totals and anonymised stories, never a child's name or
class; downloaded by those who manage the school's donations, each download logged."""

import io

import pytest
from pypdf import PdfReader

from guanai.accounts.models import AccessLog
from guanai.activities import donations
from guanai.activities.models import Donation
from guanai.lib.errors import Invalid

from .conftest import ALL, MANAGE_ZX, READ_ZX, client_for
from .test_donations import give, hand

URL = "/api/v1/donations"


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    text = "".join((p.extract_text() or "") for p in reader.pages)
    return text.replace(" ", "").replace("\n", "")


@pytest.fixture
def given(cast):
    """Ten schoolbags from 县妇联 at ZX: two to 张三, one to 李四."""
    users, kids = cast["users"], cast["children"]
    d = give(cast["schools"]["zx"], users["zx_leader"], donor="县妇联", donor_kind="organisation")
    hand(d, kids["c31a"], users["zx_leader"], amount="2", what="书包")
    hand(d, kids["c32a"], users["zx_leader"], amount="1", what="书包")
    return d


def test_the_certificate_counts_what_was_handed_out_without_names(users, given):
    donations.set_stories(
        donation=given,
        stories="一个孩子背着新书包第一次不再迟到。\n一位奶奶说：孩子上学更有劲了。",
        by=users["zx_leader"],
    )
    r = client_for(users["zx_leader"]).get(f"/activities/donations/{given.pk}/certificate/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert "attachment" in r["Content-Disposition"]
    text = pdf_text(r.content)
    assert "捐赠证书" in text and "县妇联" in text
    assert "2名儿童" in text and "书包" in text and "尚余7件" in text
    assert "虎山镇中心小学" in text or "中心小学" in text
    assert "不再迟到" in text
    for name in ("张三", "李四", "三年级", "(1)班"):
        assert name not in text
    log = AccessLog.objects.get()
    assert log.action == "export" and "捐赠证书" in log.detail and log.user == users["zx_leader"]


def test_the_per_school_totals(users, given):
    data = donations.certificate(Donation.objects.get(pk=given.pk))
    assert data["children"] == 2 and data["times"] == 2 and data["given"] == "3"
    assert data["per_school"] == [
        {"school": given.school.name, "what": "书包", "children": 2, "times": 2, "amount": "3"}
    ]


def test_a_certificate_with_nothing_handed_out_yet(users, cast):
    d = give(cast["schools"]["zx"], users["zx_leader"], kind="money", item="", amount="500")
    text = pdf_text(client_for(users["zx_leader"]).get(f"{URL}/{d.pk}/certificate").content)
    assert "500元" in text and "尚未发放" in text


@pytest.mark.parametrize("who", sorted(ALL))
def test_the_certificate_is_for_those_who_manage_donations(who, users, given):
    for url in (f"/activities/donations/{given.pk}/certificate/", f"{URL}/{given.pk}/certificate"):
        r = client_for(users[who]).get(url)
        if who in MANAGE_ZX:
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
        elif who in READ_ZX:
            assert r.status_code == 403
        else:
            assert r.status_code == 404
    assert AccessLog.objects.filter(action="export").count() == (2 if who in MANAGE_ZX else 0)


def test_the_donation_page_offers_the_certificate_to_managers_only(users, given):
    page = client_for(users["zx_leader"]).get(f"/activities/donations/{given.pk}/")
    assert "下载捐赠证书" in page.content.decode()
    page = client_for(users["zx_grade3"]).get(f"/activities/donations/{given.pk}/")
    assert "下载捐赠证书" not in page.content.decode() and "保存故事" not in page.content.decode()


@pytest.mark.parametrize(
    ("story", "message"),
    [
        ("张三背着新书包上学了", "故事中不能出现受助儿童的姓名：张三"),
        ("李四很高兴", "故事中不能出现受助儿童的姓名：李四"),
        ("三年级的孩子很高兴", "故事中不能写年级或班级"),
        ("3年级1班收到了书包", "故事中不能写年级或班级"),
        ("（1）班的同学", "故事中不能写年级或班级"),
        ("字" * 2001, "不能超过 2000 个字"),
    ],
)
def test_stories_naming_a_child_or_a_class_are_refused(users, given, story, message):
    with pytest.raises(Invalid) as exc:
        donations.set_stories(donation=given, stories=story, by=users["zx_leader"])
    assert exc.value.errors == {"stories": message}
    assert Donation.objects.get(pk=given.pk).stories == ""


def test_a_given_name_counts_as_a_name(users, cast, kids):
    d = give(cast["schools"]["zx"], users["zx_leader"])
    hand(d, kids["c31b"], users["zx_leader"])  # 单小明
    with pytest.raises(Invalid) as exc:
        donations.set_stories(donation=d, stories="小明现在爱看书", by=users["zx_leader"])
    assert "小明" in exc.value.errors["stories"]
    # a name of a child it did not go to is not checked (it cannot identify a recipient)
    donations.set_stories(donation=d, stories="孩子们都很开心", by=users["zx_leader"])


def test_stories_are_left_out_when_a_later_allocation_makes_them_name_a_child(users, kids, given):
    donations.set_stories(donation=given, stories="王五的哥哥也来了", by=users["zx_leader"])
    hand(given, kids["c41a"], users["zx_leader"], what="书包")  # 王五 now received one
    data = donations.certificate(Donation.objects.get(pk=given.pk))
    assert data["stories"] == [] and "王五" in data["stories_left_out"]
    page = client_for(users["zx_leader"]).get(f"/activities/donations/{given.pk}/")
    assert "证书暂不印这些故事" in page.content.decode()
    text = pdf_text(client_for(users["zx_leader"]).get(f"{URL}/{given.pk}/certificate").content)
    assert "王五" not in text


def test_stories_on_the_page_and_through_the_api(users, given):
    c = client_for(users["zx_leader"])
    r = c.post(f"/activities/donations/{given.pk}/", {"stories": "张三很开心"})
    assert r.status_code == 200 and "故事中不能出现受助儿童的姓名：张三" in r.content.decode()
    r = c.post(f"/activities/donations/{given.pk}/", {"stories": "孩子很开心"}, follow=True)
    assert "已保存给捐赠方的故事" in r.content.decode()
    r = c.patch(f"{URL}/{given.pk}", {"stories": "李四很开心"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "stories"
    r = c.patch(f"{URL}/{given.pk}", {"stories": "书包很结实"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["stories"] == "书包很结实"
    assert (
        client_for(users["zx_grade3"])
        .post(f"/activities/donations/{given.pk}/", {"stories": "x"})
        .status_code
        == 403
    )
    for who, status in (("zx_grade3", 403), ("inspector", 403), ("bq_leader", 404)):
        r = client_for(users[who]).patch(
            f"{URL}/{given.pk}", {"stories": "x"}, content_type="application/json"
        )
        assert r.status_code == status
