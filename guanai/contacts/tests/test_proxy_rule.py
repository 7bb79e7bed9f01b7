"""The proxy-parent frequency rule (代理家长每周联系): who it concerns, which contacts count, its
boundaries, its overdue list for the proxy parent, and editing it."""

import datetime as dt

import pytest

from guanai.accounts.models import Role
from guanai.children.models import Child, ChildAssignment
from guanai.children.validation import CardInvalid
from guanai.contacts.rules import due_items, rules_for_schools
from guanai.contacts.services import save_rule
from guanai.testing import make_child, make_user

from .helpers import add_contact, at, created_on

D = dt.date
RULE = "proxy_contact"


@pytest.fixture
def proxied(cast, users):
    """c31a with proxy_wang as proxy parent since 2026-11-01; card created long before."""
    child = cast["children"]["c31a"]
    created_on(child, D(2025, 1, 10))
    ChildAssignment.objects.filter(child=child, kind="proxy_parent").update(
        valid_from=D(2026, 11, 1)
    )
    return child


def proxy_due(child, as_of):
    items = due_items(Child.objects.filter(pk=child.pk), as_of=as_of, rule_codes=[RULE])
    assert len(items) <= 1
    return items[0] if items else None


def test_never_met_is_due_since_the_assignment_began(proxied, users):
    item = proxy_due(proxied, D(2026, 11, 29))
    assert item.last_at is None
    assert item.due_since == D(2026, 11, 1) and item.days_overdue == 28
    assert item.proxy_user_id == users["proxy_wang"].pk
    assert item.rule_name == "代理家长每周联系"


@pytest.mark.parametrize(
    ("as_of", "due", "late"),
    [
        (D(2026, 11, 20), False, None),  # the day of the meeting
        (D(2026, 11, 26), False, None),  # day 7: still covered
        (D(2026, 11, 27), True, 0),  # day 8: due today
        (D(2026, 11, 29), True, 2),
    ],
)
def test_a_meeting_by_the_proxy_parent_covers_seven_days(proxied, users, as_of, due, late):
    add_contact(proxied, users["proxy_wang"], "meeting", at(D(2026, 11, 20), 23, 30))
    item = proxy_due(proxied, as_of)
    assert (item is not None) == due
    if due:
        assert item.days_overdue == late and item.due_since == D(2026, 11, 27)


def test_only_the_proxy_parents_own_contacts_count(proxied, users):
    add_contact(proxied, users["zx_teacher31"], "home_visit", at(D(2026, 11, 28)))
    assert proxy_due(proxied, D(2026, 11, 29)).last_at is None
    add_contact(proxied, users["proxy_wang"], "phone", at(D(2026, 11, 28)))
    assert proxy_due(proxied, D(2026, 11, 29)) is None


def test_kinds_outside_the_rule_do_not_count(proxied, users):
    add_contact(proxied, users["proxy_wang"], "letter", at(D(2026, 11, 28)))
    add_contact(proxied, users["proxy_wang"], "family_call", at(D(2026, 11, 28)))
    assert proxy_due(proxied, D(2026, 11, 29)) is not None


def test_a_former_proxy_parents_contact_does_not_count(proxied, users, cast):
    former = make_user("proxy_li", Role.PROXY_PARENT, school=cast["schools"]["zx"])
    ChildAssignment.objects.create(
        user=former,
        child=proxied,
        kind="proxy_parent",
        valid_from=D(2026, 9, 1),
        valid_to=D(2026, 10, 31),
    )
    add_contact(proxied, former, "meeting", at(D(2026, 11, 28)))
    item = proxy_due(proxied, D(2026, 11, 29))
    assert item is not None and item.proxy_user_id == users["proxy_wang"].pk


def test_children_without_a_current_proxy_parent_are_not_concerned(proxied, cast):
    assert proxy_due(cast["children"]["c31b"], D(2026, 11, 29)) is None  # never had one
    # before the assignment began, and after it ended
    assert proxy_due(proxied, D(2026, 10, 31)) is None
    ChildAssignment.objects.filter(child=proxied).update(valid_to=D(2026, 11, 15))
    assert proxy_due(proxied, D(2026, 11, 16)) is None
    assert proxy_due(proxied, D(2026, 11, 15)).days_overdue == 14


def test_the_rule_concerns_any_category_with_a_proxy_parent(cast, users):
    child = make_child(
        cast["classes"]["c31"], name="本地娃", **{"father.status": "home", "mother.status": "home"}
    )
    assert child.category == "none"
    ChildAssignment.objects.create(
        user=users["proxy_wang"], child=child, kind="proxy_parent", valid_from=D(2026, 11, 1)
    )
    items = due_items(Child.objects.filter(pk=child.pk), as_of=D(2026, 11, 29))
    assert [i.rule for i in items] == [RULE]


def test_a_town_can_change_the_frequency_and_the_categories_stay_empty(proxied, users, cast):
    row = save_rule(
        code=RULE,
        by=users["town"],
        town=cast["town_obj"],
        name="代理家长每两周联系",
        kinds=["phone", "meeting"],
        period="days",
        days=14,
        categories=["double"],  # ignored: the rule concerns every child with a proxy parent
        active=True,
    )
    assert row.categories == [] and row.audience == "proxy"
    zx = cast["schools"]["zx"]
    rule = {r.code: r for r in rules_for_schools([zx.pk])[zx.pk]}[RULE]
    assert rule.for_proxies and rule.days == 14 and rule.level == "town"
    add_contact(proxied, users["proxy_wang"], "phone", at(D(2026, 11, 20)))
    assert proxy_due(proxied, D(2026, 12, 3)) is None  # day 14
    assert proxy_due(proxied, D(2026, 12, 4)).days_overdue == 0


def test_a_category_rule_still_needs_a_category(users, cast):
    with pytest.raises(CardInvalid) as exc:
        save_rule(
            code="guardian_contact",
            by=users["town"],
            town=cast["town_obj"],
            name="每月联系监护人",
            kinds=["phone"],
            period="days",
            days=30,
            categories=[],
            active=True,
        )
    assert exc.value.errors == {"categories": "请至少选择一类儿童"}


def test_a_school_can_switch_the_rule_off(proxied, users, cast):
    save_rule(
        code=RULE,
        by=users["zx_leader"],
        school=cast["schools"]["zx"],
        name="代理家长每周联系",
        kinds=["meeting"],
        period="days",
        days=7,
        categories=[],
        active=False,
    )
    assert proxy_due(proxied, D(2026, 11, 29)) is None


# --- the proxy parent's overdue list ------------------------------------------------------------


def test_the_proxy_parent_sees_his_overdue_list_in_the_api(client, cast, users, proxied):
    client.force_login(users["proxy_wang"])
    out = client.get("/api/v1/contacts/due", {"rule": RULE, "on": "2026-11-29"}).json()
    kids = cast["children"]
    assert {i["child"] for i in out["items"]} == {kids["c31a"].pk, kids["c32a"].pk}
    assert {i["proxy_user_id"] for i in out["items"]} == {users["proxy_wang"].pk}
    # once he logs a meeting, the child leaves his list
    response = client.post(
        "/api/v1/contacts",
        {"child": proxied.pk, "kind": "meeting", "at": "2026-11-29T09:00:00"},
        content_type="application/json",
    )
    assert response.status_code == 201
    out = client.get("/api/v1/contacts/due", {"rule": RULE, "on": "2026-11-29"}).json()
    assert {i["child"] for i in out["items"]} == {kids["c32a"].pk}


def test_the_rule_filter_rejects_an_unknown_rule(client, users):
    client.force_login(users["proxy_wang"])
    response = client.get("/api/v1/contacts/due", {"rule": "proxy"})
    assert response.status_code == 422


def test_the_due_page_names_the_proxy_parent(client, users, proxied):
    client.force_login(users["zx_teacher31"])
    page = client.get("/contacts/due/", {"rule": RULE, "on": "2026-11-29"}).content.decode()
    assert "代理家长每周联系" in page and "代理家长 王叔叔" in page
    assert f'data-child="{proxied.pk}" data-rule="{RULE}"' in page


def test_the_rules_page_explains_the_proxy_rule(client, users):
    client.force_login(users["town"])
    page = client.get("/contacts/rules/").content.decode()
    assert "有代理家长的儿童（只算代理家长本人的联系）" in page
