"""The due page: one row per child with the rules it is due under, school names not codes;
the API keeps one item per child and rule (SPEC §6.3). What the page shows (counts, totals,
pages of children) equals the plain rule evaluation on a random town, in a fixed number of
queries."""

import datetime as dt
import re
from collections import Counter, defaultdict

import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.contacts import access, views_due

from .due_reference import reference_due_items
from .test_due_sql import town  # noqa: F401 (the random town fixture)

D = dt.date
QUERIES = 18  # of which 6 the session, the user and its roles, the session's save; 2 the
# children with a proxy parent of each proxy combo (the town's rule and a school's own)
# A town's first page asks for the counts kept per class (stats/covstore.py `use_due_counts`,
# on every engine): 3 more to learn that the town is too small for them: whether its towns
# hold every school, then its classes.
LINES_CHECK = 3


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_a_child_due_under_several_rules_is_one_row(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(reverse("contacts:due"))
    zhang = cast["children"]["c31a"].pk
    rows = [r for r in response.context["page"] if r.child == zhang]
    assert len(rows) == 1
    assert len(rows[0].items) >= 2  # 张三 is due for a visit and a call
    html = response.content.decode()
    assert html.count(f'data-child-row="{zhang}"') == 1
    assert html.count(f'data-child="{zhang}" data-rule=') == len(rows[0].items)
    assert response.context["children_count"] == len(response.context["page"])
    api = client.get("/api/v1/contacts/due").json()
    assert len([i for i in api["items"] if i["child"] == zhang]) == len(rows[0].items)


def test_due_page_names_schools_not_codes(client, cast):
    client.force_login(cast["users"]["town"])
    text = _text(client.get(reverse("contacts:due")))
    assert "虎山镇中心小学" in text and "板桥小学" in text
    assert not re.search(r"HS-[A-Z]{2}", text)


def _expected_page(children, as_of, codes, size):
    """What the page shows, computed from the plain rule evaluation (`due_reference.py`): the
    counts at the top (per school when the list spans several, else per class), the totals, and
    each page's children with their items in order."""
    items = reference_due_items(children, as_of=as_of, rule_codes=codes)
    per_school = len({i.school for i in items}) > 1
    summary: dict[tuple, Counter] = defaultdict(Counter)
    for i in items:
        summary[(i.school,) if per_school else (i.school, i.grade, i.class_no)][i.rule] += 1
    order = list(dict.fromkeys(i.child for i in items))
    rows = [[(c, [_item(i) for i in items if i.child == c])] for c in order]
    pages = [rows[k : k + size] for k in range(0, len(rows), size)] or [[]]
    return {
        "count": len(items),
        "children_count": len(order),
        "summary": {k: dict(v) for k, v in summary.items()},
        "pages": pages,
        "child_ids": ",".join(str(c) for c in sorted(order)) if len(order) <= 300 else "",
    }


def _item(i):
    return (i.child, i.rule, i.last_at, i.due_since, i.days_overdue, i.school, i.child_name)


def _shown(client, as_of, page, size):
    response = client.get(reverse("contacts:due"), {"on": as_of.isoformat(), "page": page})
    assert response.status_code == 200
    ctx = response.context
    summary = {
        ((r["school"],) if ctx["per_school"] else (r["school"], r["grade"], r["class_no"])): dict(
            r["counts"]
        )
        for r in ctx["summary"]
    }
    for r in ctx["summary"]:
        assert r["total"] == sum(r["counts"].values())
    rows = [[(r.child, [_item(i) for i in r.items])] for r in ctx["page"]]
    assert len(rows) <= size
    return {
        "count": ctx["count"],
        "children_count": ctx["children_count"],
        "summary": summary,
        "rows": rows,
        "child_ids": ctx["child_ids"],
    }


@pytest.mark.parametrize("as_of", [D(2026, 9, 20), D(2026, 11, 29), D(2027, 3, 1)])
def test_the_page_shows_what_the_plain_reference_computes(
    client,
    town,  # noqa: F811
    users,
    monkeypatch,
    as_of,
):
    """Counts at the top, totals, and the children of page 1 and page 2 (and a page past the
    end: the last page) equal the reference on a random town, for the town, a school leader
    and a proxy parent (the proxy rule only)."""
    size = 7
    monkeypatch.setattr(views_due, "PAGE_SIZE", size)
    for name in ("town", "zx_leader", "proxy_wang"):
        user = users[name]
        client.force_login(user)
        codes = access.due_rule_codes(user)
        want = _expected_page(Child.objects.visible_to(user), as_of, codes, size)
        if name == "town":
            assert len(want["pages"]) >= 3  # page 2 is a full page, not the last one
        for number in (1, 2):
            got = _shown(client, as_of, number, size)
            # past the end: the last page
            assert got["rows"] == want["pages"][min(number, len(want["pages"])) - 1]
            assert got["count"] == want["count"]
            assert got["children_count"] == want["children_count"]
            assert got["summary"] == want["summary"]
            assert got["child_ids"] == want["child_ids"]
        assert _shown(client, as_of, 999, size)["rows"] == want["pages"][-1]


def test_the_page_runs_a_fixed_number_of_queries(
    client,
    town,  # noqa: F811
    users,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    """The town's page: one pass for the counts, the page and the short list's ids, one
    statement for the page's items, names and filters — not one query per row."""
    client.force_login(users["town"])
    client.get(reverse("contacts:due"))  # the session's first writes
    # its pages ask for the lines on every engine (covstore.use_due_counts)
    with django_assert_num_queries(QUERIES + LINES_CHECK):
        response = client.get(reverse("contacts:due"))
    assert len(response.context["page"]) == 50 or response.context["children_count"] < 50
    with django_assert_max_num_queries(QUERIES):  # no teacher to name: one query fewer
        client.get(reverse("contacts:due"), {"school": "HS-ZX", "rule": "home_visit"})
