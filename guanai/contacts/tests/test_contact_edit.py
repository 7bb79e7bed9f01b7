"""Correcting a saved contact: who may (page and API), bad input, the history of earlier
versions (API and timeline), and that nothing else needs re-evaluating."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from guanai.contacts.models import Contact
from guanai.contacts.rules import due_items
from guanai.testing import EDITABLE, SUITE_TODAY, VISIBLE

from .helpers import add_contact, at

ROLES = list(VISIBLE)
KIDS = ["c31a", "c31b", "c32a", "c41a", "bq31a", "gt"]
URL = "/api/v1/contacts"
YESTERDAY = SUITE_TODAY - dt.timedelta(days=1)


def expected_status(role: str, kid: str, *, author: str = "town") -> int:
    """403 read-only; 404 outside the scope; 200 for the author in scope or a card editor."""
    if role == "inspector":
        return 403
    if kid not in VISIBLE[role]:
        return 404
    return 200 if kid in EDITABLE[role] or role == author else 403


def patch(client, contact, **body):
    return client.patch(f"{URL}/{contact.pk}", body, content_type="application/json")


def edit_form(contact, **over):
    data = {
        "kind": contact.kind,
        "at": timezone.localtime(contact.at).strftime("%Y-%m-%dT%H:%M"),
        "with_whom": contact.with_whom,
        "notes": contact.notes,
        "follow_up_by": "",
        "reason": "时间记错了",
    }
    data.update(over)
    return data


@pytest.fixture
def visit(cast):
    """A phone call 王老师 logged yesterday for 张三."""
    teacher = cast["users"]["zx_teacher31"]
    return add_contact(
        cast["children"]["c31a"],
        teacher,
        "phone",
        at(YESTERDAY, 19, 30),
        with_whom="祖母 张奶奶",
        notes="奶奶说孩子作业完成好",
    )


# --- who may correct ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_edit_page_scope(client, cast, role, kid):
    contact = add_contact(
        cast["children"][kid], cast["users"]["town"], with_whom="祖母", notes="原记录"
    )
    client.force_login(cast["users"][role])
    url = reverse("contacts:edit", args=[contact.pk])
    expected = expected_status(role, kid)
    assert client.get(url).status_code == expected
    posted = client.post(url, edit_form(contact, notes="改过的记录"))
    assert posted.status_code == (302 if expected == 200 else expected)
    contact.refresh_from_db()
    assert (contact.notes == "改过的记录") is (expected == 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_patch_scope(client, cast, role, kid):
    contact = add_contact(
        cast["children"][kid], cast["users"]["town"], with_whom="祖母", notes="原记录"
    )
    client.force_login(cast["users"][role])
    response = patch(client, contact, notes="改过的记录", reason="补充")
    assert response.status_code == expected_status(role, kid), response.content
    contact.refresh_from_db()
    assert (contact.notes == "改过的记录") is (response.status_code == 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_history_scope(client, cast, role, kid):
    contact = add_contact(cast["children"][kid], cast["users"]["town"])
    client.force_login(cast["users"][role])
    response = client.get(f"{URL}/{contact.pk}/history")
    assert response.status_code == (200 if kid in VISIBLE[role] else 404)


def test_proxy_parent_corrects_his_own_contact_only(client, cast):
    proxy, kids = cast["users"]["proxy_wang"], cast["children"]
    own = add_contact(kids["c32a"], proxy, "meeting", at(YESTERDAY), with_whom="李四", notes="聊天")
    others = add_contact(kids["c32a"], cast["users"]["zx_leader"], "phone", at(YESTERDAY))
    client.force_login(proxy)
    assert patch(client, own, kind="phone", reason="是电话不是面谈").status_code == 200
    assert patch(client, others, kind="meeting", reason="x").status_code == 403
    assert client.get(reverse("contacts:edit", args=[own.pk])).status_code == 200


def test_author_who_lost_the_child_from_her_scope_cannot_correct(client, cast, visit):
    from guanai.children.models import Child

    Child.objects.filter(pk=visit.child_id).update(school_class=cast["classes"]["c32"])
    client.force_login(cast["users"]["zx_teacher31"])
    assert patch(client, visit, notes="x", reason="y").status_code == 404


def test_inspector_is_refused_with_403_but_reads_the_history(client, cast, visit):
    client.force_login(cast["users"]["inspector"])
    response = patch(client, visit, notes="督导改的", reason="核对")
    assert response.status_code == 403 and "只读" in response.json()["detail"]
    assert client.get(reverse("contacts:edit", args=[visit.pk])).status_code == 403
    assert client.get(f"{URL}/{visit.pk}/history").status_code == 200


def test_anonymous_is_401_on_the_api_and_sent_to_login_on_the_page(client, cast, visit):
    assert patch(client, visit, notes="x", reason="y").status_code == 401
    assert client.get(f"{URL}/{visit.pk}/history").status_code == 401
    assert client.get(reverse("contacts:edit", args=[visit.pk])).status_code == 302


# --- the page ---------------------------------------------------------------------------------


def test_teacher_corrects_a_call_into_a_home_visit_and_the_timeline_says_so(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    url = reverse("contacts:edit", args=[visit.pk])
    page = client.get(url).content.decode()
    assert "修改原因" in page and "张三" in page and 'name="child"' not in page
    response = client.post(
        url, edit_form(visit, kind="home_visit", reason="其实是上门家访", next="/children/")
    )
    assert response.status_code == 302 and response["Location"] == "/children/"
    visit.refresh_from_db()
    assert visit.kind == "home_visit"
    latest = visit.history.first()
    assert latest.history_change_reason == "其实是上门家访"
    assert latest.history_user == cast["users"]["zx_teacher31"]
    timeline = client.get(reverse("contacts:timeline", args=[visit.child_id]))
    html = timeline.content.decode()
    assert "已修改" in html and "其实是上门家访" in html
    assert "联系方式：电话 → <strong>家访</strong>" in html
    assert reverse("contacts:edit", args=[visit.pk]) in html


def test_page_requires_a_reason_and_saves_nothing_without_it(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        reverse("contacts:edit", args=[visit.pk]), edit_form(visit, notes="新内容", reason=" ")
    )
    assert response.status_code == 200
    assert "请填写修改原因" in response.content.decode()
    visit.refresh_from_db()
    assert visit.notes == "奶奶说孩子作业完成好" and visit.history.count() == 1


def test_page_refuses_a_future_time_at_the_field(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        reverse("contacts:edit", args=[visit.pk]), edit_form(visit, at=f"{tomorrow}T09:00")
    )
    assert response.status_code == 200
    assert "联系时间不能晚于现在" in response.content.decode()
    assert Contact.objects.get(pk=visit.pk).at == visit.at


def test_saving_the_unchanged_form_keeps_the_seconds_and_writes_no_history(client, cast):
    teacher = cast["users"]["zx_teacher31"]
    visit = add_contact(
        cast["children"]["c31a"],
        teacher,
        "phone",
        at(YESTERDAY, 8).replace(second=42),
        with_whom="祖母",
        notes="作业完成好",
    )
    client.force_login(teacher)
    response = client.post(reverse("contacts:edit", args=[visit.pk]), edit_form(visit))
    assert response.status_code == 302
    assert Contact.objects.get(pk=visit.pk).at == visit.at
    assert visit.history.count() == 1


def test_timeline_links_edit_only_where_allowed_and_pins_its_queries(
    client, cast, visit, django_assert_max_num_queries
):
    kids, users = cast["children"], cast["users"]
    own = add_contact(kids["c31a"], users["proxy_wang"], "meeting", at(YESTERDAY))
    for n in range(5):
        c = add_contact(kids["c31a"], users["zx_teacher31"], "phone", at(YESTERDAY, 9 + n))
        patch_directly(c, users["zx_teacher31"], notes=f"第 {n} 次修改")
    url = reverse("contacts:timeline", args=[kids["c31a"].pk])
    client.force_login(users["proxy_wang"])
    html = client.get(url).content.decode()
    assert reverse("contacts:edit", args=[own.pk]) in html
    assert reverse("contacts:edit", args=[visit.pk]) not in html
    client.force_login(users["inspector"])
    assert "contacts/" + str(visit.pk) + "/edit/" not in client.get(url).content.decode()
    client.force_login(users["zx_leader"])
    # one history query whatever the number of edited contacts (+3 for the session save)
    with django_assert_max_num_queries(14):
        html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.count("data-edited") == 5


def test_follow_ups_page_links_the_correction_form(client, cast):
    users, kids = cast["users"], cast["children"]
    mine = add_contact(kids["c31a"], users["proxy_wang"], follow_up_by=timezone.localdate())
    other = add_contact(kids["c32a"], users["zx_leader"], follow_up_by=timezone.localdate())
    client.force_login(users["proxy_wang"])
    html = client.get(reverse("contacts:follow_ups")).content.decode()
    assert reverse("contacts:edit", args=[mine.pk]) in html
    assert reverse("contacts:edit", args=[other.pk]) not in html


def patch_directly(contact, by, **values):
    from guanai.contacts.corrections import correct_contact

    return correct_contact(contact=contact, by=by, values=values, reason="核对后更正")


# --- the API --------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_given_and_answers_the_contact(client, cast, visit):
    client.force_login(cast["users"]["zx_leader"])
    response = patch(
        client,
        visit,
        at=f"{YESTERDAY}T09:05:00",
        findings={"safety": {"level": "watch", "text": "门前有水塘"}},
        reason="王老师说是上午打的电话",
    )
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["at"] == f"{YESTERDAY}T09:05:00+08:00"  # no zone: Asia/Shanghai
    assert out["kind"] == "phone" and out["with_whom"] == "祖母 张奶奶"
    assert out["findings"] == {"safety": {"level": "watch", "text": "门前有水塘"}}
    assert out["by"] == "zx_teacher31"  # the author stays


def test_patch_with_the_same_child_is_fine_and_another_child_is_422(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    same = patch(client, visit, child=visit.child_id, notes="补充", reason="补充")
    assert same.status_code == 200
    other = patch(client, visit, child=cast["children"]["c31b"].pk, reason="记错了学生")
    assert other.status_code == 422
    assert other.json()["detail"][0]["field"] == "child"


def test_follow_up_can_be_set_and_cleared(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert patch(client, visit, follow_up_by=day, reason="需跟进").json()["follow_up_by"] == day
    assert patch(client, visit, follow_up_by=None, reason="已解决").json()["follow_up_by"] is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"reason": ""}, "reason", "请填写修改原因"),
        ({"reason": "   "}, "reason", "请填写修改原因"),
        ({"reason": "长" * 101}, "reason", "不能超过 100 个字"),
        ({"reason": None}, "reason", "原因"),
        ({"reason": 12}, "reason", "应为文字"),
        ({"kind": "visit"}, "kind", "联系方式"),
        ({"kind": None}, "kind", "联系方式"),
        ({"at": None}, "at", "联系时间"),
        ({"at": "昨天"}, "at", "联系时间"),
        ({"at": "2026-13-01T10:00"}, "at", "联系时间"),
        ({"with_whom": "长" * 101}, "with_whom", "联系对象"),
        ({"notes": 12}, "notes", "应为文字"),
        ({"follow_up_by": "下周"}, "follow_up_by", "跟进截止日期"),
        ({"findings": {"study": {"level": "bad"}}}, "findings.study.level", "学习情况等级"),
        ({"findings": {"money": {"level": "normal"}}}, "findings.money", "findings"),
        ({"extra": 1}, "extra", "不是可以提交的字段"),
        ({"child": "张三"}, "child", "儿童"),
    ],
)
def test_bad_patches_are_422_naming_the_field_in_chinese(client, cast, visit, change, field, words):
    client.force_login(cast["users"]["zx_teacher31"])
    body = {"notes": "改了", "reason": "核对", **change}
    response = client.patch(f"{URL}/{visit.pk}", body, content_type="application/json")
    assert response.status_code == 422, response.content
    details = response.json()["detail"]
    assert any(d["field"].startswith(field) for d in details), details
    assert any(words in d["msg"] for d in details), details
    assert Contact.objects.get(pk=visit.pk).notes == "奶奶说孩子作业完成好"


def test_future_time_and_missing_reason_are_reported_together(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = patch(client, visit, at=f"{tomorrow}T09:00:00", reason="")
    assert response.status_code == 422
    fields = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert fields == {
        "at": "联系时间不能晚于现在（2026-11-29 10:00）",
        "reason": "原因：请填写修改原因",
    }


def test_missing_reason_is_422(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(f"{URL}/{visit.pk}", {"notes": "x"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "原因：必填"


def test_history_lists_versions_newest_first_with_old_and_new(client, cast, visit):
    teacher, leader = cast["users"]["zx_teacher31"], cast["users"]["zx_leader"]
    client.force_login(teacher)
    patch(client, visit, kind="home_visit", reason="其实是家访")
    client.force_login(leader)
    patch(client, visit, at=f"{YESTERDAY}T10:00:00+08:00", notes="奶奶在家", reason="时间核对")
    out = client.get(f"{URL}/{visit.pk}/history").json()
    assert out["count"] == 3
    latest, first, created = out["items"]
    assert (latest["by"], latest["reason"]) == ("zx_leader", "时间核对")
    assert {c["field"]: (c["old"], c["new"]) for c in latest["changes"]} == {
        "at": (f"{YESTERDAY}T19:30:00+08:00", f"{YESTERDAY}T10:00:00+08:00"),
        "notes": ("奶奶说孩子作业完成好", "奶奶在家"),
    }
    assert (first["by"], first["reason"]) == ("zx_teacher31", "其实是家访")
    assert first["changes"] == [{"field": "kind", "old": "phone", "new": "home_visit"}]
    assert created["reason"] == "" and {c["field"] for c in created["changes"]} >= {"kind", "at"}
    assert latest["at"] >= first["at"] >= created["at"]


def test_contact_logged_in_bulk_gets_its_first_version_kept_on_correction(client, cast):
    teacher = cast["users"]["zx_teacher31"]
    Contact.objects.bulk_create(
        [
            Contact(
                child=cast["children"]["c31a"],
                by=teacher,
                kind="phone",
                at=at(YESTERDAY),
                with_whom="母亲",
                notes="在外打工，常问学习",
            )
        ]
    )
    contact = Contact.objects.get()
    assert not contact.history.exists()
    client.force_login(teacher)
    assert patch(client, contact, kind="video", reason="是视频通话").status_code == 200
    items = client.get(f"{URL}/{contact.pk}/history").json()["items"]
    assert items[0]["changes"] == [{"field": "kind", "old": "phone", "new": "video"}]
    assert items[1]["by"] == "zx_teacher31" and items[1]["reason"] == ""


def test_follow_up_done_is_in_the_history_but_not_a_correction(client, cast, visit):
    from guanai.contacts.services import complete_follow_up

    teacher = cast["users"]["zx_teacher31"]
    patch_directly(visit, teacher, follow_up_by=timezone.localdate())
    visit.refresh_from_db()
    complete_follow_up(contact=visit, by=teacher, note="已联系村委")
    client.force_login(teacher)
    items = client.get(f"{URL}/{visit.pk}/history").json()["items"]
    assert {c["field"] for c in items[0]["changes"]} == {"follow_up_done_at", "follow_up_note"}
    html = client.get(reverse("contacts:timeline", args=[visit.child_id])).content.decode()
    assert html.count("data-edited") == 1
    assert "修改记录（1 次）" in html


def test_proxy_parent_reads_no_versions_of_others_contacts(client, cast):
    leader, proxy = cast["users"]["zx_leader"], cast["users"]["proxy_wang"]
    contact = add_contact(cast["children"]["c32a"], leader, "home_visit", at(YESTERDAY))
    patch_directly(contact, leader, psych_level="watch", psych_text="情绪低落", notes="见面")
    client.force_login(proxy)
    assert client.get(f"{URL}/{contact.pk}/history").json() == {"items": [], "count": 0}
    client.force_login(leader)
    items = client.get(f"{URL}/{contact.pk}/history").json()["items"]
    assert {c["field"] for c in items[0]["changes"]} == {"notes", "psych_level", "psych_text"}


def test_due_lists_read_the_corrected_contact_live(client, cast, visit):
    child = cast["children"]["c31a"]
    due = {
        i.rule
        for i in due_items(type(child).objects.filter(pk=child.pk), as_of=timezone.localdate())
    }
    assert "home_visit" in due
    patch_directly(visit, cast["users"]["zx_teacher31"], kind="home_visit")
    due = {
        i.rule
        for i in due_items(type(child).objects.filter(pk=child.pk), as_of=timezone.localdate())
    }
    assert "home_visit" not in due


def test_openapi_describes_the_correction_routes(client, cast):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "patch" in paths["/api/v1/contacts/{contact_id}"]
    assert "get" in paths["/api/v1/contacts/{contact_id}/history"]


# --- two people correcting the same contact -----------------------------------------------------


def test_page_refuses_to_overwrite_a_newer_version_and_keeps_the_input(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    url = reverse("contacts:edit", args=[visit.pk])
    form = client.get(url).context["form"]
    loaded = form["loaded_at"].value()
    assert f'name="loaded_at" value="{loaded}"' in client.get(url).content.decode()
    # the school leader corrects it meanwhile
    leader = client_for(cast, "zx_leader")
    assert patch(leader, visit, notes="校长改的", reason="补充").status_code == 200
    response = client.post(url, edit_form(visit, notes="老师改的", loaded_at=loaded))
    assert response.status_code == 200
    page = response.content.decode()
    assert "这条联系记录已被他人修改，请重新打开后再修改" in page and "老师改的" in page
    visit.refresh_from_db()
    assert visit.notes == "校长改的"
    # reopened, her correction goes through
    fresh = client.get(url).context["form"]["loaded_at"].value()
    response = client.post(url, edit_form(visit, notes="老师改的", loaded_at=fresh))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.notes == "老师改的"


def test_patch_with_a_stale_updated_at_is_409_and_with_the_current_one_200(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    loaded = client.get(f"{URL}/{visit.pk}").json()["updated_at"]
    first = patch(client, visit, notes="第一次", reason="补充", updated_at=loaded)
    assert first.status_code == 200 and first.json()["updated_at"] != loaded
    stale = patch(client, visit, notes="第二次", reason="补充", updated_at=loaded)
    assert stale.status_code == 409
    assert stale.json()["detail"] == "这条联系记录已被他人修改，请重新打开后再修改"
    visit.refresh_from_db()
    assert visit.notes == "第一次"
    current = patch(
        client, visit, notes="第二次", reason="补充", updated_at=first.json()["updated_at"]
    )
    assert current.status_code == 200 and current.json()["notes"] == "第二次"


def test_patch_with_a_malformed_updated_at_is_422(client, cast, visit):
    client.force_login(cast["users"]["zx_teacher31"])
    response = patch(client, visit, notes="x", reason="补充", updated_at="昨天")
    assert response.status_code == 422


def client_for(cast, role):
    from django.test import Client

    other = Client()
    other.force_login(cast["users"][role])
    return other
