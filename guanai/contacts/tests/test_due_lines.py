"""The due page and API of a large scope take their counts per class from the statistics'
lines (stats/covstore.py) and only order and cut the list (issue #19): what they show is what
the list's own pass shows, page by page, on a random town and after writes."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanai.children.models import Child
from guanai.contacts import views_due
from guanai.contacts.due import DueList
from guanai.contacts.models import Contact
from guanai.stats import covstore

from .test_due_sql import town  # noqa: F401 (the random town fixture)

ROLES = ["town", "zx_leader", "zx_grade3", "zx_teacher31", "bq_leader"]
FILTERS = ({}, {"grade": 3}, {"grade": 3, "class_no": 1}, {"school": "HS-ZX"})


@pytest.fixture
def lines_for_every_scope(monkeypatch):
    """The lines are used from the first class on (a town needs DUE_FROM_CLASSES), and pages
    are short, so that the random town's 40 children make several."""
    monkeypatch.setattr(covstore, "DUE_FROM_CLASSES", 1)
    monkeypatch.setattr(covstore, "DUE_STALE_SHARE", 1.0)
    monkeypatch.setattr(covstore, "DUE_ENGINES", {"sqlite", "postgresql"})
    monkeypatch.setattr(views_due, "PAGE_SIZE", 6)


def page_seen(client, query: dict) -> tuple:
    response = client.get(reverse("contacts:due"), query)
    assert response.status_code == 200
    ctx = response.context
    rows = [(r.child, [(i.rule, i.days_overdue) for i in r.items]) for r in ctx["page"]]
    return ctx["count"], ctx["children_count"], ctx["summary"], rows, ctx["child_ids"]


def api_seen(client, query: dict) -> tuple:
    out = client.get("/api/v1/contacts/due", {**query, "page_size": 7}).json()
    return out["count"], out["items"]


def both_ways(client, monkeypatch, query: dict, seen) -> tuple:
    with_lines = seen(client, query)
    with monkeypatch.context() as m:
        m.setattr(covstore, "use_due_counts", lambda *a, **k: False)
        without = seen(client, query)
    return with_lines, without


def assert_same_lists(client, users, monkeypatch) -> None:
    for role in ROLES:
        client.force_login(users[role])
        for where in FILTERS:
            for page in ("1", "2", "3", "5", "8"):
                query = {**where, "page": page}
                with_lines, without = both_ways(client, monkeypatch, query, page_seen)
                assert with_lines == without, (role, query)
                with_lines, without = both_ways(client, monkeypatch, query, api_seen)
                assert with_lines == without, (role, query)


@pytest.mark.clock("2026-11-29 10:00")
def test_the_lists_equal_the_pass_page_by_page_and_after_writes(
    client,
    users,
    town,  # noqa: F811
    lines_for_every_scope,
    monkeypatch,
):
    assert_same_lists(client, users, monkeypatch)
    children = list(Child.objects.order_by("pk"))
    for child in children[::7]:  # visits today: due children drop off, their classes change
        Contact.objects.create(
            child=child, by=users["zx_teacher31"], kind="home_visit", at=timezone.now()
        )
    Child.objects.filter(pk=children[3].pk).update(category="double")
    assert_same_lists(client, users, monkeypatch)


@pytest.mark.clock("2026-11-29 10:00")
def test_with_the_lines_the_list_is_cut_not_grouped_or_counted(
    client,
    users,
    town,  # noqa: F811
    lines_for_every_scope,
):
    client.force_login(users["town"])
    client.get(reverse("contacts:due"))  # the lines counted and stored
    for url in (reverse("contacts:due"), "/api/v1/contacts/due"):
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url).status_code == 200
        statements = " ".join(q["sql"] for q in seen.captured_queries)
        assert "OVER ()" not in statements, url  # no count of the whole list
        assert "GROUP BY d.school_id, d.school_class_id" not in statements, url


def test_a_schools_list_keeps_its_own_pass(users, cast):
    """A school leader's list (or any filtered to a school) is as quick with its own pass: the
    lines are not asked for."""
    user = users["zx_leader"]
    due = DueList(Child.objects.visible_to(user), as_of=timezone.localdate())
    with CaptureQueriesContext(connection) as seen:
        assert not covstore.use_due_counts(due, user, None)
    assert seen.captured_queries == []  # a school leader's list is not slowed by asking
    assert (
        due.children_count()
        == DueList(Child.objects.visible_to(user), as_of=timezone.localdate()).children_count()
    )


def test_many_written_classes_keep_the_lists_own_pass(users, cast, monkeypatch):
    monkeypatch.setattr(covstore, "DUE_FROM_CLASSES", 1)
    monkeypatch.setattr(covstore, "DUE_ENGINES", {"sqlite", "postgresql"})
    user = users["town"]
    children = Child.objects.visible_to(user)
    today = timezone.localdate()
    assert not covstore.use_due_counts(DueList(children, as_of=today), user, None)  # none yet
    covstore.lines(None, None)  # the statistics' first request (or the worker) stores them
    assert covstore.use_due_counts(DueList(children, as_of=today), user, None)
    for child in Child.objects.all():  # every class written since
        Contact.objects.create(
            child=child, by=users["zx_teacher31"], kind="phone", at=timezone.now()
        )
    counted = []
    monkeypatch.setattr(covstore, "count", lambda *a, **k: counted.append(a) or {})
    assert not covstore.use_due_counts(DueList(children, as_of=today), user, None)
    assert counted == []


def test_another_day_a_rule_filter_or_mine_keep_the_lists_own_pass(
    client, users, cast, monkeypatch
):
    monkeypatch.setattr(covstore, "DUE_FROM_CLASSES", 1)
    monkeypatch.setattr(covstore, "DUE_ENGINES", {"sqlite", "postgresql"})
    user = users["town"]
    children = Child.objects.visible_to(user)
    covstore.lines(None, None)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert not covstore.use_due_counts(DueList(children, as_of=tomorrow), user, None)
    used = []
    real = covstore.use_due_counts
    monkeypatch.setattr(
        covstore, "use_due_counts", lambda *a, **k: used.append(real(*a, **k)) or used[-1]
    )
    client.force_login(user)
    client.get(reverse("contacts:due"), {"rule": "home_visit"})
    client.get(reverse("contacts:due"), {"mine": "1"})
    client.get("/api/v1/contacts/due", {"rule": "home_visit"})
    client.get("/api/v1/contacts/due", {"teacher": "zx_teacher31"})
    assert used == []
    client.get("/api/v1/contacts/due", {"school": "HS-ZX"})  # a school's: its own pass
    client.get(reverse("contacts:due"))
    client.get("/api/v1/contacts/due", {"grade": 3})
    assert used == [False, True, True]


@pytest.mark.parametrize("day", ["2026-09-01", "2026-09-30", "2026-11-29", "2027-01-31"])
def test_children_read_off_the_ordered_items_are_the_grouped_order(
    users,
    town,  # noqa: F811
    day,
):
    """child_page from the items' order (used with counts from the lines) equals the grouped
    pass's order for every window, on days where many children are equally overdue."""
    as_of = dt.date.fromisoformat(day)
    children = Child.objects.visible_to(users["town"])
    plain = DueList(children, as_of=as_of)
    n = plain.children_count()
    assert n > 20
    cut = DueList(children, as_of=as_of)
    cut.use_counts(plain.counts_per_class())
    assert cut.children_count() == n and cut.count() == plain.count()
    for offset in range(0, n + 3, 4):
        for limit in (1, 4, 9):
            expected = DueList(children, as_of=as_of).child_page(offset, limit)
            assert cut.child_page(offset, limit) == expected, (offset, limit)


def test_equally_overdue_children_follow_the_rule_order_then_the_card(users, cast):
    """张三 (the first card) has had his visit: his most overdue item is the third rule's, so
    he comes after the children equally overdue under the first rule — by the items' order
    as by the grouped pass."""
    kids, teacher = cast["children"], users["zx_teacher31"]

    def contact(child, kind, day):
        at = dt.datetime.fromisoformat(f"{day}T10:00:00+08:00")
        Contact.objects.create(child=kids[child], by=teacher, kind=kind, at=at)

    contact("c31a", "home_visit", "2026-11-20")
    contact("c32a", "home_visit", "2026-09-01")
    contact("c32a", "family_call", "2026-11-20")
    children = Child.objects.all()
    plain = DueList(children, as_of=timezone.localdate())
    cut = DueList(children, as_of=timezone.localdate())
    cut.use_counts(plain.counts_per_class())
    expected = [kids[k].pk for k in ("c32a", "c31b", "bq31a", "gt", "c31a")]
    assert plain.child_page(0, 10) == expected
    assert cut.child_page(0, 10) == expected
    assert [cut.child_page(i, 1)[0] for i in range(5)] == expected


def test_postgresql_keeps_the_lists_own_pass(users, cast, monkeypatch):
    """Only the engines where the cut is quicker use the lines (covstore.DUE_ENGINES)."""
    monkeypatch.setattr(covstore, "DUE_FROM_CLASSES", 1)
    monkeypatch.setattr(covstore, "DUE_ENGINES", {"postgresql"} - {connection.vendor})
    covstore.lines(None, None)
    due = DueList(Child.objects.visible_to(users["town"]), as_of=timezone.localdate())
    assert not covstore.use_due_counts(due, users["town"], None)
