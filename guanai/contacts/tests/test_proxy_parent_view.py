"""What a proxy parent (代理家长, reduced card) sees and logs on his children's contacts:
his own contacts in full, only the date and kind of anybody else's (timeline, form, home page,
photos, API); the kinds a proxy parent logs (见面, 家访, 电话, 视频), no psychological level;
his due list holds the proxy-parent rule only (SPEC §4)."""

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from guanai.children.models import Child
from guanai.contacts.models import Contact, ContactPhoto
from guanai.testing import SUITE_TODAY

from .helpers import add_contact, at

URL = "/api/v1/contacts"
YESTERDAY = SUITE_TODAY - dt.timedelta(days=1)


@pytest.fixture
def contacts(cast):
    """On 张三 (c31a, proxy parent 王叔叔): the counselor's home visit with findings, notes and a
    follow-up, and the proxy parent's own meeting."""
    kid, users = cast["children"]["c31a"], cast["users"]
    others = add_contact(
        kid,
        users["zx_counselor"],
        "home_visit",
        at(YESTERDAY, 15),
        with_whom="祖母 张奶奶",
        notes="父母离异，母亲多年未联系",
        psych_level="watch",
        psych_text="情绪低落",
        safety_level="follow_up",
        safety_text="家门口有池塘",
        follow_up_by=SUITE_TODAY + dt.timedelta(days=3),
    )
    own = add_contact(
        kid, users["proxy_wang"], "meeting", at(YESTERDAY, 17), with_whom="张三", notes="买了文具"
    )
    return {"others": others, "own": own, "kid": kid}


SECRETS = ["父母离异", "情绪低落", "家门口有池塘", "祖母 张奶奶", "周老师"]
PSYCH_SECRETS = ["情绪低落"]


def test_timeline_shows_him_only_date_and_kind_of_others_contacts(client, users, contacts):
    client.force_login(users["proxy_wang"])
    url = reverse("contacts:timeline", args=[contacts["kid"].pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    for text in SECRETS:
        assert text not in html, text
    assert f'{YESTERDAY:%Y-%m-%d} 15:00 · <strong class="text-dark">家访</strong>' in html
    assert "买了文具" in html and "见面" in html  # his own, in full
    assert "待跟进" not in html  # the counselor's follow-up is hers
    client.force_login(users["zx_teacher31"])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    # the class teacher reads the notes, not the psychological finding (SPEC §4)
    assert all(text in html for text in SECRETS if text not in PSYCH_SECRETS)
    assert not any(text in html for text in PSYCH_SECRETS)
    assert "已记录（仅心理辅导老师和学校领导可查看）" in html
    assert "见面" in html and "来校面谈" not in html  # the proxy parent's meeting
    client.force_login(users["zx_counselor"])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert all(text in html for text in SECRETS)


def test_card_page_of_a_proxy_parent_loads_the_same_timeline(client, users, contacts):
    client.force_login(users["proxy_wang"])
    html = client.get(reverse("children:detail", args=[contacts["kid"].pk])).content.decode()
    for text in SECRETS:
        assert text not in html, text


def test_api_gives_him_only_date_and_kind_of_others_contacts(client, users, contacts):
    client.force_login(users["proxy_wang"])
    items = {i["id"]: i for i in client.get(URL).json()["items"]}
    other = items[contacts["others"].pk]
    assert other["kind"] == "home_visit" and other["at"].startswith(f"{YESTERDAY}T15:00")
    assert other["details_hidden"] is True
    assert (other["with_whom"], other["notes"], other["by"], other["by_name"]) == ("", "", "", "")
    assert other["findings"] == {} and other["follow_up_by"] is None
    own = items[contacts["own"].pk]
    assert own["details_hidden"] is False and own["notes"] == "买了文具"
    one = client.get(f"{URL}/{contacts['others'].pk}").json()
    assert one["notes"] == "" and one["findings"] == {}
    assert client.get(URL, {"follow_up": "open"}).json()["count"] == 0
    assert client.get(URL, {"by": "zx_counselor"}).json()["count"] == 0
    client.force_login(users["zx_teacher31"])
    one = client.get(f"{URL}/{contacts['others'].pk}").json()
    assert one["notes"] == "父母离异，母亲多年未联系" and one["details_hidden"] is False


def test_home_page_and_follow_ups_list_show_him_his_own_follow_ups_only(client, users, contacts):
    Contact.objects.filter(pk=contacts["own"].pk).update(follow_up_by=SUITE_TODAY)
    client.force_login(users["proxy_wang"])
    home = client.get(reverse("home")).content.decode()
    assert f'data-follow-up="{contacts["own"].pk}"' in home
    assert f'data-follow-up="{contacts["others"].pk}"' not in home and "父母离异" not in home
    listing = client.get(reverse("contacts:follow_ups")).content.decode()
    assert "买了文具" in listing and "父母离异" not in listing
    done = client.post(
        f"{URL}/{contacts['others'].pk}/follow-up-done",
        {"note": "看过了"},
        content_type="application/json",
    )
    assert done.status_code == 404


def test_photos_of_others_contacts_are_not_served_to_him(client, users, contacts):
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    photo = ContactPhoto.objects.create(
        contact=contacts["others"], file=ContentFile(png.getvalue(), name="x.png")
    )
    client.force_login(users["proxy_wang"])
    assert client.get(reverse("contacts:photo", args=[photo.pk])).status_code == 404
    client.force_login(users["zx_teacher31"])
    assert client.get(reverse("contacts:photo", args=[photo.pk])).status_code == 200


# --- his form -------------------------------------------------------------------------------------


def test_his_form_offers_his_kinds_meeting_first_and_no_psychology(client, users, cast):
    kid = cast["children"]["c32a"]
    client.force_login(users["proxy_wang"])
    response = client.get(reverse("contacts:new"), {"child": kid.pk})
    form = response.context["form"]
    assert form.fields["kind"].choices == [
        ("meeting", "见面"),
        ("home_visit", "家访"),
        ("phone", "电话"),
        ("video", "视频"),
    ]
    assert form["kind"].value() == "meeting"
    assert "psych_level" not in form.fields and "psych_text" not in form.fields
    html = response.content.decode()
    for word in ("书信", "平台消息", "来校面谈", "亲情电话", "心理"):
        assert word not in html, word
    # no home visit yet, but he is logging a meeting: no 第一次家访
    assert 'id="last-visit" data-for-kind="home_visit" hidden' in html
    visit = client.get(reverse("contacts:new"), {"child": kid.pk, "kind": "home_visit"})
    assert 'data-for-kind="home_visit">还没有家访记录，这是第一次家访。' in visit.content.decode()
    # a teacher's form is as it was
    client.force_login(users["zx_leader"])
    form = client.get(reverse("contacts:new"), {"child": kid.pk}).context["form"]
    assert len(form.fields["kind"].choices) == 7 and "psych_level" in form.fields


def test_his_meeting_is_saved_as_a_meeting_and_called_见面(client, users, cast):
    kid = cast["children"]["c32a"]
    client.force_login(users["proxy_wang"])
    data = {
        "child": kid.pk,
        "kind": "meeting",
        "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "with_whom": "李四",
        "notes": "周末一起写作业",
        "idempotency_key": "k1",
    }
    response = client.post(reverse("contacts:new"), data, follow=True)
    assert "李四：见面已保存" in response.content.decode()
    assert Contact.objects.get().kind == "meeting"
    refused = client.post(
        reverse("contacts:new"), {**data, "kind": "letter", "idempotency_key": "k2"}
    )
    assert refused.status_code == 200 and "kind" in refused.context["form"].errors
    psych = client.post(
        reverse("contacts:new"), {**data, "psych_level": "watch", "idempotency_key": "k3"}
    )
    assert psych.status_code == 302  # the form has no such field: nothing psychological kept
    assert not Contact.objects.exclude(psych_level="").exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"kind": "letter"}, "kind"),
        ({"kind": "message"}, "kind"),
        ({"kind": "family_call"}, "kind"),
        ({"findings": {"psych": {"level": "watch"}}}, "findings.psych"),
    ],
)
def test_api_refuses_him_other_kinds_and_psychology(client, users, cast, over, field):
    client.force_login(users["proxy_wang"])
    body = {"child": cast["children"]["c32a"].pk, "kind": "meeting", "at": "2026-11-28T10:00:00"}
    response = client.post(URL, {**body, **over}, content_type="application/json")
    assert response.status_code == 422
    details = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert field in details
    assert "代理家长" in details[field] or "心理" in details[field]
    assert not Contact.objects.exists()


# --- his due list ---------------------------------------------------------------------------------


def test_his_due_list_holds_the_proxy_parent_rule_only(client, users, cast):
    # the cards were made long ago: every rule has something due
    Child.objects.update(created_at=timezone.now() - dt.timedelta(days=200))
    client.force_login(users["proxy_wang"])
    items = client.get(f"{URL}/due").json()["items"]
    assert items and {i["rule"] for i in items} == {"proxy_contact"}
    assert client.get(f"{URL}/due", {"rule": "home_visit"}).json() == {"items": [], "count": 0}
    page = client.get(reverse("contacts:due"))
    html = page.content.decode()
    assert "代理家长每周联系" in html
    assert "每学期家访" not in html and "每月联系监护人" not in html
    index = client.get(reverse("contacts:index")).content.decode()
    assert "每学期家访" not in index
    client.force_login(users["zx_teacher31"])
    rules = {i["rule"] for i in client.get(f"{URL}/due").json()["items"]}
    assert {"home_visit", "guardian_contact", "proxy_contact"} <= rules
