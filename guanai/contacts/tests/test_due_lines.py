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
from guanai.stats.models import CoverageLine

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
@pytest.mark.parametrize("first", [covstore.FIRST_CHILDREN, 13, 2, 0])
def test_the_lists_equal_the_pass_page_by_page_and_after_writes(
    client,
    users,
    town,  # noqa: F811
    lines_for_every_scope,
    monkeypatch,
    first,
):
    """With each class's first children and their items kept (every class's whole list:
    every page read off them), with 13 and 2 (a class with more due keeps too few for a later
    page: cut), and with none."""
    monkeypatch.setattr(covstore, "FIRST_CHILDREN", first)
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


def test_where_the_cut_is_not_quicker_the_lines_serve_only_a_known_page(users, cast, monkeypatch):
    """Where the cut is not quicker than the list's own pass (PostgreSQL,
    covstore.DUE_ENGINES), the lines serve every page asked for (its children or items are
    merged on any page), not a list whose page is unknown."""
    monkeypatch.setattr(covstore, "DUE_FROM_CLASSES", 1)
    monkeypatch.setattr(covstore, "DUE_ENGINES", {"postgresql"} - {connection.vendor})
    covstore.lines(None, None)
    user = users["town"]

    def used(**asked) -> bool:
        due = DueList(Child.objects.visible_to(user), as_of=timezone.localdate())
        return covstore.use_due_counts(due, user, None, **asked)

    assert used(page_end=1_000_000)  # the 20,000th page
    assert used(page_end=1)
    assert not used()  # the page asked for unknown
    monkeypatch.setattr(covstore, "DUE_ENGINES", {connection.vendor})
    assert used()


@pytest.mark.clock("2026-11-29 10:00")
def test_where_the_cut_is_not_quicker_every_page_still_equals_the_pass(
    client,
    users,
    town,  # noqa: F811
    lines_for_every_scope,
    monkeypatch,
):
    """Pages read off the first children and their items (13 kept), where a class keeps too
    few the ordered cut: the same lists as without the lines."""
    monkeypatch.setattr(covstore, "DUE_ENGINES", set())
    monkeypatch.setattr(covstore, "FIRST_CHILDREN", 13)
    assert_same_lists(client, users, monkeypatch)


def whole_list_statements(monkeypatch) -> list[bool]:
    """Records, for each statement a DueList runs, whether it reads the whole list."""
    seen: list[bool] = []
    real = DueList._fetch

    def spy(self, sql, params=(), base=None):
        seen.append(self.sql in sql)
        return real(self, sql, params, base)

    monkeypatch.setattr(DueList, "_fetch", spy)
    return seen


@pytest.mark.clock("2026-11-29 10:00")
def test_the_first_pages_read_only_their_own_childrens_items(
    client,
    users,
    town,  # noqa: F811
    lines_for_every_scope,
    monkeypatch,
):
    """The town's pages read the first children or items off the lines and then the items of
    their children only: no statement over the whole list, on every page of the due page and
    of the API. Without the items kept (a line of an older layout, say), the API's pages up
    to its `items_up_to`-th item are the items of the first children, a later page orders the
    list itself."""
    monkeypatch.setattr(covstore, "FIRST_UP_TO", {connection.vendor: 12})
    monkeypatch.setattr(views_due, "SHORT_LIST", 0)  # a town's list is not short (40 here)
    client.force_login(users["town"])
    client.get(reverse("contacts:due"))  # the lines counted and stored
    seen = whole_list_statements(monkeypatch)
    api = "/api/v1/contacts/due"
    for url, query in (
        (reverse("contacts:due"), {"page": "2"}),  # children 7–12
        (reverse("contacts:due"), {"page": "5"}),  # children 25–30
        (api, {"page_size": 6, "page": 2}),  # items 7–12
        (api, {"page_size": 6, "page": 3}),  # past the first 12 children's items too
        (api, {"page_size": 6, "page": 9}),  # items 49–54
    ):
        seen.clear()
        response = client.get(url, query)
        assert response.status_code == 200
        assert response.json()["items"] if url == api else response.context["page"]
        assert seen and not any(seen), (url, query)
    CoverageLine.objects.update(items=None)
    seen.clear()
    assert client.get(api, {"page_size": 6, "page": 2}).status_code == 200
    assert seen and not any(seen)
    seen.clear()
    assert client.get(api, {"page_size": 6, "page": 3}).status_code == 200
    assert any(seen)


@pytest.mark.parametrize("day", ["2026-09-01", "2026-11-29", "2027-01-31"])
def test_each_classs_first_children_are_the_class_lists_order(
    users,
    town,  # noqa: F811
    day,
):
    """prepare_page(firsts=) gives, for each class, its first children as the class's own
    list orders them (sort key, then card), on days where many are equally overdue."""
    as_of = dt.date.fromisoformat(day)
    children = Child.objects.visible_to(users["town"])
    due = DueList(children, as_of=as_of)
    due.prepare_page(0, 0, firsts=5)
    firsts = due.firsts_per_class()
    classes = set(children.values_list("school_class_id", flat=True))
    assert len(classes) > 3
    for klass in classes:
        own = DueList(children.filter(school_class_id=klass), as_of=as_of).child_page(0, 5)
        assert [child for _key, child in firsts.get(klass, [])] == own, klass
    assert sum(len(f) for f in firsts.values()) > 10


@pytest.mark.parametrize("day", ["2026-09-01", "2026-11-29", "2027-01-31"])
def test_each_classs_first_items_are_the_class_lists_items_in_order(
    users,
    town,  # noqa: F811
    day,
):
    """With `item_keys`, prepare_page(firsts=) also gives each class's first items as the
    class's own list orders them (most overdue, rule order, card), each named by its sort key
    and child: the key gives back the item's rule and days overdue. They are the items of
    its first children: all of the class's when those are all its children due, else up to
    the last kept child's most overdue item."""
    as_of = dt.date.fromisoformat(day)
    children = Child.objects.visible_to(users["town"])
    assert DueList(children, as_of=as_of).first_items_per_class() is None  # no item keys
    due = DueList(children, as_of=as_of, item_keys=True)
    due.prepare_page(0, 0, firsts=3)
    items, firsts = due.first_items_per_class(), due.firsts_per_class()
    classes = set(children.values_list("school_class_id", flat=True))
    cut = whole = 0
    for klass in classes:
        own = DueList(children.filter(school_class_id=klass), as_of=as_of)
        kept = [(child, *due.rule_of_key(key)) for key, child in items.get(klass, [])]
        every = [(i.child, i.rule, i.days_overdue) for i in own.page(0, 1000)]
        assert kept == every[: len(kept)], klass
        if own.children_count() <= 3:
            assert len(kept) == len(every), klass
            whole += 1
        else:  # ends at the third child's most overdue item
            key, child = firsts[klass][-1]
            assert kept[-1] == (child, *due.rule_of_key(key)), klass
            cut += 1
    assert cut and whole  # both cases were met
    rules = {due.rule_of_key(key)[0] for kept in items.values() for key, _child in kept}
    assert len(rules) > 1  # several rules, told apart by their keys
    assert due.rule_of_key(3 * 1000 - 999) == (None, 3)  # no rule has that rank: no item


@pytest.mark.clock("2026-11-29 10:00")
@pytest.mark.parametrize("kept", [3, 100])
@pytest.mark.parametrize("merged", ["first", "items"])
def test_the_merged_first_children_and_items_are_the_towns_first_ones(
    users,
    town,  # noqa: F811
    monkeypatch,
    kept,
    merged,
):
    """Merged from the stored lines (read from the database), from lines just counted (in
    memory) and from the due list's partial reads: the first n children ("first") or items
    ("items") of the whole list, for every n. Where a class keeps fewer than it has due (3
    children kept, and their items), the merge says None exactly when such a class's last
    kept place comes before the n-th: one it did not keep could be among the first n."""
    monkeypatch.setattr(covstore, "FIRST_CHILDREN", kept)
    today = timezone.localdate()
    children = Child.objects.visible_to(users["town"])
    counted, _school_of = covstore.lines(None, None)
    stored, _school_of = covstore.lines(None, None)
    # as the due list reads them: of each stored line only its counts and its first place
    read, _school_of = covstore.lines(None, None, keys=("due", "top"))
    assert all(set(line) == {"due", "top"} for line in read.values())
    assert all(merged in line for line in counted.values())
    assert not any(merged in line for line in stored.values())  # read when needed
    due = DueList(children, as_of=today)
    if merged == "first":
        everything = due.child_page(0, 10_000)
        name = covstore.child_at
        merge = covstore.first_children
    else:
        everything = [(i.child, i.rule, i.days_overdue) for i in due.items()]

        def name(place):
            return (covstore.child_at(place), *due.rule_of_key(covstore.key_at(place)))

        def merge(*args, **kwargs):
            got = covstore.first_items(*args, **kwargs)
            return None if got is None else [(c, *due.rule_of_key(k)) for k, c in got]

    due_of = {
        "first": lambda line: line["due"][0],
        "items": lambda line: sum(line["due"][1].values()),
    }
    cut_lasts = [
        line[merged][-1] for line in counted.values() if len(line[merged]) < due_of[merged](line)
    ]
    assert bool(cut_lasts) == (kept == 3)  # with 3 kept, some class has more due
    place = {name(p): p for line in counted.values() for p in line[merged]}
    rules = covstore.rules_key(None)
    answered = set()
    for n in range(1, len(everything) + 3):
        expected = everything[:n]
        unknown = bool(cut_lasts) and (
            len(expected) < n or place.get(expected[-1], min(cut_lasts) + 1) > min(cut_lasts)
        )
        for found in (counted, stored, read):
            got = merge(found, n, rules=rules, day=today, db="default")
            assert got == (None if unknown else expected), n
        answered.add(unknown)
    assert answered == ({False, True} if cut_lasts else {False})  # both cases were met


@pytest.mark.clock("2026-11-29 10:00")
def test_an_item_page_read_off_stale_places_is_the_lists_own_cut(
    users,
    town,  # noqa: F811
    monkeypatch,
):
    """The merged items name an item that is not due (a contact logged since the lines were
    read): the page is then the list's own ordered cut, not a page missing an item."""
    today = timezone.localdate()
    children = Child.objects.visible_to(users["town"])
    plain = DueList(children, as_of=today)
    rank = {r.code: plain.rank[r] for r in plain.rules}
    keys = [(i.days_overdue * 1000 - rank[i.rule], i.child) for i in plain.page(0, 10)]
    expected = [(i.child, i.rule, i.days_overdue) for i in plain.page(5, 5)]

    def read_off(places):
        due = DueList(children, as_of=today)
        due.use_counts(plain.counts_per_class())
        due.use_first_children(lambda n: None, items_up_to=0, items=lambda n: places[:n])
        return [(i.child, i.rule, i.days_overdue) for i in due.page(5, 5)]

    seen = whole_list_statements(monkeypatch)
    assert read_off(keys) == expected
    assert seen and not any(seen)  # the page's own children's items only
    key, child = keys[6]
    stale = [*keys[:6], (key + 1000, child), *keys[7:]]  # a day more overdue: not due so
    seen.clear()
    assert read_off(stale) == expected
    assert any(seen)


def test_a_class_that_keeps_fewer_than_it_has_due_serves_while_they_reach_past_the_page():
    """Class 1 keeps two of its three children due; class 2 keeps its whole list. The first
    three children end at class 1's last kept: known. The fourth could be class 1's third."""
    at = covstore.places
    found = {
        1: {"top": at([(50, 1)])[0], "first": at([(50, 1), (40, 2)]), "due": [3, {}]},
        2: {"top": at([(45, 3)])[0], "first": at([(45, 3), (10, 4)]), "due": [2, {}]},
    }
    day = dt.date(2026, 11, 29)
    assert covstore.first_children(found, 3, rules="", day=day, db="x") == [1, 3, 2]
    assert covstore.first_children(found, 4, rules="", day=day, db="x") is None
    found[1]["due"] = [2, {}]  # its list is whole after all
    assert covstore.first_children(found, 4, rules="", day=day, db="x") == [1, 3, 2, 4]


def test_a_childs_place_packs_its_sort_key_and_card():
    """One number per child, ordered as the list (sort key descending, then card); a card id
    too large to pack leaves the class unknown."""
    pairs = [(9000, 7), (9000, 8), (5, 1), (-3, 2), (-3, 9)]  # the list's order
    packed = covstore.places(pairs)
    assert packed == sorted(packed)
    assert [covstore.child_at(p) for p in packed] == [7, 8, 1, 2, 9]
    assert [covstore.key_at(p) for p in packed] == [9000, 9000, 5, -3, -3]
    assert covstore.places([(1, 1 << covstore.ID_BITS)]) is None
    assert covstore.places([(1 << covstore.KEY_BITS, 1)]) is None
    assert covstore.places([]) == []
    # stored as 64-bit integers and read back the same, the largest and smallest too
    edge = covstore.places([((1 << covstore.KEY_BITS) - 1, 0), (1 - (1 << covstore.KEY_BITS), 7)])
    for kept in (packed, edge, []):
        assert covstore.unpack(covstore.pack(kept)) == kept
        assert len(covstore.pack(kept)) == 8 * len(kept)
    assert covstore.pack(None) is None and covstore.unpack(None) is None


def test_merging_stops_at_the_classes_that_cannot_hold_the_first_children():
    """Fifty-four classes; the first children are in the classes whose own first child comes
    first: only the lists of the first batch (four classes) are opened."""

    class Unread(list):
        def __iter__(self):
            raise AssertionError("this class's list was read")

    def line(first, *, kept=list):
        first = covstore.places(first)
        return {"top": first[0] if first else None, "first": kept(first), "due": [len(first), {}]}

    found = {
        1: line([(5000, 11), (4000, 12)]),
        2: line([(5000, 21), (3000, 22)]),
        3: line([(10, 31)]),
        4: line([]),  # nothing due
    }
    for pk in range(5, 55):  # the first (5) is read with the first batch of four classes
        found[pk] = line([(9 - pk // 10, 100 + pk)], kept=list if pk == 5 else Unread)
    got = covstore.first_children(found, 3, rules="", day=dt.date(2026, 11, 29), db="default")
    assert got == [11, 21, 12]
    assert covstore.first_children(found, 4, rules="", day=dt.date(2026, 11, 29), db="x") == [
        11,
        21,
        12,
        22,
    ]
    found[3] = {"due": [1, {"home_visit": 1}]}  # counted with too many rules: nothing kept
    assert covstore.first_children(found, 1, rules="", day=dt.date(2026, 11, 29), db="x") is None
