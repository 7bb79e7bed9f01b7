"""Frequency rules at their boundaries, overrides, and GET /api/v1/contacts/due."""

import datetime as dt

import pytest

from guanai.children.models import Child
from guanai.contacts.models import ContactRule
from guanai.contacts.rules import due_items, rules_for_schools, term_start
from guanai.contacts.services import save_rule
from guanai.testing import VISIBLE, make_child

from .helpers import add_contact, at, created_on

D = dt.date


@pytest.fixture
def kid(cast):
    """c31a (双留守), card created long ago so the card date never decides."""
    child = cast["children"]["c31a"]
    created_on(child, D(2025, 1, 10))
    return child


def due_for(child, as_of, rule):
    items = due_items(Child.objects.filter(pk=child.pk), as_of=as_of, rule_codes=[rule])
    assert len(items) <= 1
    return items[0] if items else None


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2026, 9, 1), D(2026, 9, 1)),
        (D(2026, 8, 31), D(2026, 2, 1)),
        (D(2027, 1, 31), D(2026, 9, 1)),
        (D(2027, 2, 1), D(2027, 2, 1)),
        (D(2026, 12, 31), D(2026, 9, 1)),
    ],
)
def test_term_starts_on_1_september_and_1_february(day, start):
    assert term_start(day) == start


# --- the term rule (home visit each term) ---------------------------------------------------------


def test_visit_on_the_last_day_of_spring_term_does_not_count_for_autumn(kid, users):
    add_contact(kid, users["zx_teacher31"], "home_visit", at(D(2026, 8, 31), 23, 59))
    assert due_for(kid, D(2026, 8, 31), "home_visit") is None
    item = due_for(kid, D(2026, 9, 1), "home_visit")
    assert item.days_overdue == 0 and item.due_since == D(2026, 9, 1)
    assert item.last_at == at(D(2026, 8, 31), 23, 59)
    assert due_for(kid, D(2026, 9, 15), "home_visit").days_overdue == 14


def test_visit_at_midnight_opening_the_term_counts(kid, users):
    add_contact(kid, users["zx_teacher31"], "home_visit", at(D(2026, 9, 1), 0, 0))
    assert due_for(kid, D(2026, 9, 1), "home_visit") is None
    assert due_for(kid, D(2027, 1, 31), "home_visit") is None
    assert due_for(kid, D(2027, 2, 1), "home_visit").days_overdue == 0


def test_term_boundary_is_shanghai_midnight_not_utc(kid, users):
    # 2026-09-01 07:30 Shanghai is 2026-08-31 23:30 UTC: it is in the autumn term
    add_contact(
        kid, users["zx_teacher31"], "home_visit", dt.datetime(2026, 8, 31, 23, 30, tzinfo=dt.UTC)
    )
    assert due_for(kid, D(2026, 9, 2), "home_visit") is None


def test_never_visited_is_due_from_term_start_with_last_at_null(kid):
    item = due_for(kid, D(2026, 11, 29), "home_visit")
    assert item.last_at is None
    assert item.due_since == D(2026, 9, 1)
    assert item.days_overdue == (D(2026, 11, 29) - D(2026, 9, 1)).days


def test_card_created_during_the_term_is_due_from_its_creation(kid):
    created_on(kid, D(2026, 10, 20))
    item = due_for(kid, D(2026, 11, 29), "home_visit")
    assert item.due_since == D(2026, 10, 20) and item.days_overdue == 40


def test_other_kinds_do_not_count_as_a_home_visit(kid, users):
    add_contact(kid, users["zx_teacher31"], "phone", at(D(2026, 10, 1)))
    assert due_for(kid, D(2026, 11, 29), "home_visit") is not None


# --- the rolling rules (guardian contact and family call every 30 days) -------------------------


@pytest.mark.parametrize(
    ("today", "due", "overdue"),
    [
        (D(2026, 3, 1), False, None),
        (D(2026, 3, 30), False, None),  # day 30 of the 30 days the contact covers
        (D(2026, 3, 31), True, 0),  # due today
        (D(2026, 4, 2), True, 2),
    ],
)
def test_monthly_means_the_contact_covers_30_days_counting_its_own(kid, users, today, due, overdue):
    add_contact(kid, users["zx_teacher31"], "phone", at(D(2026, 3, 1), 21, 0))
    item = due_for(kid, today, "guardian_contact")
    assert (item is not None) is due
    if due:
        assert item.days_overdue == overdue and item.due_since == D(2026, 3, 31)


def test_rolling_rule_uses_the_latest_counting_contact(kid, users):
    t = users["zx_teacher31"]
    add_contact(kid, t, "home_visit", at(D(2026, 9, 1)))
    add_contact(kid, t, "message", at(D(2026, 10, 1)))
    add_contact(kid, t, "letter", at(D(2026, 11, 20)))  # a letter is not a guardian contact
    add_contact(kid, t, "family_call", at(D(2026, 11, 25)))  # nor is a child's call home
    item = due_for(kid, D(2026, 11, 29), "guardian_contact")
    assert item.last_at == at(D(2026, 10, 1)) and item.days_overdue == 29


def test_family_call_counts_only_family_calls(kid, users):
    t = users["zx_teacher31"]
    add_contact(kid, t, "phone", at(D(2026, 11, 28)))
    assert due_for(kid, D(2026, 11, 29), "family_call") is not None
    add_contact(kid, t, "family_call", at(D(2026, 11, 28)))
    assert due_for(kid, D(2026, 11, 29), "family_call") is None


def test_never_contacted_under_a_rolling_rule_is_due_from_card_creation(kid):
    created_on(kid, D(2026, 11, 1))
    item = due_for(kid, D(2026, 11, 29), "guardian_contact")
    assert item.last_at is None and item.due_since == D(2026, 11, 1) and item.days_overdue == 28


def test_as_of_ignores_later_contacts_and_cards(kid, users, cast):
    add_contact(kid, users["zx_teacher31"], "home_visit", at(D(2026, 11, 20)))
    assert due_for(kid, D(2026, 11, 19), "home_visit").days_overdue == 79
    late = cast["children"]["c31b"]
    created_on(late, D(2026, 11, 25))
    assert due_for(late, D(2026, 11, 24), "home_visit") is None


def test_only_enrolled_left_behind_children_are_concerned(cast):
    kids = cast["children"]
    everyone = Child.objects.filter(pk__in=[c.pk for c in kids.values()])
    due = {i.child for i in due_items(everyone, as_of=D(2026, 11, 29))}
    assert kids["c41a"].pk not in due  # both parents at home: category none
    assert {kids["c31a"].pk, kids["c31b"].pk, kids["gt"].pk} <= due
    Child.objects.filter(pk=kids["gt"].pk).update(enrolment="graduated")
    due = {i.child for i in due_items(everyone, as_of=D(2026, 11, 29))}
    assert kids["gt"].pk not in due


def test_one_item_per_child_and_rule_most_overdue_first(cast, users):
    kids = cast["children"]
    for k in ("c31a", "c31b", "c32a"):
        created_on(kids[k], D(2025, 1, 1))
    add_contact(kids["c31a"], users["zx_teacher31"], "phone", at(D(2026, 11, 1)))
    items = due_items(
        Child.objects.filter(pk__in=[kids[k].pk for k in ("c31a", "c31b", "c32a")]),
        as_of=D(2026, 11, 29),
    )
    pairs = [(i.child, i.rule) for i in items]
    assert len(pairs) == len(set(pairs))
    assert [i.days_overdue for i in items] == sorted((i.days_overdue for i in items), reverse=True)
    assert (kids["c31a"].pk, "guardian_contact") not in pairs  # called 28 days ago
    # 8 under the three category rules, and c31a and c32a have a proxy parent (proxy_wang)
    assert len(items) == 10
    proxied = {i.child: i.proxy_user_id for i in items if i.rule == "proxy_contact"}
    assert proxied == {
        kids["c31a"].pk: users["proxy_wang"].pk,
        kids["c32a"].pk: users["proxy_wang"].pk,
    }


# --- rules per town, overridden per school --------------------------------------------------------


def test_defaults_apply_until_the_town_changes_them(cast, users):
    zx = cast["schools"]["zx"]
    rules = {r.code: r for r in rules_for_schools([zx.pk])[zx.pk]}
    assert rules["guardian_contact"].days == 30 and rules["guardian_contact"].level == "default"
    save_rule(
        code="guardian_contact",
        by=users["town"],
        town=cast["town_obj"],
        name="每两周联系监护人",
        kinds=["phone", "home_visit"],
        period="days",
        days=14,
        categories=["double"],
        active=True,
    )
    rules = {r.code: r for r in rules_for_schools([zx.pk])[zx.pk]}
    assert rules["guardian_contact"].days == 14 and rules["guardian_contact"].level == "town"


def test_a_school_overrides_the_town_rule_for_itself_only(cast, users, kid):
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    save_rule(
        code="family_call",
        by=users["zx_leader"],
        school=zx,
        name="每周亲情电话",
        kinds=["family_call"],
        period="days",
        days=7,
        categories=["single", "double"],
        active=True,
    )
    rules = rules_for_schools([zx.pk, bq.pk])
    assert {r.code: r.days for r in rules[zx.pk]}["family_call"] == 7
    assert {r.code: r.days for r in rules[bq.pk]}["family_call"] == 30
    add_contact(kid, users["zx_teacher31"], "family_call", at(D(2026, 11, 20)))
    assert due_for(kid, D(2026, 11, 26), "family_call") is None
    assert due_for(kid, D(2026, 11, 27), "family_call").days_overdue == 0


def test_inactive_rule_lists_nobody(cast, users, kid):
    save_rule(
        code="family_call",
        by=users["town"],
        town=cast["town_obj"],
        name="每月亲情电话",
        kinds=["family_call"],
        period="days",
        days=30,
        categories=["single", "double"],
        active=False,
    )
    assert due_for(kid, D(2026, 11, 29), "family_call") is None


def test_rule_categories_decide_who_is_concerned(cast, users):
    single = cast["children"]["c31b"]
    save_rule(
        code="home_visit",
        by=users["town"],
        town=cast["town_obj"],
        name="每学期家访（双留守）",
        kinds=["home_visit"],
        period="term",
        days=30,
        categories=["double"],
        active=True,
    )
    assert due_for(single, D(2026, 11, 29), "home_visit") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kinds": []}, "kinds"),
        ({"kinds": ["fax"]}, "kinds"),
        ({"period": "week"}, "period"),
        ({"days": 0}, "days"),
        ({"days": 400}, "days"),
        ({"categories": []}, "categories"),
        ({"name": ""}, "name"),
        ({"code": "weekly"}, "code"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(cast, users, change, field):
    from guanai.children.validation import CardInvalid

    args = {
        "code": "family_call",
        "by": users["town"],
        "town": cast["town_obj"],
        "name": "每月亲情电话",
        "kinds": ["family_call"],
        "period": "days",
        "days": 30,
        "categories": ["single"],
        "active": True,
    }
    args.update(change)
    with pytest.raises(CardInvalid) as exc:
        save_rule(**args)
    assert field in exc.value.errors
    assert not ContactRule.objects.exists()


# --- GET /api/v1/contacts/due -------------------------------------------------------------------


def test_due_api_shape_and_order(client, cast, users):
    kids = cast["children"]
    for k in kids:
        created_on(kids[k], D(2026, 10, 1))
    add_contact(kids["c31a"], users["zx_teacher31"], "home_visit", at(D(2026, 10, 10)))
    client.force_login(users["zx_teacher31"])
    out = client.get("/api/v1/contacts/due", {"on": "2026-11-29"}).json()
    assert set(out) == {"items", "count"}
    item = out["items"][0]
    assert {"child", "rule", "last_at", "days_overdue"} <= set(item)
    assert [i["days_overdue"] for i in out["items"]] == sorted(
        (i["days_overdue"] for i in out["items"]), reverse=True
    )
    by_key = {(i["child"], i["rule"]): i for i in out["items"]}
    assert (kids["c31a"].pk, "home_visit") not in by_key
    visit = by_key[(kids["c31a"].pk, "guardian_contact")]
    assert visit["last_at"] == "2026-10-10T10:00:00+08:00" and visit["days_overdue"] == 20
    never = by_key[(kids["c31b"].pk, "home_visit")]
    assert never["last_at"] is None and never["days_overdue"] == 59
    assert out["count"] == 6  # c31a: 2 rules and its proxy parent's; c31b: 3 rules


@pytest.mark.parametrize("role", list(VISIBLE))
def test_due_api_lists_only_children_in_scope(client, cast, role):
    client.force_login(cast["users"][role])
    out = client.get("/api/v1/contacts/due", {"page_size": 500}).json()
    kids = cast["children"]
    visible = {kids[k].pk for k in VISIBLE[role]}
    assert {i["child"] for i in out["items"]} <= visible
    left_behind = {kids[k].pk for k in VISIBLE[role] if kids[k].category in ("single", "double")}
    assert {i["child"] for i in out["items"]} == left_behind


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"rule": "family_call"},
            {("c31a", "family_call"), ("c31b", "family_call"), ("c32a", "family_call")},
        ),
        (
            {"class_no": 2},
            {
                ("c32a", r)
                for r in ("home_visit", "guardian_contact", "family_call", "proxy_contact")
            },
        ),
        ({"child": "c31b", "rule": "home_visit"}, {("c31b", "home_visit")}),
        ({"mine": "true", "rule": "home_visit"}, {("c31a", "home_visit"), ("c31b", "home_visit")}),
        ({"school": "HS-BQ"}, set()),
    ],
)
def test_due_api_filters(client, cast, params, expected):
    kids = cast["children"]
    users = cast["users"]
    params = dict(params)
    if "child" in params:
        params["child"] = kids[params["child"]].pk
    user = users["zx_teacher31"] if params.get("mine") else users["zx_grade3"]
    client.force_login(user)
    out = client.get("/api/v1/contacts/due", params).json()
    got = {(k, i["rule"]) for i in out["items"] for k in kids if kids[k].pk == i["child"]}
    assert got == expected


def test_due_api_teacher_filter(client, cast):
    kids, users = cast["children"], cast["users"]
    Child.objects.filter(pk=kids["c32a"].pk).update(responsible_teacher=users["zx_teacher31"])
    client.force_login(users["zx_leader"])
    out = client.get("/api/v1/contacts/due", {"teacher": "zx_teacher31"}).json()
    assert {i["child"] for i in out["items"]} == {kids["c32a"].pk}


@pytest.mark.parametrize(
    "params",
    [{"rule": "weekly"}, {"on": "明天"}, {"grade": 13}, {"class_no": 0}, {"mine": "maybe"}],
)
def test_due_api_bad_filters_are_422(client, cast, params):
    client.force_login(cast["users"]["town"])
    response = client.get("/api/v1/contacts/due", params)
    assert response.status_code == 422, response.content


def test_due_api_query_count_does_not_grow_with_children(
    client, cast, django_assert_max_num_queries
):
    c31 = cast["classes"]["c31"]
    for n in range(25):
        make_child(c31, name=f"学生{n}")
    client.force_login(cast["users"]["zx_leader"])
    # session, user, roles, schools, rules, one query per rule, session save
    with django_assert_max_num_queries(12):
        out = client.get("/api/v1/contacts/due").json()
    assert out["count"] >= 75


def test_due_api_paginates(client, cast):
    c31 = cast["classes"]["c31"]
    for n in range(20):
        make_child(c31, name=f"学生{n}")
    client.force_login(cast["users"]["zx_teacher31"])
    first = client.get("/api/v1/contacts/due").json()
    # 22 children × 3 rules, and c31a's proxy parent has not met him yet
    assert first["count"] == 67 and len(first["items"]) == 50
    second = client.get("/api/v1/contacts/due", {"page": 2}).json()
    assert len(second["items"]) == 17
