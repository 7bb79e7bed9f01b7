"""核实 before vacations: opening rules, confirm or correct, grade sign-off and closing, vacation
plans and pledges, per-group freshness, scope of pages and API."""

import datetime as dt

import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.screening import services, verification
from guanai.screening.models import (
    CardCheck,
    CardVerification,
    FieldGroup,
    GradeSignOff,
    VacationPlan,
    VerificationRound,
)
from guanai.testing import SUITE_TODAY

ALL = [
    "town",
    "inspector",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "bq_leader",
    "proxy_wang",
]
SEES_ZX = {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}
TODAY = SUITE_TODAY
GROUPS = list(FieldGroup.values)


@pytest.fixture
def rnd(cast):
    return verification.open_round(
        school=cast["schools"]["zx"],
        term="2026-2027-1",
        vacation="winter",
        deadline=TODAY + dt.timedelta(days=20),
        by=cast["users"]["zx_leader"],
    )


def form_data(form_class, child, keys) -> dict:
    """What the browser posts for an untouched form: every field with its shown value."""
    form = form_class(child=child, keys=keys)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None and name == "groups":
            continue  # no box ticked: the browser posts nothing
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = "" if value is None else str(value)
    return data


def _verify(rnd, child, by=None, **kw):
    child = Child.objects.get(pk=child.pk)
    args = {"data": {}, "version": child.version, "groups": GROUPS, "by": by} | kw
    return verification.verify_card(round=rnd, child=child, **args)


def _plan(rnd, child, **data):
    """The child's vacation plan with the safety pledge back."""
    data = {"destination": "home", "pledge_returned": True} | data
    return verification.save_vacation_plan(round=rnd, child=child, data=data, by=None)


# --- opening ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "vacation", "deadline", "field"),
    [
        ("2026-2027-1", "summer", TODAY + dt.timedelta(days=5), "vacation"),
        ("2026-2027-2", "winter", TODAY + dt.timedelta(days=5), "vacation"),
        ("2026-2027-1", "spring", TODAY + dt.timedelta(days=5), "vacation"),
        ("2026/2027", "winter", TODAY + dt.timedelta(days=5), "term"),
        ("2026-2027-1", "winter", TODAY - dt.timedelta(days=1), "deadline"),
        ("2026-2027-1", "winter", "2026-02-30", "deadline"),
        ("2026-2027-1", "winter", "明天", "deadline"),
        ("2026-2027-1", "winter", "", "deadline"),
        ("2026-2027-1", "winter", TODAY + dt.timedelta(days=400), "deadline"),
    ],
)
def test_open_round_refuses_bad_input(cast, term, vacation, deadline, field):
    with pytest.raises(CardInvalid) as exc:
        verification.open_round(
            school=cast["schools"]["zx"], term=term, vacation=vacation, deadline=deadline, by=None
        )
    assert field in exc.value.errors
    assert not VerificationRound.objects.exists()


def test_open_round_once_per_vacation(cast, rnd):
    with pytest.raises(CardInvalid) as exc:
        verification.open_round(
            school=cast["schools"]["zx"],
            term="2026-2027-1",
            vacation="winter",
            deadline=TODAY,
            by=None,
        )
    assert "已有" in exc.value.errors["vacation"]
    assert rnd.is_open and not rnd.overdue


# --- cards -----------------------------------------------------------------------------------


def test_confirm_and_correct_cards(cast, rnd, kids, users):
    confirmed = _verify(rnd, kids["c31a"], by=users["zx_teacher31"])
    assert confirmed.result == "confirmed"
    child = Child.objects.get(pk=kids["c31b"].pk)
    corrected = verification.verify_card(
        round=rnd,
        child=child,
        data={"village": "板桥村", "guardian.phone": "13700001111"},
        version=child.version,
        groups=["address", "guardian"],
        by=users["zx_teacher31"],
    )
    assert corrected.result == "corrected" and corrected.groups == ["address", "guardian"]
    child = Child.objects.get(pk=child.pk)
    assert child.village == "板桥村"
    assert "核实：更正" in child.history.first().history_change_reason
    p = verification.round_progress(rnd, Child.objects.all())
    assert (p["total"], p["done"]) == (4, 2)
    g3 = p["grades"][0]
    assert (g3["grade"], g3["done"], g3["total"], g3["signed_off"]) == (3, 2, 3, False)


def test_verification_needs_groups_and_current_version(cast, rnd, kids):
    with pytest.raises(CardInvalid):
        _verify(rnd, kids["c31a"], groups=[])
    with pytest.raises(CardInvalid):
        _verify(rnd, kids["c31a"], groups=["shoes"])
    with pytest.raises(StaleVersion):
        _verify(rnd, kids["c31a"], version=0)
    with pytest.raises(CardInvalid):
        _verify(rnd, kids["bq31a"])
    assert not CardVerification.objects.exists()


def test_freshness_per_group_and_stale_list(cast, rnd, kids, users):
    scope = Child.objects.filter(school=cast["schools"]["zx"])
    assert services.stale_cards(scope).count() == 4
    _verify(rnd, kids["c31a"], by=users["zx_teacher31"], groups=["parents", "guardian"])
    fresh = {g["group"]: g for g in services.card_freshness(kids["c31a"])}
    assert fresh["parents"]["current"] and fresh["parents"]["by"] == "王老师"
    assert fresh["parents"]["checked_at"] is not None
    assert not fresh["health"]["current"] and fresh["health"]["checked_at"] is None
    assert services.stale_cards(scope).count() == 4  # still groups left
    _verify(rnd, kids["c31a"], by=users["zx_teacher31"])
    assert services.stale_cards(scope).count() == 3
    # a check of an earlier term no longer counts
    CardCheck.objects.update(term="2020-2021-1")
    assert services.stale_cards(scope).count() == 4
    fresh = {g["group"]: g for g in services.card_freshness(kids["c31a"])}
    assert fresh["parents"]["checked_at"] and not fresh["parents"]["current"]


# --- sign-off and closing ----------------------------------------------------------------------


def test_grade_sign_off_needs_every_card_verified(cast, rnd, kids, users):
    with pytest.raises(CardInvalid) as exc:
        verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    assert "3 张档卡未核实" in exc.value.errors["grade"]
    for key in ("c31a", "c31b", "c32a"):
        _verify(rnd, kids[key])
        _plan(rnd, kids[key])
    verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    with pytest.raises(CardInvalid):
        verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    with pytest.raises(CardInvalid) as exc:
        verification.sign_off_grade(round=rnd, grade=5, by=users["zx_leader"])
    assert "没有在读学生" in exc.value.errors["grade"]
    # a signed-off grade's cards are final for the round
    with pytest.raises(CardInvalid):
        _verify(rnd, kids["c31a"])
    assert VerificationRound.objects.get(pk=rnd.pk).is_open  # grade 4 is left


def test_round_closes_when_every_grade_signed_off(cast, rnd, kids, users):
    for key in ("c31a", "c31b", "c32a", "c41a"):
        _verify(rnd, kids[key])
    for key in ("c31a", "c31b", "c32a"):  # the left-behind children's plans and pledges
        _plan(rnd, kids[key])
    verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    verification.sign_off_grade(round=rnd, grade=4, by=users["zx_leader"])
    closed = VerificationRound.objects.get(pk=rnd.pk)
    assert not closed.is_open and closed.closed_at is not None
    with pytest.raises(CardInvalid):
        verification.save_vacation_plan(round=closed, child=kids["c41a"], data={}, by=None)


def test_who_may_sign_off(cast, rnd, users):
    assert verification.can_sign_off(users["zx_grade3"], rnd, 3)
    assert not verification.can_sign_off(users["zx_grade3"], rnd, 4)
    assert verification.can_sign_off(users["zx_leader"], rnd, 4)
    assert verification.can_sign_off(users["town"], rnd, 4)
    for name in ("zx_teacher31", "inspector", "bq_leader", "zx_counselor"):
        assert not verification.can_sign_off(users[name], rnd, 3)


# --- vacation plans --------------------------------------------------------------------------


def test_vacation_plan_and_pledge(cast, rnd, kids, users):
    plan = verification.save_vacation_plan(
        round=rnd,
        child=kids["c31a"],
        data={
            "destination": "亲戚家",
            "place": "县城姑姑家",
            "with_whom": "姑姑",
            "contact_phone": "138-1234-5678",
            "activities": "阅读、写作业",
            "pledge_returned": True,
            "pledge_items": ["swimming", "traffic", "fire"],
        },
        by=users["zx_teacher31"],
    )
    assert plan.destination == "relatives" and plan.contact_phone == "13812345678"
    assert plan.pledge_returned and plan.pledge_returned_on == TODAY
    assert plan.pledge_items == ["swimming", "traffic", "fire"]
    p = verification.round_progress(rnd, Child.objects.all())
    assert (p["plans"], p["pledges"]) == (1, 1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"destination": "月球"}, "destination"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"pledge_returned": True, "pledge_returned_on": "2026-13-01"}, "pledge_returned_on"),
        (
            {"pledge_returned": True, "pledge_returned_on": TODAY + dt.timedelta(days=3)},
            "pledge_returned_on",
        ),
        ({"pledge_items": ["swimming", "skydiving"]}, "pledge_items"),
        ({"destination": "relatives", "place": ""}, "place"),
        ({"activities": "玩" * 301}, "activities"),
    ],
)
def test_vacation_plan_bad_input(cast, rnd, kids, data, field):
    with pytest.raises(CardInvalid) as exc:
        verification.save_vacation_plan(round=rnd, child=kids["c31a"], data=data, by=None)
    assert field in exc.value.errors
    assert not VacationPlan.objects.exists()


# --- pages -----------------------------------------------------------------------------------


def test_leader_opens_round_on_the_page(client, cast, users):
    client.force_login(users["zx_leader"])
    bad = client.post(
        reverse("screening:rounds"),
        {
            "school": cast["schools"]["zx"].pk,
            "term": "2026-2027-1",
            "vacation": "summer",
            "deadline": (TODAY + dt.timedelta(days=9)).isoformat(),
        },
    )
    assert bad.status_code == 422 and "暑假" in bad.content.decode()
    ok = client.post(
        reverse("screening:rounds"),
        {
            "school": cast["schools"]["zx"].pk,
            "term": "2026-2027-1",
            "vacation": "winter",
            "deadline": (TODAY + dt.timedelta(days=9)).isoformat(),
            "plans_of": "all",
            "pledges_of": "left_behind",
        },
    )
    assert ok.status_code == 302 and VerificationRound.objects.count() == 1
    assert VerificationRound.objects.get().plans_of == "all"


def test_teacher_verifies_and_records_plan_on_the_page(client, cast, users, rnd, kids):
    client.force_login(users["zx_teacher31"])
    child = kids["c31a"]
    url = reverse("screening:verify_child", args=[rnd.pk, child.pk])
    page = client.get(url).content.decode()
    assert "提交核实" in page and "安全责任书" in page and "从未核实" in page
    from guanai.screening.forms import VERIFY_KEYS, VerifyForm

    untouched = form_data(VerifyForm, Child.objects.get(pk=child.pk), VERIFY_KEYS)
    # nothing ticked: nothing is verified
    response = client.post(url, untouched | {"action": "verify"})
    assert response.status_code == 422 and "请勾选已与监护人核对过的信息组" in (
        response.content.decode()
    )
    assert not CardVerification.objects.exists()
    ticked = untouched | {"action": "verify", "groups": ["parents", "address"]}
    response = client.post(url, ticked)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == url + "#plan"  # 双留守: the plan and pledge are still due
    record = CardVerification.objects.get(child=child)
    assert record.result == "confirmed" and record.groups == ["address", "parents"]
    assert set(CardCheck.objects.filter(child=child).values_list("group", flat=True)) == {
        "parents",
        "address",
    }
    assert Child.objects.get(pk=child.pk).version == child.version  # nothing rewritten
    changed = ticked | {"village": "新村", "version": child.version}
    assert client.post(url, changed).status_code == 302
    assert CardVerification.objects.get(child=child).result == "corrected"
    plan = client.post(
        url,
        {
            "action": "plan",
            "destination": "home",
            "with_whom": "张奶奶",
            "contact_phone": "13912345678",
            "pledge_returned": "on",
            "pledge_items": ["swimming"],
        },
    )
    # 张三 is done: on to the next child of the class with work left
    assert plan["Location"] == reverse("screening:verify_child", args=[rnd.pk, kids["c31b"].pk])
    assert VacationPlan.objects.get(child=child).pledge_items == ["swimming"]
    bad = client.post(url, {"action": "plan", "contact_phone": "abc"})
    assert bad.status_code == 422 and "看护人电话" in bad.content.decode()


def test_only_groups_the_page_shows_can_be_ticked_and_none_is_ticked_beforehand(
    client, users, rnd, kids
):
    from guanai.screening.forms import VERIFY_KEYS, VerifyForm

    child = Child.objects.get(pk=kids["c31a"].pk)
    form = VerifyForm(child=child, keys=VERIFY_KEYS, read_only=["basic"])
    assert [g for g, _label in form.fields["groups"].choices] == [
        "parents",
        "guardian",
        "address",
        "basic",
    ]
    assert not any(b["ticked"] for b in form.blocks())
    client.force_login(users["zx_teacher31"])
    url = reverse("screening:verify_child", args=[rnd.pk, child.pk])
    page = client.get(url).content.decode()
    assert 'name="groups"' in page and "checked" not in page.split('name="groups"', 1)[1][:60]
    # the read-only groups sit folded, their box inside
    assert '<details class="border rounded p-2 mb-2 verify-group" id="group-care">' in page
    data = form_data(VerifyForm, child, VERIFY_KEYS) | {"action": "verify"}
    response = client.post(url, data | {"groups": ["parents", "shoes"]})
    assert response.status_code == 422 and "只能勾选本页显示的信息组" in response.content.decode()
    assert not CardVerification.objects.exists()


def test_verification_form_shows_full_phones_and_logs_it(client, users, rnd, kids):
    from guanai.accounts.models import AccessLog

    client.force_login(users["zx_teacher31"])
    child = kids["c31a"]
    page = client.get(reverse("screening:verify_child", args=[rnd.pk, child.pk]))
    assert 'value="13912345678"' in page.content.decode()
    log = AccessLog.objects.get()
    assert (log.action, log.child, log.detail) == (
        "view_sensitive",
        child,
        "核实档卡时查看完整电话号码",
    )


def test_sign_off_requires_the_plans_and_pledges_the_round_asks_for(cast, rnd, kids, users):
    for key in ("c31a", "c31b", "c32a"):
        _verify(rnd, kids[key])
    _plan(rnd, kids["c31a"])
    _plan(rnd, kids["c31b"], pledge_returned=False)
    with pytest.raises(CardInvalid) as exc:
        verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    message = exc.value.errors["grade"]
    assert "1 人未登记假期去向" in message and "2 人的安全责任书未交回" in message
    assert "未核实" not in message
    children = verification.round_children(rnd, Child.objects.all())
    assert list(verification.missing_plans(rnd, children)) == [kids["c32a"]]
    assert set(verification.missing_pledges(rnd, children)) == {kids["c31b"], kids["c32a"]}
    p = verification.round_progress(rnd, Child.objects.all())
    g3 = p["grades"][0]
    assert (g3["no_plan"], g3["no_pledge"], g3["ready"]) == (1, 2, False)
    _plan(rnd, kids["c31b"])
    _plan(rnd, kids["c32a"])
    verification.sign_off_grade(round=rnd, grade=3, by=users["zx_grade3"])
    # grade 4's only child is not left-behind: nothing is asked of him
    _verify(rnd, kids["c41a"])
    verification.sign_off_grade(round=rnd, grade=4, by=users["zx_leader"])


@pytest.mark.parametrize(
    ("plans_of", "pledges_of", "grade4_blocked"),
    [("all", "none", True), ("none", "all", True), ("none", "none", False)],
)
def test_a_round_asks_plans_of_everyone_or_of_nobody(
    cast, kids, users, plans_of, pledges_of, grade4_blocked
):
    rnd = verification.open_round(
        school=cast["schools"]["zx"],
        term="2026-2027-1",
        vacation="winter",
        deadline=TODAY,
        by=None,
        plans_of=plans_of,
        pledges_of=pledges_of,
    )
    _verify(rnd, kids["c41a"])
    if grade4_blocked:
        with pytest.raises(CardInvalid):
            verification.sign_off_grade(round=rnd, grade=4, by=users["zx_leader"])
    else:
        verification.sign_off_grade(round=rnd, grade=4, by=users["zx_leader"])


def test_round_page_shows_what_each_grade_lacks_and_lists_them(client, users, rnd, kids):
    for key in ("c31a", "c31b", "c32a"):
        _verify(rnd, kids[key])
    _plan(rnd, kids["c31a"])
    client.force_login(users["zx_grade3"])
    url = reverse("screening:round", args=[rnd.pk])
    page = client.get(url).content.decode()
    assert "2 人未登记假期去向" in page and "2 人责任书未交回" in page
    assert "补齐后可签字" in page
    assert reverse("screening:sign_off", args=[rnd.pk, 3]) not in page
    refused = client.post(reverse("screening:sign_off", args=[rnd.pk, 3]))
    assert refused["Location"] == url + "?grade=3&state=todo#results"
    listed = client.get(url, {"grade": 3, "state": "no_plan"})
    names = [c.name for c in listed.context["page"].object_list]
    assert names == ["单小明", "李四"]
    assert not GradeSignOff.objects.exists()


def test_api_card_verification_needs_the_groups_checked(client, users, rnd, kids):
    client.force_login(users["zx_teacher31"])
    response = client.post(
        f"/api/v1/verifications/{rnd.pk}/cards",
        {"child": kids["c31a"].pk, "version": kids["c31a"].version},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "groups"
    assert not CardVerification.objects.exists()


def test_grade_leader_signs_off_on_the_page(client, cast, users, rnd, kids):
    client.force_login(users["zx_grade3"])
    url = reverse("screening:sign_off", args=[rnd.pk, 3])
    client.post(url)
    assert not GradeSignOff.objects.exists()
    for key in ("c31a", "c31b", "c32a"):
        _verify(rnd, kids[key])
        _plan(rnd, kids[key])
    page = client.get(reverse("screening:round", args=[rnd.pk])).content.decode()
    assert "签字确认" in page
    client.post(url)
    assert GradeSignOff.objects.get().signed_by == users["zx_grade3"]
    assert client.post(reverse("screening:sign_off", args=[rnd.pk, 4])).status_code == 403


@pytest.mark.parametrize("role", ALL)
def test_round_pages_scope(client, cast, users, rnd, kids, role):
    client.force_login(users[role])
    assert client.get(reverse("screening:round", args=[rnd.pk])).status_code == (
        200 if role in SEES_ZX else 404
    )
    assert client.get(reverse("screening:rounds")).status_code == 200
    verify = client.get(
        reverse("screening:verify_child", args=[rnd.pk, kids["c32a"].pk])
    ).status_code
    from guanai.testing import EDITABLE, VISIBLE

    if role == "inspector":
        assert verify == 403
    elif role not in SEES_ZX or "c32a" not in VISIBLE[role]:
        assert verify == 404
    elif "c32a" not in EDITABLE[role]:
        assert verify == 403
    else:
        assert verify == 200
    sign = client.post(reverse("screening:sign_off", args=[rnd.pk, 3])).status_code
    if role == "inspector":
        assert sign == 403
    elif role in ("town", "zx_leader", "zx_grade3"):
        assert sign == 302
    elif role in SEES_ZX:
        assert sign == 403
    else:
        assert sign == 404


@pytest.mark.parametrize("role", ALL)
def test_stale_and_card_check_pages_scope(client, cast, users, kids, role):
    from guanai.testing import VISIBLE

    client.force_login(users[role])
    body = client.get(reverse("screening:stale")).content.decode()
    for key, child in kids.items():
        assert (child.name in body) is (key in VISIBLE[role])
    for key in ("c31a", "bq31a"):
        status = client.get(reverse("screening:card_checks", args=[kids[key].pk])).status_code
        assert status == (200 if key in VISIBLE[role] else 404)


def test_card_checks_fragment_for_the_card_page(client, cast, users, kids):
    client.force_login(users["zx_teacher31"])
    body = client.get(
        reverse("screening:card_checks", args=[kids["c31a"].pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in body and "信息核实情况" in body and "监护人" in body


# --- API -------------------------------------------------------------------------------------


def test_api_rounds_with_progress(client, cast, users, rnd, kids):
    _verify(rnd, kids["c31a"])
    verification.save_vacation_plan(
        round=rnd,
        child=kids["c31a"],
        data={"destination": "home", "pledge_returned": True},
        by=None,
    )
    client.force_login(users["zx_leader"])
    body = client.get("/api/v1/verifications").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["total"], item["done"], item["percent"], item["plans"], item["pledges"]) == (
        4,
        1,
        25,
        1,
        1,
    )
    assert item["vacation"] == "winter" and item["deadline"] == rnd.deadline.isoformat()
    detail = client.get(f"/api/v1/verifications/{rnd.pk}").json()
    assert [g["grade"] for g in detail["grades"]] == [3, 4]
    assert len(detail["missing_children"]) == 3


def test_api_round_workflow(client, cast, users, kids):
    client.force_login(users["zx_leader"])
    bad = client.post(
        "/api/v1/verifications",
        {"school": "HS-ZX", "term": "2026-2027-1", "vacation": "winter", "deadline": "昨天"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "deadline"
    created = client.post(
        "/api/v1/verifications",
        {
            "school": "HS-ZX",
            "term": "2026-2027-1",
            "vacation": "winter",
            "deadline": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    rid = created.json()["id"]
    for key in ("c41a",):
        child = Child.objects.get(pk=kids[key].pk)
        ok = client.post(
            f"/api/v1/verifications/{rid}/cards",
            {"child": child.pk, "version": child.version, "groups": ["parents"]},
            content_type="application/json",
        )
        assert ok.status_code == 200 and ok.json()["result"] == "confirmed"
    stale = client.post(
        f"/api/v1/verifications/{rid}/cards",
        {"child": kids["c31a"].pk, "version": 99, "groups": ["parents"]},
        content_type="application/json",
    )
    assert stale.status_code == 409
    signed = client.post(
        f"/api/v1/verifications/{rid}/grades/4/signoff", {}, content_type="application/json"
    )
    assert signed.status_code == 200 and signed.json()["grades_signed_off"] == 1
    refused = client.post(
        f"/api/v1/verifications/{rid}/grades/3/signoff", {}, content_type="application/json"
    )
    assert refused.status_code == 422 and "未核实" in refused.json()["detail"][0]["msg"]
    plan = client.put(
        f"/api/v1/verifications/{rid}/plans/{kids['c31a'].pk}",
        {
            "destination": "parents",
            "place": "广东东莞",
            "pledge_returned": True,
            "pledge_items": ["swimming"],
        },
        content_type="application/json",
    )
    assert plan.status_code == 200 and plan.json()["pledge_returned_on"] == TODAY.isoformat()


@pytest.mark.parametrize("role", ALL)
def test_api_verification_scope(client, cast, users, rnd, kids, role):
    client.force_login(users[role])
    assert client.get(f"/api/v1/verifications/{rnd.pk}").status_code == (
        200 if role in SEES_ZX else 404
    )
    assert client.get("/api/v1/verifications").json()["count"] == (1 if role in SEES_ZX else 0)
    card = client.post(
        f"/api/v1/verifications/{rnd.pk}/cards",
        {"child": kids["c31a"].pk, "version": kids["c31a"].version, "groups": ["guardian"]},
        content_type="application/json",
    ).status_code
    if role == "inspector":
        assert card == 403
    elif role in ("town", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"):
        assert card == 200
    else:
        assert card == 404
    plan = client.put(
        f"/api/v1/verifications/{rnd.pk}/plans/{kids['bq31a'].pk}",
        {},
        content_type="application/json",
    ).status_code
    assert plan == (403 if role == "inspector" else 404 if role != "town" else 422)


def test_api_verification_list_query_count(client, cast, users, django_assert_max_num_queries):
    for code in ("zx", "bq", "gt"):
        verification.open_round(
            school=cast["schools"][code],
            term="2026-2027-1",
            vacation="winter",
            deadline=TODAY,
            by=None,
        )
    client.force_login(users["town"])
    client.get("/api/v1/verifications")
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/verifications").json()["count"] == 3
