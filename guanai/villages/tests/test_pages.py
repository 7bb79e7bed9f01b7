"""The village pages: the director's list, the cards read-only, contacts, alerts, the 委托监护
确认书 form and scan — each inside and outside the scope."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.children.models import Guardian
from guanai.contacts.models import Contact
from guanai.testing import assert_scoped
from guanai.villages.models import Entrustment

from .conftest import PDF, png_bytes

FENGSHU = "枫树"


def village_url(key: str = FENGSHU) -> str:
    return reverse("villages:village", args=[key])


def test_director_lands_on_her_village_and_sees_its_children(client, village):
    client.force_login(village["director"])
    response = client.get(reverse("villages:index"), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "枫树村儿童" in page
    for name in ("张三", "单小明", "赵六", "王五"):
        assert name in page
    assert "李四" not in page and "孙七" not in page and "远方" not in page
    assert "板桥小学" in page and "虎山镇中心小学" in page
    assert "未签" in page and "还没有联系记录" in page
    assert "导出民政登记表" in page


def test_village_pages_in_and_out_of_scope(client, users, village):
    users = users | {"director": village["director"], "far_supervisor": village["far_supervisor"]}
    assert_scoped(
        client,
        users,
        lambda _name: village_url(),
        # a proxy parent opens it too: 张三, named to him, lives there
        allowed={"director", "town", "zx_leader", "bq_leader", "zx_teacher31", "proxy_wang"},
        denied=set(),
    )
    # another town's 枫树村 is another village: its 督导员 sees only his own town's child
    client.force_login(village["far_supervisor"])
    page = client.get(village_url()).content.decode()
    assert "远方" in page and "张三" not in page
    client.force_login(village["director"])
    assert "远方" not in client.get(village_url()).content.decode()
    assert_scoped(
        client,
        users,
        lambda _name: village_url("古田"),
        allowed={"town", "zx_leader", "child_supervisor"},
        denied={"director", "bq_leader", "zx_teacher31"},
    )
    for route in ("villages:changes", "villages:register"):
        client.force_login(village["director"])
        assert client.get(reverse(route, args=["古田"])).status_code == 404
        client.force_login(users["zx_teacher31"])  # sees the village, no export right
        if route == "villages:register":
            assert client.get(reverse(route, args=[FENGSHU])).status_code == 403


def test_a_school_leader_sees_only_her_schools_children_of_the_village(client, users, village):
    client.force_login(users["bq_leader"])
    page = client.get(village_url()).content.decode()
    assert "赵六" in page and "张三" not in page


def test_supervisor_list_holds_left_behind_children_only(client, village):
    client.force_login(village["supervisor"])
    page = client.get(village_url()).content.decode()
    assert "张三" in page and "王五" not in page


def test_cards_are_read_only_and_masked_for_the_director(client, village):
    child = village["kids"]["c31a"]
    client.force_login(village["director"])
    card = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert child.id_number not in card and "查看完整身份证号" not in card
    assert (
        client.get(reverse("children:edit", args=[child.pk])).status_code == 403
    )  # reads it, may not change it
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "notes": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    outside = village["kids"]["gt"]
    assert client.get(reverse("children:detail", args=[outside.pk])).status_code == 404
    assert client.get(f"/api/v1/children/{outside.pk}").status_code == 404


def test_director_logs_a_home_visit_inside_her_village_only(client, village):
    client.force_login(village["director"])
    child, outside = village["kids"]["bq31a"], village["kids"]["gt"]
    assert client.get(reverse("contacts:new") + f"?child={child.pk}").status_code == 200
    assert client.get(reverse("contacts:new") + f"?child={outside.pk}").status_code == 404
    for target, expected in ((child, 201), (outside, 404)):
        response = client.post(
            "/api/v1/contacts",
            {
                "child": target.pk,
                "kind": "home_visit",
                "at": "2026-11-29T09:00:00",
                "with_whom": "祖母",
                "notes": "家中一切正常",
            },
            content_type="application/json",
        )
        assert response.status_code == expected, response.content.decode()
    assert Contact.objects.filter(child=child, by=village["director"]).count() == 1
    page = client.get(village_url()).content.decode()
    assert "2026-11-29" in page


def _orphan_alert(child):
    Guardian.objects.filter(child=child).update(name="")


def test_director_sees_and_resolves_her_villages_alerts(client, users, village):
    child = village["kids"]["bq31a"]
    _orphan_alert(child)
    _orphan_alert(village["kids"]["gt"])
    client.force_login(village["director"])
    page = client.get(reverse("protection:alerts")).content.decode()
    assert "赵六" in page and "孙七" not in page
    items = client.get("/api/v1/alerts").json()["items"]
    assert [i["child_name"] for i in items] == ["赵六"]
    assert "监护缺失" in client.get(village_url()).content.decode()
    response = client.post(
        f"/api/v1/alerts/{child.pk}/resolve",
        {"action": "已联系姑姑，孩子暂住姑姑家"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    client.force_login(users["zx_teacher31"])
    response = client.get("/api/v1/alerts")
    assert response.status_code == 403
    assert "儿童主任" in response.json()["detail"]


def _form(**over):
    data = {
        "guardian_name": "张奶奶",
        "guardian_relation": "奶奶",
        "signed_on": "2026-11-20",
        "scan": SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png"),
    }
    data.update(over)
    return data


def test_director_records_an_entrustment_and_it_shows(client, village):
    child = village["kids"]["c31a"]
    client.force_login(village["director"])
    url = reverse("villages:entrust", args=[child.pk])
    form = client.get(url).content.decode()
    assert "张奶奶" in form  # the card's guardian fills the form
    response = client.post(url, _form())
    assert response.status_code == 302
    e = Entrustment.objects.get(child=child)
    assert (e.guardian_name, e.guardian_relation, e.signed_on) == (
        "张奶奶",
        "祖母",
        dt.date(2026, 11, 20),
    )
    assert e.scan.name.endswith(".jpg") and e.recorded_by == village["director"]
    page = client.get(village_url()).content.decode()
    assert "已签（2026-11-20）" in page
    listing = client.get(reverse("villages:entrustments")).content.decode()
    assert "张三" in listing and "张奶奶" in listing
    scan = client.get(reverse("villages:scan", args=[e.pk]))
    assert scan.status_code == 200 and scan["Content-Type"] == "image/jpeg"  # re-encoded
    assert scan["X-Content-Type-Options"] == "nosniff"
    assert AccessLog.objects.filter(detail="查看委托监护确认书扫描件").count() == 1


def test_a_pdf_scan_is_kept_and_served_as_a_download(client, village):
    child = village["kids"]["c31a"]
    client.force_login(village["director"])
    scan = SimpleUploadedFile("确认书.pdf", PDF, content_type="application/pdf")
    assert (
        client.post(reverse("villages:entrust", args=[child.pk]), _form(scan=scan)).status_code
        == 302
    )
    e = Entrustment.objects.get(child=child)
    response = client.get(reverse("villages:scan", args=[e.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"scan": SimpleUploadedFile("x.txt", b"<html>hello</html>")}, "JPG、PNG 照片或 PDF 文件"),
        ({"scan": SimpleUploadedFile("x.pdf", b"%PDF-1.4 truncated")}, "不完整或已损坏"),
        ({"scan": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 2**20 + 1))}, "超过 10 MB"),
        ({"scan": ""}, "请上传签好的确认书"),
        ({"signed_on": "2026-12-01"}, "签署日期不能晚于今天"),
        ({"signed_on": "2010-01-01"}, "签署日期不能早于儿童出生日期"),
        ({"signed_on": "昨天"}, "签署日期应为日期"),
        ({"guardian_name": ""}, "请填写受委托监护人姓名"),
    ],
)
def test_bad_entrustment_input_is_refused_with_a_plain_message(client, village, over, message):
    client.force_login(village["director"])
    child = village["kids"]["c31a"]
    response = client.post(reverse("villages:entrust", args=[child.pk]), _form(**over))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Entrustment.objects.exists()


def test_entrustment_form_and_scan_in_and_out_of_scope(client, users, village):
    child = village["kids"]["c31a"]
    url = reverse("villages:entrust", args=[child.pk])
    client.force_login(users["zx_teacher31"])  # sees the card, records none
    assert client.get(url).status_code == 403
    client.force_login(users["bq_leader"])
    assert client.get(url).status_code == 404
    client.force_login(users["zx_leader"])
    assert client.get(url).status_code == 200
    client.force_login(users["inspector"])
    assert client.get(url).status_code == 403
    client.force_login(village["director"])
    client.post(url, _form())
    e = Entrustment.objects.get()
    scan = reverse("villages:scan", args=[e.pk])
    users = users | {"director": village["director"], "far": village["far_supervisor"]}
    assert_scoped(
        client,
        users,
        lambda _n: scan,
        allowed={"director", "town", "zx_leader", "zx_teacher31", "inspector"},
        denied={"bq_leader", "far"},
    )


def test_the_card_include_shows_the_signed_confirmation(client, village):
    from django.template import Context, Template

    child = village["kids"]["c31a"]
    client.force_login(village["director"])
    client.post(reverse("villages:entrust", args=[child.pk]), _form())
    tpl = Template("{% load village_tags %}{% card_entrustment user child %}")
    html = tpl.render(Context({"user": village["director"], "child": child}))
    assert "2026-11-20 签署" in html and "登记确认书" in html
    from guanai.testing import make_user

    nobody = make_user("nobody")
    assert "委托监护确认书" in tpl.render(Context({"user": nobody, "child": child}))
    assert "登记确认书" not in tpl.render(Context({"user": nobody, "child": child}))


def test_home_panel_says_what_to_do_today(village):
    from guanai.villages.services import home_panel

    _orphan_alert(village["kids"]["bq31a"])
    panel = home_panel(village["director"])
    assert panel["villages"] == ["枫树村"]
    assert panel["alert_count"] == 1
    names = {c.name for c in panel["unsigned"]}
    assert "张三" in names and "王五" not in names  # 王五's parents are at home
    assert panel["due_count"] >= 1
    assert home_panel(village["far_supervisor"]) is not None
    from guanai.testing import make_user

    assert home_panel(make_user("plain")) is None
