"""The due list computed in SQL (`contacts.due.DueList`) agrees with the Python algorithm it
replaced (`due_reference.py`) on a random town: term boundaries, never-contacted children,
children created mid-term, proxy-parent rules, town and school overrides, an inactive rule, and
days looked back on (contacts dated after the day) as well as today's list (the summary table).
Its counts, groups and pages agree with the full list."""

import datetime as dt
import random
from collections import Counter
from unittest import mock

import pytest

from guanai.children.models import Child, ChildAssignment
from guanai.contacts.due import DueList
from guanai.contacts.models import Contact, ContactKind, ContactRule
from guanai.contacts.rules import due_items
from guanai.testing import make_child

from .due_reference import reference_due_items

D = dt.date
DAYS = [
    D(2026, 2, 1),  # first day of the spring term
    D(2026, 8, 31),  # last day of the spring term's window
    D(2026, 9, 1),  # first day of the autumn term
    D(2026, 9, 2),
    D(2026, 10, 15),
    D(2026, 11, 29),  # the suite's today
    D(2027, 1, 31),  # last day of the autumn term
    D(2027, 3, 1),  # after every contact: the summary table answers
]


@pytest.fixture
def town(cast, users):
    rng = random.Random(19)
    classes = list(cast["classes"].values())
    for i in range(36):
        make_child(rng.choice(classes), name=f"随机{i}")
    children = list(Child.objects.order_by("pk"))
    categories = ["single", "double", "single", "double", "migrant", "none", "unknown"]
    for child in children:
        # cards created over two years, some in the middle of a term, some on its first day
        created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(0, 700 * 24 * 60)
        )
        if rng.random() < 0.1:
            created = dt.datetime(2026, 8, 31, 16, 0, tzinfo=dt.UTC)  # 1 Sept, local midnight
        Child.objects.filter(pk=child.pk).update(
            category=rng.choice(categories), created_at=created
        )
    people = [users["zx_teacher31"], users["zx_leader"], users["proxy_wang"], users["bq_leader"]]
    kinds = list(ContactKind.values)
    contacts = []
    for _ in range(500):
        child = rng.choice(children)
        day = D(2025, 6, 1) + dt.timedelta(days=rng.randrange(0, 600))
        # around local midnight (16:00 UTC) half the time: the day boundary is where bugs are
        second = rng.choice([57599, 57600, 57601, rng.randrange(86400)])
        when = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=second)
        contacts.append(
            Contact(child=child, by=rng.choice(people), kind=rng.choice(kinds), at=when)
        )
    Contact.objects.bulk_create(contacts)
    for child in rng.sample(children, 10):  # proxy parents over several periods
        start = D(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 400))
        end = start + dt.timedelta(days=rng.randrange(10, 200)) if rng.random() < 0.5 else None
        ChildAssignment.objects.create(
            user=rng.choice([users["proxy_wang"], users["zx_teacher31"]]),
            child=child,
            kind="proxy_parent",
            valid_from=start,
            valid_to=end,
        )
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    rule = {"name": "规则", "categories": ["single", "double", "migrant"], "active": True}
    ContactRule.objects.create(
        town=cast["town_obj"],
        code="guardian_contact",
        kinds=["phone", "video"],
        period="days",
        days=14,
        **rule,
    )
    ContactRule.objects.create(
        school=zx,
        code="home_visit",
        kinds=["home_visit"],
        period="term",
        days=30,
        **rule | {"categories": ["single"]},
    )
    ContactRule.objects.create(
        school=bq,
        code="family_call",
        kinds=["family_call"],
        period="days",
        days=30,
        **rule | {"active": False},
    )
    ContactRule.objects.create(
        town=cast["town_obj"],
        code="proxy_contact",
        kinds=["meeting", "phone"],
        period="days",
        days=3,
        name="代理家长联系",
        categories=[],
        active=True,
        audience="proxy",
    )
    return children


def as_tuples(items):
    return [
        (
            i.child,
            i.rule,
            i.rule_name,
            i.last_at,
            i.due_since,
            i.days_overdue,
            i.proxy_user_id,
            i.school,
            i.grade,
            i.class_no,
            i.class_id,
            i.child_name,
            i.responsible_teacher_id,
        )
        for i in items
    ]


@pytest.mark.parametrize("as_of", DAYS)
def test_sql_agrees_with_the_python_reference(town, users, as_of):
    for children in (Child.objects.all(), Child.objects.visible_to(users["zx_leader"])):
        for codes in (None, ["home_visit"], ["proxy_contact", "guardian_contact"]):
            expected = reference_due_items(children, as_of=as_of, rule_codes=codes)
            due = DueList(children, as_of=as_of, rule_codes=codes)
            assert as_tuples(due.items()) == as_tuples(expected)
            assert as_tuples(due_items(children, as_of=as_of, rule_codes=codes)) == as_tuples(
                expected
            )
            # the contacts themselves answer as the summary table does
            assert as_tuples(_from_contacts(children, as_of, codes)) == as_tuples(expected)
            assert due.count() == len(expected)
            assert due.children_count() == len({i.child for i in expected})
            assert as_tuples(due.page(3, 7)) == as_tuples(expected[3:10])
            order = list(dict.fromkeys(i.child for i in expected))
            assert due.child_page(2, 5) == order[2:7]
            assert due.child_ids() == set(order)
            assert as_tuples(due.items(order[:3])) == as_tuples(
                [i for i in expected if i.child in order[:3]]
            )
            by_class = Counter((i.class_id, i.rule) for i in expected)
            summary = due.summary()
            assert {(line[3], r): n for line in summary for r, n in line[7].items()} == (
                dict(by_class)
            )
            assert {line[3]: line[6] for line in summary} == dict(
                Counter(i.class_id for i in {i.child: i for i in expected}.values())
            )
            per_class = Counter(i.class_id for i in {i.child: i for i in expected}.values())
            assert due.children_per("school_class_id") == dict(per_class)
            # the page's one pass: counts, one page of children and the ids, as above
            one = DueList(children, as_of=as_of, rule_codes=codes)
            one.prepare_page(2, 5, ids_up_to=len(order))
            assert one.child_page(2, 5) == order[2:7] and one.child_page(2, 3) == order[2:5]
            assert sorted(one.summary()) == sorted(summary)
            assert one.children_count() == len(order) and one.child_ids() == set(order)
            assert one.children_per("school_class_id") == dict(per_class)
            # both ways of merging a child's combos are exercised: the proxy rule joined to one
            # category combo, and grouping by child (combos with common children)
            joined = "FULL JOIN" in one._merged()[0]
            assert joined == (codes == ["proxy_contact", "guardian_contact"] and one._full_join)
    assert len(reference_due_items(Child.objects.all(), as_of=as_of)) > 0


def _from_contacts(children, as_of, codes):
    """The list with the last contacts read from the contacts, even on a day the summary table
    would answer (the constructor asks whether a contact is dated after the day)."""
    with mock.patch.object(type(Contact.objects.all()), "exists", return_value=True):
        due = DueList(children, as_of=as_of, rule_codes=codes)
    assert not due.from_summary
    return due.items()


def test_a_list_without_rules_is_empty(town, users):
    due = DueList(Child.objects.all(), as_of=D(2026, 11, 29), rule_codes=["nope"])
    assert due.count() == 0 and due.items() == [] and due.child_page(0, 50) == []


@pytest.mark.parametrize("inline", [0, 5_000])
def test_the_proxy_rule_lists_its_children_by_id_or_by_subquery(town, users, monkeypatch, inline):
    """The children with a proxy parent are named in the statement when they are few
    (PROXY_IDS_INLINE), else found by a subquery; none at all is an empty combo. The same list
    either way."""
    from guanai.contacts import due as due_module

    monkeypatch.setattr(due_module, "PROXY_IDS_INLINE", inline)
    as_of = DAYS[-1]
    codes = ["proxy_contact", "guardian_contact"]
    without = Child.objects.exclude(assignments__kind="proxy_parent")
    for children in (Child.objects.all(), without):
        expected = reference_due_items(children, as_of=as_of, rule_codes=codes)
        due = DueList(children, as_of=as_of, rule_codes=codes)
        assert as_tuples(due.items()) == as_tuples(expected)
        assert due.children_count() == len({i.child for i in expected})
    assert any(i.rule == "proxy_contact" for i in due_items(Child.objects.all(), as_of=as_of))


def test_many_children_with_a_proxy_parent_are_merged_by_grouping(town, users, monkeypatch):
    """Past FULL_JOIN_PROXIES children with a proxy parent the page's pass groups its rows by
    child instead of joining the proxy rule's rows (SQLite loops over one side for each row of
    the other: 31 s for a town with 10,000); the same page either way."""
    from guanai.contacts import due as due_module

    as_of = DAYS[-1]
    codes = ["proxy_contact", "guardian_contact"]
    expected = reference_due_items(Child.objects.all(), as_of=as_of, rule_codes=codes)
    order = list(dict.fromkeys(i.child for i in expected))
    for limit, joined in ((1_000, True), (0, False)):
        monkeypatch.setattr(due_module, "FULL_JOIN_PROXIES", limit)
        one = DueList(Child.objects.all(), as_of=as_of, rule_codes=codes)
        assert one.proxy_children > 0
        assert ("FULL JOIN" in one._merged()[0]) == (joined and one._full_join)
        one.prepare_page(0, 5, ids_up_to=len(order))
        assert one.child_page(0, 5) == order[:5]
        assert one.children_count() == len(order) and one.child_ids() == set(order)
        assert as_tuples(one.items()) == as_tuples(expected)


@pytest.mark.parametrize("from_summary", [True, False])
def test_two_proxy_parents_at_once_and_a_former_one(cast, users, from_summary):
    """A child with two proxy parents today and one whose assignment ended: the item names the
    proxy parent who started first (then the earlier assignment), its last contact is the
    latest by either current one (the former one's later meeting does not count), and a
    proxy parent named twice counts once. The same as the reference, with the contacts read
    from the summary table's day or looked back on."""
    from guanai.testing import make_user

    as_of = D(2026, 11, 29)
    kid = cast["children"]["c31a"]
    ChildAssignment.objects.filter(child=kid).delete()
    first = users["proxy_wang"]
    second = make_user("proxy_li", "proxy_parent", school=cast["schools"]["zx"])
    former = make_user("proxy_zhao", "proxy_parent", school=cast["schools"]["zx"])
    for user, start, end in (
        (second, D(2026, 10, 1), None),
        (first, D(2026, 9, 15), None),
        (first, D(2026, 10, 20), None),  # the same proxy parent named twice
        (former, D(2026, 3, 1), D(2026, 11, 1)),
    ):
        ChildAssignment.objects.create(
            user=user, child=kid, kind="proxy_parent", valid_from=start, valid_to=end
        )
    ContactRule.objects.create(
        town=cast["town_obj"],
        code="proxy_contact",
        kinds=["meeting"],
        period="days",
        days=7,
        name="代理家长联系",
        categories=[],
        active=True,
        audience="proxy",
    )
    at = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
    Contact.objects.bulk_create(
        [
            Contact(child=kid, by=second, kind="meeting", at=at),
            Contact(child=kid, by=first, kind="meeting", at=at - dt.timedelta(days=3)),
            Contact(child=kid, by=first, kind="phone", at=at + dt.timedelta(days=5)),  # other kind
            Contact(child=kid, by=former, kind="meeting", at=at + dt.timedelta(days=10)),
            Contact(child=kid, by=users["zx_teacher31"], kind="meeting", at=at),
        ]
    )
    children = Child.objects.filter(pk=kid.pk)
    if from_summary:
        due = DueList(children, as_of=as_of, rule_codes=["proxy_contact"])
    else:
        with mock.patch.object(type(Contact.objects.all()), "exists", return_value=True):
            due = DueList(children, as_of=as_of, rule_codes=["proxy_contact"])
    assert due.from_summary is from_summary
    (item,) = due.items()
    assert item.proxy_user_id == first.pk  # started 15 September, before the other
    assert item.last_at.date() == D(2026, 11, 10)  # the second one's meeting
    assert item.due_since == D(2026, 11, 17) and item.days_overdue == 12
    expected = reference_due_items(children, as_of=as_of, rule_codes=["proxy_contact"])
    assert as_tuples([item]) == as_tuples(expected)
    assert due.count() == 1 and due.children_count() == 1
