"""The pages: scope and role for each, the forms' Chinese errors, roll call, the door."""

import datetime as dt

import pytest

from guanai.activities import donations, homes, services
from guanai.activities.models import Activity, Donation, Home, HomeVisit, Participant
from guanai.contacts.models import Contact
from guanai.testing import assert_scoped

from .conftest import ALL, MANAGE_ZX, READ_BQ, READ_ZX, client_for


def text(response) -> str:
    return response.content.decode()


def test_activity_pages_follow_the_scope(client, users, acts):
    assert_scoped(client, users, lambda _n: "/activities/", allowed=ALL, denied=set())
    assert_scoped(
        client,
        users,
        lambda _n: f"/activities/{acts['camp'].pk}/",
        allowed=READ_ZX | {"proxy_wang"},
        denied=ALL - READ_ZX - {"proxy_wang"},
    )
    assert_scoped(
        client,
        users,
        lambda _n: f"/activities/{acts['bq'].pk}/",
        allowed=READ_BQ,
        denied=ALL - READ_BQ,
    )
    for page in (
        "/activities/coverage/",
        "/activities/donations/",
        "/activities/donations/fairness/",
        "/activities/homes/",
    ):
        assert_scoped(client, users, lambda _n, p=page: p, allowed=ALL, denied=set())


@pytest.mark.parametrize("who", sorted(ALL))
def test_planning_page_is_for_managers(who, users, cast):
    c = client_for(users[who])
    r = c.get("/activities/new/")
    if who in MANAGE_ZX | {"bq_leader"}:
        assert r.status_code == 200
    else:
        assert r.status_code == 403


def test_planning_an_activity_on_the_page(users, cast):
    c = client_for(users["zx_leader"])
    r = c.post(
        "/activities/new/",
        {
            "kind": "proxy_parent",
            "title": "代理家长见面会",
            "starts_on": "2026-11-28",
            "partners": "妇联",
        },
    )
    a = Activity.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/activities/{a.pk}/"
    assert a.school == cast["schools"]["zx"] and a.ends_on == dt.date(2026, 11, 28)
    r = c.post("/activities/new/", {"kind": "x", "title": "", "starts_on": "明天"})
    body = text(r)
    assert r.status_code == 200 and "请填写活动名称" in body
    assert "应为 结对活动、爱心捐献" in body
    errors = body[body.index('id="form-errors"') :].split("</ul>")[0]
    assert errors.count("<li>") == 3
    assert Activity.objects.count() == 1


def test_choosing_children_by_class_then_adding_them(users, cast, kids, acts):
    c = client_for(users["zx_leader"])
    a = acts["camp"]
    r = c.get(f"/activities/{a.pk}/?class={cast['classes']['c31'].pk}&pick=1")
    assert "单小明" in text(r) and "加入名单（1 人）" in text(r)
    r = c.post(f"/activities/{a.pk}/", {"children": [kids["c31b"].pk]})
    assert r.status_code == 302
    assert Participant.objects.filter(activity=a, child=kids["c31b"]).exists()
    r = c.post(f"/activities/{a.pk}/", {"children": []})
    assert "请至少选择一名儿童" in text(r)
    r = c.post(f"/activities/{a.pk}/", {"summary": "三天营地生活"})
    a.refresh_from_db()
    assert a.summary == "三天营地生活"
    assert (
        client_for(users["zx_teacher31"]).post(f"/activities/{a.pk}/", {"summary": "x"}).status_code
        == 403
    )


def test_roll_call_on_a_phone(users, kids, acts):
    c = client_for(users["zx_teacher31"])
    a = acts["camp"]
    r = c.get(f"/activities/{a.pk}/attendance/")
    assert r.status_code == 200
    assert "张三" in text(r) and "李四" not in text(r)  # only children she may contact
    r = c.post(
        f"/activities/{a.pk}/attendance/",
        {"child": kids["c31a"].pk, "present": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "✓ 到场" in text(r)
    assert Participant.objects.get(activity=a, child=kids["c31a"]).present is True
    # a late-comer found by pinyin initials
    r = c.get(f"/activities/{a.pk}/attendance/?q=dxm")
    assert "单小明" in text(r) and "补录到场" in text(r)
    c.post(f"/activities/{a.pk}/attendance/", {"child": kids["c31b"].pk, "present": "1"})
    assert Participant.objects.get(activity=a, child=kids["c31b"]).late_added
    assert c.post(f"/activities/{a.pk}/attendance/", {"child": kids["c32a"].pk}).status_code == 404
    assert c.post(f"/activities/{a.pk}/attendance/", {"child": "x"}).status_code == 404
    assert client_for(users["inspector"]).get(f"/activities/{a.pk}/attendance/").status_code == 403


def test_coverage_page_and_its_export(users, kids, acts):
    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=users["zx_leader"])
    c = client_for(users["zx_leader"])
    body = text(c.get("/activities/coverage/"))
    assert "留守儿童 3 人，参加过活动 1 人" in body
    assert "未参加：单小明" in body and "未参加：李四" in body
    r = c.get("/activities/coverage/?format=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    names = [row[3] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(names) == ["单小明", "李四"]
    assert (
        client_for(users["proxy_wang"]).get("/activities/coverage/?format=xlsx").status_code == 403
    )


def test_donation_pages(users, kids, cast):
    c = client_for(users["zx_leader"])
    r = c.post(
        "/activities/donations/",
        {
            "donor": "县团委",
            "donor_kind": "organisation",
            "kind": "items",
            "item": "书包",
            "amount": "5",
            "received_on": "2026-11-20",
        },
    )
    d = Donation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/activities/donations/{d.pk}/"
    r = c.post(
        "/activities/donations/",
        {"donor": "", "kind": "money", "amount": "x", "received_on": "2026-11-20"},
    )
    assert "请填写捐赠方" in text(r) and "应为数字" in text(r)
    url = f"/activities/donations/{d.pk}/"
    ok = {"child": kids["c31a"].pk, "amount": "3", "handed_on": "2026-11-25", "handed_by": "刘校长"}
    assert c.post(url, ok).status_code == 302
    r = c.post(url, ok)
    assert "超过余额：这笔捐赠还剩 2 件" in text(r)
    body = text(c.get(url))
    assert "张三" in body and 'id="balance">2 件' in body
    assert_scoped(
        client_for(users["town"]),
        users,
        lambda _n: url,
        allowed=READ_ZX,
        denied=ALL - READ_ZX,
    )
    assert client_for(users["zx_teacher31"]).post(url, ok).status_code == 403
    assert client_for(users["inspector"]).post("/activities/donations/", {}).status_code == 403


def test_fairness_page(users, kids, cast):
    d = donations.record_donation(
        school=cast["schools"]["zx"],
        values={
            "donor": "张先生",
            "kind": "money",
            "amount": "900",
            "received_on": dt.date(2026, 11, 1),
        },
        by=users["zx_leader"],
    )
    for _ in range(2):
        donations.allocate(
            donation=d,
            child=kids["c31a"],
            values={"amount": "100", "handed_on": dt.date(2026, 11, 2), "handed_by": "刘校长"},
            by=users["zx_leader"],
        )
    body = text(client_for(users["zx_leader"]).get("/activities/donations/fairness/"))
    assert "张三" in body and "2 次" in body and "未写明原因" in body
    assert "单小明" in body and "李四" in body


def test_the_door_at_tablet_width(users, kids, cast):
    home = homes.create_home(
        school=cast["schools"]["bq"], values={"name": "板桥留守儿童之家"}, by=users["bq_leader"]
    )
    c = client_for(users["bq_leader"])
    url = f"/activities/homes/{home.pk}/"
    assert "赵六" in text(c.get(url + "?q=zl"))
    r = c.get(url + "?q=zl&partial=found", HTTP_HX_REQUEST="true")
    assert "签到" in text(r) and "<html" not in text(r)
    assert c.post(url + "sign/", {"child": kids["bq31a"].pk}).status_code == 302
    assert '在馆儿童 <span class="text-muted">1 人' in text(c.get(url))
    r = c.post(url + f"call/{kids['bq31a'].pk}/", {"with_whom": "", "notes": ""})
    assert "请填写通话的家长" in text(r)
    c.post(url + f"call/{kids['bq31a'].pk}/", {"with_whom": "父亲", "notes": "视频"})
    assert Contact.objects.get().kind == "family_call"
    c.post(url + "sign/", {"child": kids["bq31a"].pk, "action": "out"})
    assert HomeVisit.objects.get().signed_out_at is not None
    body = text(c.get(url + "use/"))
    assert "本月签到 1 人次，1 名儿童" in body
    assert_scoped(
        client_for(users["town"]), users, lambda _n: url, allowed=READ_BQ, denied=ALL - READ_BQ
    )
    assert (
        client_for(users["inspector"]).post(url + "sign/", {"child": kids["bq31a"].pk}).status_code
        == 403
    )
    assert (
        client_for(users["zx_leader"]).post(url + "sign/", {"child": kids["bq31a"].pk}).status_code
        == 404
    )


def test_setting_up_a_home_on_the_page(users, cast):
    c = client_for(users["bq_leader"])
    assert "请填写名称" in text(c.post("/activities/homes/", {"name": ""}))
    assert c.post("/activities/homes/", {"name": "板桥之家"}).status_code == 302
    assert Home.objects.get().school == cast["schools"]["bq"]
    assert (
        client_for(users["zx_teacher31"]).post("/activities/homes/", {"name": "x"}).status_code
        == 403
    )


def test_the_cards_section_lists_the_activities(users, kids, acts):
    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=users["zx_leader"])
    body = text(client_for(users["zx_teacher31"]).get(f"/activities/child/{kids['c31a'].pk}/"))
    assert "暑期意志营" in body and "参加" in body and "代理家长见面会" in body
    body = text(client_for(users["zx_teacher31"]).get(f"/activities/child/{kids['c31b'].pk}/"))
    assert "还没有参加过活动" in body
    assert (
        client_for(users["bq_leader"]).get(f"/activities/child/{kids['c31a'].pk}/").status_code
        == 404
    )


def test_home_panel_counts_children_reached_by_nothing(users, kids, acts):
    from django.template.loader import render_to_string

    services.mark(activity=acts["camp"], child=kids["c31a"], present=True, by=users["zx_leader"])
    panel = services.home_panel(users["zx_leader"])
    assert panel == {"total": 3, "missed": 2}
    html = render_to_string("activities/_home_panel.html", {"activities_panel": panel})
    assert "还有 <strong>2</strong> 名留守儿童" in html
    assert services.home_panel(users["inspector"])["missed"] == 4


def test_the_publicity_page_names_only_children_with_publicity_consent(users, kids, acts):
    leader = users["zx_leader"]
    Child = type(kids["c31a"])
    Child.objects.filter(pk=kids["c31a"].pk).update(publicity_consent=True)
    for key in ("c31a", "c32a", "c41a"):
        services.mark(activity=acts["camp"], child=kids[key], present=True, by=leader)
    body = text(client_for(leader).get(f"/activities/{acts['camp'].pk}/publicity/"))
    article = body[body.index('id="publicity"') :]
    assert "共安排 3 名儿童，实际参加 3 人" in article
    assert "张三等 3 人" in article
    assert "李四" not in article and "王五" not in article and "年级" not in article
    assert (
        client_for(users["bq_leader"]).get(f"/activities/{acts['camp'].pk}/publicity/").status_code
        == 404
    )


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _upload(name="camp.png", data=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data or _png(), content_type="image/png")


def test_photos_only_of_children_whose_guardians_consented(users, kids, acts):
    Child = type(kids["c31a"])
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    c = client_for(users["zx_teacher31"])
    url = f"/activities/{acts['camp'].pk}/photos/"
    r = c.post(url, {"child": kids["c31a"].pk, "photo": _upload()}, follow=True)
    assert "已上传 张三 的照片" in text(r)
    from guanai.activities.models import ActivityPhoto

    photo = ActivityPhoto.objects.get()
    assert photo.file.name.endswith((".jpg", ".png")) and "camp" not in photo.file.name
    # c41a's card has no consent (and the teacher may not mark him): refused
    Child.objects.filter(pk=kids["c31b"].pk).update(photo_consent=False)
    services.add_participants(
        activity=acts["camp"], child_ids=[kids["c31b"].pk], by=users["zx_leader"]
    )
    r = c.post(url, {"child": kids["c31b"].pk, "photo": _upload()}, follow=True)
    assert "档卡上没有监护人同意使用照片的记录，不能上传照片" in text(r)
    r = c.post(url, {"child": kids["c31a"].pk, "photo": _upload("x.png", b"<html>")}, follow=True)
    assert "不是 JPG 或 PNG 照片" in text(r)
    assert ActivityPhoto.objects.count() == 1
    # served to those who see the child, as an image, never to others
    got = c.get(f"/activities/photos/{photo.pk}/")
    assert got.status_code == 200 and got["Content-Type"] in ("image/jpeg", "image/png")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert client_for(users["bq_leader"]).get(f"/activities/photos/{photo.pk}/").status_code == 404
    assert client_for(users["proxy_wang"]).get(f"/activities/photos/{photo.pk}/").status_code == 200
    assert (
        client_for(users["inspector"])
        .post(url, {"child": kids["c31a"].pk, "photo": _upload()})
        .status_code
        == 403
    )
    detail = text(c.get(f"/activities/{acts['camp'].pk}/"))
    assert f"/activities/photos/{photo.pk}/" in detail


def test_a_proxy_parent_takes_the_roll_of_his_children_at_his_activity_only(users, kids, acts):
    c = client_for(users["proxy_wang"])
    body = text(c.get(f"/activities/{acts['proxy'].pk}/attendance/"))
    assert "张三" in body and "李四" in body
    body = text(c.get(f"/activities/{acts['camp'].pk}/attendance/"))
    assert "张三" not in body and "名单上没有您可以点名的儿童" in body
    r = c.post(
        f"/activities/{acts['proxy'].pk}/attendance/", {"child": kids["c32a"].pk, "present": "1"}
    )
    assert r.status_code == 302
    assert Participant.objects.get(activity=acts["proxy"], child=kids["c32a"]).present is True
    r = c.post(
        f"/activities/{acts['camp'].pk}/attendance/", {"child": kids["c32a"].pk, "present": "1"}
    )
    assert r.status_code == 403
