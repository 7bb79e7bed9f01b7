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
