"""Pairing pages for every demo role, inside and outside scope: the list (propose, accept some
or all), one pair (swap with the cost change shown, end with a reason, the following teacher,
its history); bad input; pinned query counts."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from guanai.children.models import Child, ChildAssignment
from guanai.pairing.models import Pair, PairStatus
from guanai.pairing.services import accept_pairs, propose_pairs
from guanai.testing import EDITABLE, VISIBLE, make_child

from .conftest import HOME

ROLES = list(VISIBLE)
PAIR_KIDS = ["c31a", "c31b", "c32a"]  # the children of the three drafts
MANAGERS = {"town", "zx_leader", "zx_grade3", "zx_teacher31", "bq_leader"}


@pytest.fixture
def drafts(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    return {p.child_id: p for p in saved}


def pair_of(drafts, school, kid) -> Pair:
    return drafts[school["kids"][kid].pk]


def flash(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def write_status(role: str, kid: str) -> int:
    """What a write to the pair of `kid` answers for `role`."""
    if role == "inspector":
        return 403  # read-only: refused before any lookup
    if kid not in VISIBLE[role]:
        return 404
    if kid not in EDITABLE[role] or role not in MANAGERS:
        return 403
    return 302


# --- scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_pairs_whose_child_is_in_scope(client, users, school, drafts, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:list"))
    assert response.status_code == 200
    shown = {p.child_id for p in response.context["page"].object_list}
    assert shown == {school["kids"][k].pk for k in PAIR_KIDS if k in VISIBLE[role]}
    assert (response.context["propose_form"] is not None) is (role in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", PAIR_KIDS)
def test_pair_page_scope(client, users, school, drafts, role, kid):
    client.force_login(users[role])
    response = client.get(reverse("pairing:detail", args=[pair_of(drafts, school, kid).pk]))
    assert response.status_code == (200 if kid in VISIBLE[role] else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", ["c31a", "c32a"])
def test_end_scope(client, users, school, drafts, role, kid):
    pair = pair_of(drafts, school, kid)
    client.force_login(users[role])
    response = client.post(reverse("pairing:end", args=[pair.pk]), {"reason": "老师否决"})
    assert response.status_code == write_status(role, kid), response.content[:300]
    pair.refresh_from_db()
    assert (pair.status == PairStatus.ENDED) is (response.status_code == 302)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", ["c31a", "c32a"])
def test_accept_scope(client, users, school, drafts, role, kid):
    pair = pair_of(drafts, school, kid)
    client.force_login(users[role])
    response = client.post(reverse("pairing:accept"), {"pair": [pair.pk]})
    expected = write_status(role, kid)
    if role in ("proxy_wang", "zx_counselor"):
        expected = 403  # no role that manages pairs: refused before the pairs are looked up
    assert response.status_code == expected
    pair.refresh_from_db()
    assert (pair.status == PairStatus.ACTIVE) is (expected == 302)


@pytest.mark.parametrize("role", ROLES)
def test_swap_scope(client, users, school, drafts, role):
    pair = pair_of(drafts, school, "c31a")
    chen = school["buddies"]["chen"]  # 三年级(1)班, like the pair
    client.force_login(users[role])
    response = client.post(reverse("pairing:swap", args=[pair.pk]), {"buddy": chen.pk})
    assert response.status_code == write_status(role, "c31a")
    pair.refresh_from_db()
    assert (pair.buddy_id == chen.pk) is (response.status_code == 302)


@pytest.mark.parametrize("role", ROLES)
def test_follow_scope(client, users, school, drafts, role):
    pair = pair_of(drafts, school, "c31a")
    client.force_login(users[role])
    url = reverse("pairing:follow", args=[pair.pk])
    response = client.post(url, {"teacher": users["zx_grade3"].pk})
    assert response.status_code == write_status(role, "c31a")


@pytest.mark.parametrize(
    "role, targets",
    [
        ("zx_teacher31", {"c三年级(1)班"}),
        ("zx_grade3", {"c三年级(1)班", "c三年级(2)班"}),
        ("zx_leader", {"s虎山镇中心小学", "c三年级(1)班", "c三年级(2)班", "c四年级(1)班"}),
        ("bq_leader", {"s板桥小学", "c三年级(1)班"}),
    ],
)
def test_propose_offers_what_the_role_arranges(client, users, school, role, targets):
    client.force_login(users[role])
    form = client.get(reverse("pairing:list")).context["propose_form"]
    labels = {
        v[0] + (label.removeprefix("全校：") if v[0] == "s" else label.split(" ")[-1])
        for v, label in form.fields["target"].choices
    }
    assert labels == targets


@pytest.mark.parametrize("role", ["inspector", "zx_counselor", "proxy_wang"])
def test_propose_refused_to_roles_that_do_not_manage_pairs(client, users, school, role):
    client.force_login(users[role])
    response = client.post(reverse("pairing:propose"), {"target": f"s{school['school'].pk}"})
    assert response.status_code == 403
    assert not Pair.objects.exists()


# --- the journey, page by page -------------------------------------------------------------------


def test_class_teacher_proposes_for_her_class_and_accepts_some(client, users, school):
    teacher = users["zx_teacher31"]
    c31 = school["kids"]["c31a"].school_class
    client.force_login(teacher)
    response = client.post(reverse("pairing:propose"), {"target": f"c{c31.pk}"})
    assert response.status_code == 302
    assert "status=draft" in response.url and "class_no=1" in response.url
    assert "提出 2 对结对建议" in flash(response)
    page = client.get(response.url)
    body = page.content.decode()
    assert "同村同组，相差 8 天" in body
    pairs = list(page.context["page"].object_list)
    assert {p.child.name for p in pairs} == {"张三", "单小明"}
    zhang = next(p for p in pairs if p.child.name == "张三")
    response = client.post(reverse("pairing:accept"), {"pair": [zhang.pk], "query": "status=draft"})
    assert response.status_code == 302 and response.url.endswith("?status=draft")
    assert "已确认 1 对结对" in flash(response)
    statuses = dict(Pair.objects.values_list("child__name", "status"))
    assert statuses == {"张三": "active", "单小明": "draft"}


def test_accept_all_takes_every_draft_the_filters_show(client, users, school, drafts):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("pairing:accept"),
        {"all": "1", "query": "status=draft&school=HS-ZX&grade=3&class_no=1"},
    )
    assert response.status_code == 302
    assert "已确认 2 对结对" in flash(response)
    active = set(Pair.objects.active().values_list("child__name", flat=True))
    assert active == {"张三", "单小明"}


def test_accept_promises_a_following_teacher_only_when_there_is_one(client, users, school, drafts):
    # 三年级(2)班 has no class teacher: 李四's pair has no following teacher; 张三's has 王老师.
    li, zhang = pair_of(drafts, school, "c32a"), pair_of(drafts, school, "c31a")
    assert li.follow_teacher_id is None and zhang.follow_teacher_id is not None
    client.force_login(users["zx_leader"])
    text = flash(client.post(reverse("pairing:accept"), {"pair": [li.pk]}))
    assert "已确认 1 对结对" in text and "跟踪教师会在名单中看到" not in text
    assert "还没有跟踪教师，可在结对详情中指定跟踪教师" in text
    text = flash(client.post(reverse("pairing:accept"), {"pair": [zhang.pk]}))
    assert "已确认 1 对结对，跟踪教师会在名单中看到这些孩子" in text


def test_accept_all_names_the_pairs_without_a_following_teacher(client, users, school, drafts):
    client.force_login(users["zx_leader"])
    text = flash(client.post(reverse("pairing:accept"), {"all": "1", "query": ""}))
    assert "已确认 3 对结对；其中 2 对的跟踪教师会在名单中看到这些孩子" in text
    assert "另 1 对还没有跟踪教师" in text


def test_accept_all_skips_pairs_the_user_may_only_see(client, users, school, drafts):
    # 王老师 follows 李四's pair (三年级(2)班), so she sees it, but she cannot change 李四's card.
    li = pair_of(drafts, school, "c32a")
    accept_pairs(pairs=[li], by=None)
    Pair.objects.filter(pk=li.pk).update(status=PairStatus.DRAFT)
    ChildAssignment.objects.create(
        user=users["zx_teacher31"], child=li.child, kind="subject_teacher"
    )
    client.force_login(users["zx_teacher31"])
    client.post(reverse("pairing:accept"), {"all": "1", "query": ""})
    assert Pair.objects.get(pk=li.pk).status == PairStatus.DRAFT
    assert Pair.objects.active().count() == 2


def test_accept_bad_input(client, users, school, drafts):
    client.force_login(users["zx_teacher31"])
    response = client.post(reverse("pairing:accept"), {})
    assert response.status_code == 302 and "请先勾选要确认的结对" in flash(response)
    response = client.post(reverse("pairing:accept"), {"pair": ["x1"]})
    assert "请先勾选要确认的结对" in flash(response)
    response = client.post(reverse("pairing:accept"), {"pair": ["999999"]})
    assert response.status_code == 404
    zhang = pair_of(drafts, school, "c31a")
    client.post(reverse("pairing:accept"), {"pair": [zhang.pk]})
    again = client.post(reverse("pairing:accept"), {"pair": [zhang.pk]})
    assert "只有草稿可以确认" in flash(again)


def test_propose_bad_input_says_which_field(client, users, school):
    client.force_login(users["zx_teacher31"])
    for target in ("", "x", f"s{school['school'].pk}", "c999999"):
        response = client.post(reverse("pairing:propose"), {"target": target})
        assert response.status_code == 422, target
        assert "is-invalid" in response.content.decode()
    assert not Pair.objects.exists()


def test_pair_page_shows_homes_coordinates_and_swap_options_with_cost_change(
    client, users, school, drafts
):
    zhang = pair_of(drafts, school, "c31a")
    Child.objects.filter(pk=zhang.child_id).update(latitude="26.580100", longitude="111.860300")
    client.force_login(users["zx_teacher31"])
    response = client.get(reverse("pairing:detail", args=[zhang.pk]))
    body = response.content.decode()
    assert "26.580100, 111.860300" in body
    assert "同村同组，相差 8 天" in body
    options = {o.buddy.name: o for o in response.context["options"]}
    # 陈二 is 单小明's draft buddy: taking her trades 刘一 to 单小明 (8 + 8 → 60 + 60 days).
    assert options["陈二"].cost_change == pytest.approx(104 / 365, abs=2e-6)
    assert options["陈二"].trade_with.child.name == "单小明"
    assert "王五" not in options  # grade 4: outside her scope
    assert "不如现在合适" in body  # the change in words, not the optimiser's cost
    assert "代价" not in body and "+0.285" not in body


def test_swap_from_the_page_reports_the_cost_change_and_keeps_history(
    client, users, school, drafts
):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    response = client.post(
        reverse("pairing:swap", args=[zhang.pk]), {"buddy": school["buddies"]["chen"].pk}
    )
    assert response.status_code == 302
    assert "刘一 换为 陈二（不如原来合适）" in flash(response)
    page = client.get(reverse("pairing:detail", args=[zhang.pk]))
    history = page.context["history"]
    assert [h["buddy"] for h in history] == ["刘一", "陈二"]
    assert history[-1]["reason"] == "更换结对伙伴：刘一 → 陈二"
    assert history[-1]["by"] == "王老师"


def test_history_does_not_name_a_former_buddy_now_outside_the_readers_scope(
    client, users, school, drafts
):
    from guanai.children.models import Child

    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    client.post(reverse("pairing:swap", args=[zhang.pk]), {"buddy": school["buddies"]["chen"].pk})
    client.get(reverse("pairing:detail", args=[zhang.pk]))  # reads the swap's message
    # the first buddy moves to another class, out of the class teacher's sight
    liu = school["buddies"]["liu"]
    Child.objects.filter(pk=liu.pk).update(school_class=school["kids"]["c41a"].school_class)
    page = client.get(reverse("pairing:detail", args=[zhang.pk]))
    assert [h["buddy"] for h in page.context["history"]] == ["（不在您的查看范围内）", "陈二"]
    assert "刘一" not in page.content.decode()


def test_swap_bad_input(client, users, school, drafts):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    url = reverse("pairing:swap", args=[zhang.pk])
    missing = client.post(url, {})
    assert missing.status_code == 422 and "请选择新的结对伙伴" in missing.content.decode()
    assert client.post(url, {"buddy": "abc"}).status_code == 422
    assert client.post(url, {"buddy": school["kids"]["c41a"].pk}).status_code == 404
    refused = client.post(url, {"buddy": school["kids"]["c31b"].pk})
    assert refused.status_code == 302 and "需要帮扶" in flash(refused)


def test_end_needs_a_reason(client, users, school, drafts):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    response = client.post(reverse("pairing:end", args=[zhang.pk]), {"reason": " "})
    assert response.status_code == 422
    assert "请填写结束原因" in response.content.decode()
    long = client.post(reverse("pairing:end", args=[zhang.pk]), {"reason": "长" * 201})
    assert long.status_code == 422 and "最多 200 个字" in long.content.decode()
    assert Pair.objects.get(pk=zhang.pk).status == PairStatus.DRAFT


def test_follow_teacher_must_be_school_staff(client, users, school, drafts):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_leader"])
    url = reverse("pairing:follow", args=[zhang.pk])
    response = client.post(url, {"teacher": users["bq_leader"].pk})
    assert response.status_code == 422 and "请从本校教职工中选择" in response.content.decode()
    assert client.post(url, {"teacher": users["zx_grade3"].pk}).status_code == 302
    assert Pair.objects.get(pk=zhang.pk).follow_teacher == users["zx_grade3"]
    assert client.post(url, {"teacher": ""}).status_code == 302
    assert Pair.objects.get(pk=zhang.pk).follow_teacher is None


def test_follow_teacher_sees_both_children_while_the_pair_is_active(client, users, school, drafts):
    li = pair_of(drafts, school, "c32a")  # 李四 (三年级(2)班) – 王五 (四年级(1)班)
    teacher = users["zx_teacher31"]
    client.force_login(users["zx_leader"])
    client.post(reverse("pairing:follow", args=[li.pk]), {"teacher": teacher.pk})
    client.post(reverse("pairing:accept"), {"pair": [li.pk]})
    client.force_login(teacher)
    names = {c.name for c in client.get(reverse("children:list")).context["page"].object_list}
    assert {"李四", "王五"} <= names
    rows = ChildAssignment.objects.filter(user=teacher, kind="subject_teacher")
    assert set(rows.values_list("child__name", flat=True)) == {"李四", "王五"}
    client.force_login(users["zx_leader"])
    client.post(reverse("pairing:end", args=[li.pk]), {"reason": "学期结束"})
    client.force_login(teacher)
    names = {c.name for c in client.get(reverse("children:list")).context["page"].object_list}
    assert not {"李四", "王五"} & names
    assert rows.filter(valid_to__isnull=True).count() == 0  # ended, kept


def test_list_filters_mine_child_and_status(client, users, school, drafts):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    mine = client.get(reverse("pairing:list"), {"mine": "1"}).context["page"].object_list
    assert {p.child.name for p in mine} == {"张三", "单小明"}  # 王老师 follows her class
    client.force_login(users["zx_leader"])
    client.post(reverse("pairing:end", args=[zhang.pk]), {"reason": "不采用"})
    liu = school["buddies"]["liu"].pk
    assert not client.get(reverse("pairing:list"), {"child": liu}).context["page"].object_list
    every = client.get(reverse("pairing:list"), {"child": liu, "status": "all"})
    assert [p.pk for p in every.context["page"].object_list] == [zhang.pk]
    assert "不采用" in every.content.decode()
    htmx = client.get(reverse("pairing:list"), {"q": "李"}, HTTP_HX_REQUEST="true")
    assert "<html" not in htmx.content.decode() and "李四" in htmx.content.decode()


def test_list_empty_state_says_what_to_do(client, users, school):
    client.force_login(users["zx_teacher31"])
    body = client.get(reverse("pairing:list")).content.decode()
    assert "没有符合条件的结对" in body and "提出结对建议" in body


def test_card_links_to_the_childs_pairs(client, users, school, drafts):
    client.force_login(users["zx_teacher31"])
    kid = school["kids"]["c31a"]
    body = client.get(reverse("children:detail", args=[kid.pk])).content.decode()
    assert f"{reverse('pairing:list')}?child={kid.pk}&amp;status=all" in body


def test_list_page_pins_its_query_count(client, users, school, django_assert_max_num_queries):
    c31 = school["kids"]["c31a"].school_class
    for i in range(20):
        birth = dt.date(2017, 1, 1) + dt.timedelta(days=i * 9)
        make_child(c31, name=f"留守{i}", birth=birth)
        make_child(c31, name=f"伙伴{i}", birth=birth + dt.timedelta(days=3), **HOME)
    propose_pairs(school=school["school"], by=None, dry_run=False)
    assert Pair.objects.count() > 20
    client.force_login(users["town"])
    client.get(reverse("pairing:list"))
    with django_assert_max_num_queries(11):
        response = client.get(reverse("pairing:list"))
    assert len(response.context["page"].object_list) == min(Pair.objects.count(), 50)


def test_pair_page_pins_its_query_count(
    client, users, school, drafts, django_assert_max_num_queries
):
    zhang = pair_of(drafts, school, "c31a")
    client.force_login(users["zx_teacher31"])
    client.get(reverse("pairing:detail", args=[zhang.pk]))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("pairing:detail", args=[zhang.pk]))
    assert response.status_code == 200
    assert zhang.child.name in response.content.decode()
