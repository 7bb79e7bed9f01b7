"""Access beyond one's role (issue #19): a teacher asks for a child's psychology section with a
reason, a leader of the child's school approves it for a time or refuses it with a note, every
use is logged with the request's reference, and an expired grant gives nothing. Break-the-glass:
an inspector opens a child at once with a stated reason, for 2 hours, and the school's leaders
and the auditor see it to review."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from guanai.accounts import access_requests as svc
from guanai.accounts.models import (
    AccessAction,
    AccessKind,
    AccessLog,
    AccessRequest,
    AccessRequestStatus,
    Role,
    RoleAssignment,
)
from guanai.children.access import FULL, PSYCH_FIELDS, card_access, hidden_sections
from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.org.models import Town
from guanai.testing import make_school, make_user

SECRET = "近期情绪低落，需持续关注"
HEALTH = "哮喘，随身带药"


@pytest.fixture
def child(kids):
    Child.objects.filter(pk=kids["c31a"].pk).update(psych_summary=SECRET, health=HEALTH)
    return Child.objects.get(pk=kids["c31a"].pk)


def _ask(client, users, child, **data):
    client.force_login(users["zx_teacher31"])
    body = {"kind": "psych", "reason": "家访前需要了解孩子的心理状况", "hours": "24"} | data
    return client.post(reverse("accounts:access_request_new", args=[child.pk]), body)


def _fresh(user):
    """The user as a new request sees her (grants are cached on the user object)."""
    return type(user).objects.get(pk=user.pk)


# --- the lifecycle -------------------------------------------------------------------------


def test_a_teacher_asks_a_leader_approves_and_the_card_shows_the_section_until_it_expires(
    client, users, child, clock
):
    card = reverse("children:detail", args=[child.pk])
    client.force_login(users["zx_teacher31"])
    assert SECRET not in client.get(card).content.decode()

    response = _ask(client, users, child)
    assert response.status_code == 302
    made = AccessRequest.objects.get()
    assert made.status == AccessRequestStatus.PENDING and made.school == child.school
    assert SECRET not in client.get(card).content.decode()  # pending opens nothing

    client.force_login(users["zx_leader"])
    inbox = client.get(reverse("accounts:access_inbox")).content.decode()
    assert "王老师 申请查看 张三 的心理状况" in inbox and "家访前需要了解" in inbox
    decided = client.post(
        reverse("accounts:access_request_decide", args=[made.pk]),
        {"decision": "approve", "hours": "24", "note": "同意"},
    )
    assert decided.status_code == 302
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.APPROVED and made.decided_by == users["zx_leader"]
    assert made.expires_at == made.decided_at + dt.timedelta(hours=24)

    client.force_login(users["zx_teacher31"])
    page = client.get(card).content.decode()
    assert SECRET in page
    assert HEALTH in page  # her own role reads health: unchanged
    used = AccessLog.objects.filter(action=AccessAction.VIEW_GRANTED).get()
    assert used.username == "zx_teacher31" and used.child == child
    assert f"访问申请第 {made.pk} 号" in used.detail and "心理状况" in used.detail

    # one second before the end: still open; at the end: nothing
    clock.move_to(made.expires_at - dt.timedelta(seconds=1))
    client.force_login(users["zx_teacher31"])  # a day later: a new session
    assert SECRET in client.get(card).content.decode()
    clock.move_to(made.expires_at)
    assert SECRET not in client.get(card).content.decode()
    assert hidden_sections(_fresh(users["zx_teacher31"]), child) >= PSYCH_FIELDS


def test_a_grant_opens_only_its_child_and_only_its_section(users, kids, child):
    made = svc.request_access(
        user=users["zx_teacher31"], child=child, kind="psych", reason="了解情况"
    )
    svc.decide(request=made, by=users["zx_leader"], approve=True)
    teacher = _fresh(users["zx_teacher31"])
    assert not hidden_sections(teacher, child) & PSYCH_FIELDS
    assert hidden_sections(teacher, kids["c31b"]) >= PSYCH_FIELDS
    # reading only: the edit form still leaves the section out
    assert hidden_sections(teacher, child, for_edit=True) >= PSYCH_FIELDS


def test_the_leader_refuses_with_a_note_the_requester_reads(client, users, child):
    _ask(client, users, child)
    made = AccessRequest.objects.get()
    client.force_login(users["zx_leader"])
    url = reverse("accounts:access_request_decide", args=[made.pk])
    client.post(url, {"decision": "refuse", "note": ""})
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.PENDING  # a refusal needs its note
    client.post(url, {"decision": "refuse", "note": "请先与心理辅导员沟通"})
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.REFUSED and made.expires_at is None
    client.force_login(users["zx_teacher31"])
    mine = client.get(reverse("accounts:access_requests")).content.decode()
    assert "未批准" in mine and "请先与心理辅导员沟通" in mine
    assert SECRET not in client.get(reverse("children:detail", args=[child.pk])).content.decode()


def test_an_approval_is_at_most_seven_days(users, child):
    made = svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="x")
    with pytest.raises(Invalid) as exc:
        svc.decide(request=made, by=users["zx_leader"], approve=True, hours=169)
    assert exc.value.errors == {"hours": "时长最多 7 天（168 小时）"}
    done = svc.decide(request=made, by=users["zx_leader"], approve=True, hours=2)
    assert done.expires_at - done.decided_at == dt.timedelta(hours=2)
    with pytest.raises(Invalid):  # decided once
        svc.decide(request=made, by=users["zx_leader"], approve=False, note="改主意")


# --- who decides ---------------------------------------------------------------------------


def test_a_leader_of_another_school_finds_no_request(client, users, child):
    _ask(client, users, child)
    made = AccessRequest.objects.get()
    client.force_login(users["bq_leader"])
    assert "张三" not in client.get(reverse("accounts:access_inbox")).content.decode()
    assert client.get(reverse("accounts:access_request", args=[made.pk])).status_code == 404
    url = reverse("accounts:access_request_decide", args=[made.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 404
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.PENDING


@pytest.mark.parametrize("name", ["zx_teacher31", "zx_grade3", "zx_counselor", "inspector"])
def test_only_school_leaders_decide(client, users, child, name):
    made = svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="x")
    client.force_login(users[name])
    url = reverse("accounts:access_request_decide", args=[made.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 403
    assert client.get(reverse("accounts:access_inbox")).status_code == 403
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.PENDING


def test_the_requester_cannot_approve_her_own_request(client, users, child, cast):
    teacher = users["zx_teacher31"]
    made = svc.request_access(user=teacher, child=child, kind="psych", reason="了解情况")
    # she becomes a leader of the school later the same day: still not her own approver
    RoleAssignment.objects.create(
        user=teacher, role=Role.SCHOOL_LEADER, school=cast["schools"]["zx"]
    )
    with pytest.raises(PermissionDenied):
        svc.decide(request=made, by=_fresh(teacher), approve=True)
    client.force_login(teacher)
    url = reverse("accounts:access_request_decide", args=[made.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 404
    made.refresh_from_db()
    assert made.status == AccessRequestStatus.PENDING


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "  "}, "请写明理由"),
        ({"reason": "长" * 501}, "理由最多 500 个字"),
        ({"hours": "200"}, "时长最多 7 天（168 小时）"),
        ({"hours": "0"}, "时长至少 1 小时"),
        ({"hours": "一天"}, "时长请填写小时数，如 24"),
        ({"kind": "everything"}, "请选择要查看的内容"),
        ({"kind": "health"}, "您的角色已可以查看该学生的健康状况，无需申请"),
    ],
)
def test_a_bad_request_says_what_is_wrong_and_keeps_nothing(client, users, child, data, message):
    response = _ask(client, users, child, **data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_second_request_for_the_same_section_waits_for_the_first(users, child):
    svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="x")
    with pytest.raises(Invalid, match="已有待审批的申请"):
        svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="y")


def test_a_child_outside_the_scope_cannot_be_asked_for(client, users, kids):
    client.force_login(users["zx_teacher31"])
    url = reverse("accounts:access_request_new", args=[kids["bq31a"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "psych", "reason": "x"}).status_code == 404
    client.force_login(users["proxy_wang"])  # sees c31a, but is no staff member
    assert (
        client.get(reverse("accounts:access_request_new", args=[kids["c31a"].pk])).status_code
        == 403
    )


# --- the API -------------------------------------------------------------------------------


def test_the_api_asks_and_decides(client, users, child):
    client.force_login(users["zx_teacher31"])
    url = "/api/v1/auth/access-requests"
    bad = client.post(
        url, {"child_id": child.pk, "kind": "psych", "reason": ""}, "application/json"
    )
    assert bad.status_code == 422 and "请写明理由" in bad.json()["detail"][0]["msg"]
    too_long = client.post(
        url,
        {"child_id": child.pk, "kind": "psych", "reason": "了解", "hours": 500},
        "application/json",
    )
    assert too_long.status_code == 422 and "最多 7 天" in too_long.json()["detail"][0]["msg"]
    made = client.post(
        url, {"child_id": child.pk, "kind": "psych", "reason": "了解情况"}, "application/json"
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["status"] == "pending" and made.json()["child_name"] == "张三"
    assert client.get(url).json()["count"] == 1
    decision = f"{url}/{pk}/decision"
    client.force_login(users["bq_leader"])
    assert client.post(decision, {"approve": True}, "application/json").status_code == 404
    client.force_login(users["zx_teacher31"])  # her own: not hers to decide
    assert client.post(decision, {"approve": True}, "application/json").status_code == 404
    client.force_login(users["inspector"])
    assert client.post(decision, {"approve": True}, "application/json").status_code == 403
    assert client.post(url, {"child_id": child.pk}, "application/json").status_code == 403
    client.force_login(users["zx_leader"])
    assert client.get(f"{url}/inbox").json()["count"] == 1
    done = client.post(decision, {"approve": True, "hours": 8}, "application/json")
    assert done.status_code == 200 and done.json()["live"] is True
    assert client.get(f"{url}/inbox").json()["count"] == 0


# --- break-the-glass -----------------------------------------------------------------------


def test_an_inspector_opens_a_child_at_once_with_a_reason_for_two_hours(
    client, users, child, clock, auditor
):
    inspector = users["inspector"]
    card = reverse("children:detail", args=[child.pk])
    url = reverse("accounts:emergency_new", args=[child.pk])
    client.force_login(inspector)
    assert SECRET not in client.get(card).content.decode()
    for reason, message in (("", "至少 10 个字"), ("孩子受伤了需要看", "至少 10 个字")):
        response = client.post(url, {"reason": reason})
        assert response.status_code == 422 and message in response.content.decode()
    assert not AccessRequest.objects.exists()
    assert not AccessLog.objects.filter(action=AccessAction.EMERGENCY).exists()

    reason = "督导走访发现孩子手臂有伤，需要联系监护人并了解健康情况"
    assert client.post(url, {"reason": reason}).status_code == 302
    grant = AccessRequest.objects.get()
    assert grant.emergency and grant.kind == AccessKind.ALL
    assert grant.expires_at - grant.created_at == dt.timedelta(hours=2)
    opened = AccessLog.objects.get(action=AccessAction.EMERGENCY)
    assert opened.username == "inspector" and reason in opened.detail
    assert f"紧急查看第 {grant.pk} 号" in opened.detail

    page = client.get(card).content.decode()
    assert SECRET in page and HEALTH in page
    assert card_access(_fresh(inspector), child) == FULL
    shown = client.get(reverse("accounts:access_request", args=[grant.pk]), {"show_id": "1"})
    assert child.id_number in shown.content.decode()
    uses = AccessLog.objects.filter(action=AccessAction.EMERGENCY).exclude(pk=opened.pk)
    assert uses.count() == 2  # the card's sections and the ID number, each naming the grant
    assert all(f"紧急查看第 {grant.pk} 号" in u.detail for u in uses)

    # the school's leader and the auditor see it; another school's leader does not
    for name, sees in (("zx_leader", True), ("bq_leader", False)):
        client.force_login(users[name])
        listed = client.get(reverse("accounts:emergencies")).content.decode()
        assert (reason in listed) is sees
    client.force_login(auditor)
    assert reason in client.get(reverse("accounts:emergencies")).content.decode()
    client.force_login(users["zx_leader"])
    home = client.get(reverse("accounts:emergencies"), {"open": "1"}).content.decode()
    assert "已复核，理由成立" in home
    client.post(reverse("accounts:emergency_review", args=[grant.pk]))
    grant.refresh_from_db()
    assert grant.reviewed_by == users["zx_leader"]

    clock.move_to(grant.expires_at)
    client.force_login(inspector)
    assert SECRET not in client.get(card).content.decode()
    assert card_access(_fresh(inspector), child) != FULL


def test_break_the_glass_is_for_the_town_inspectors_and_administrators_only(
    client, users, child, kids
):
    for name in ("zx_leader", "zx_teacher31", "zx_counselor"):
        client.force_login(users[name])
        url = reverse("accounts:emergency_new", args=[child.pk])
        assert client.post(url, {"reason": "紧急情况需要查看全部信息"}).status_code == 403
    other = make_user("other_inspector", Role.INSPECTOR, town=Town.objects.create(name="别的镇"))
    make_school("OT-1", "别的镇小学", town=other.role_assignments.get().town)
    client.force_login(other)
    url = reverse("accounts:emergency_new", args=[kids["c31a"].pk])
    assert client.post(url, {"reason": "紧急情况需要查看全部信息"}).status_code == 404
    assert not AccessRequest.objects.exists()
    # the API: the same rule, and the reason checked after the role
    client.force_login(users["zx_leader"])
    api = "/api/v1/auth/emergency-access"
    assert (
        client.post(api, {"child_id": child.pk, "reason": "x"}, "application/json").status_code
        == 403
    )
    client.force_login(users["inspector"])
    short = client.post(api, {"child_id": child.pk, "reason": "太短"}, "application/json")
    assert short.status_code == 422 and "至少 10 个字" in short.json()["detail"][0]["msg"]
    made = client.post(
        api, {"child_id": child.pk, "reason": "紧急情况需要查看全部信息"}, "application/json"
    )
    assert made.status_code == 201 and made.json()["emergency"] is True


def test_the_home_panel_counts_what_waits(users, child, auditor):
    made = svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="x")
    assert svc.home_panel(users["zx_leader"])["pending"] == 1
    assert svc.home_panel(users["bq_leader"])["pending"] == 0
    svc.decide(request=made, by=users["zx_leader"], approve=True)
    assert [g.pk for g in svc.home_panel(users["zx_teacher31"])["grants"]] == [made.pk]
    svc.break_glass(user=users["inspector"], child=child, reason="督导检查中需要核对全部信息")
    assert svc.home_panel(users["zx_leader"])["unreviewed"] == 1
    assert svc.home_panel(auditor)["unreviewed"] == 1


def test_the_card_panel_shows_the_grant_until_its_end_and_the_buttons(rf, users, child):
    from django.template import Context, Template

    panel = Template("{% load access_tags %}{% card_access_panel child %}")

    def render(user):
        request = rf.get("/")
        request.user = _fresh(user)
        return panel.render(Context({"request": request, "child": child}))

    teacher = render(users["zx_teacher31"])
    assert "申请查看更多信息" in teacher and "紧急查看" not in teacher
    made = svc.request_access(user=users["zx_teacher31"], child=child, kind="psych", reason="x")
    assert "正在等待校领导审批" in render(users["zx_teacher31"])
    svc.decide(request=made, by=users["zx_leader"], approve=True, hours=24)
    assert "已获准查看心理状况，至 11月30日 10:00" in render(users["zx_teacher31"])
    assert "紧急查看" in render(users["inspector"])
    assert render(users["zx_leader"]).strip() == ""  # reads it all: nothing to ask for


def test_a_full_id_reading_by_role_is_logged_as_before(rf, users, child):
    from guanai.children.access import log_id_read

    request = rf.get("/")
    request.user = users["zx_teacher31"]
    log_id_read(request, child, where="档卡页")
    row = AccessLog.objects.get()
    assert (
        row.action == AccessAction.VIEW_ID_NUMBER and row.detail == "档卡页查看完整身份证号、学籍号"
    )
