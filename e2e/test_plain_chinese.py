"""Every demo role, on a phone (390×844), walks its main pages — home, the menu's pages, a list,
a card, a pair — and sees plain Chinese: no sideways scroll, no school codes, no English words
beyond a few everybody knows, and (for the inspector and the proxy parent) no whole ID number.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import Page

from e2e.conftest import login

ROLES = [
    "town",
    "inspector",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "bq_leader",
    "proxy_wang",
    "village_director",
    "child_supervisor",
]
# Words people know as they are. Login names are what each person types, so they stay too.
# Pinyin initials are what one types to search (zs: 张三), MB a file's size.
ALLOWED_WORDS = {
    "PDF",
    "Excel",
    "Word",
    "API",
    "TOTP",
    "QQ",
    "ID",
    "CSV",
    "xlsx",
    "xls",
    "csv",
    "MB",
}
ALLOWED_WORDS |= {"zs", "zxm"}
SCHOOL_CODE = re.compile(r"\bHS-[A-Z]{2}\b")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
# Internal words: the optimiser's cost, a record's number where a person's name belongs.
JARGON = re.compile(r"匹配代价|代价|变化 [+-]\d|(?:责任教师|学校|班级)：[^\n]*→\s*\d+\b")
HOME = {"father.status": "home", "mother.status": "home"}


def _town_with_work(cast) -> None:
    """What a term leaves on the cast's cards: buddies and drafted pairs, a named responsible
    teacher (a change in the card's history), an overdue follow-up."""
    from django.utils import timezone

    from guanai.contacts.models import Contact
    from guanai.pairing.responsibility import set_responsible_teacher
    from guanai.pairing.services import propose_pairs
    from guanai.testing import make_child

    c31, users, kids = cast["classes"]["c31"], cast["users"], cast["children"]
    make_child(c31, name="刘一", birth=dt.date(2017, 3, 10), group="一组", **HOME)
    make_child(c31, name="陈二", gender="female", birth=dt.date(2017, 5, 1), **HOME)
    propose_pairs(school=c31.school, school_class=c31, by=users["zx_teacher31"], dry_run=False)
    set_responsible_teacher(
        child=kids["c31a"], teacher=users["zx_teacher31"], by=users["zx_leader"]
    )
    Contact.objects.create(
        child=kids["c31a"],
        kind="phone",
        at=timezone.now() - dt.timedelta(days=10),
        by=users["zx_teacher31"],
        with_whom="奶奶",
        notes="奶奶腿疼，下周再问",
        follow_up_by=timezone.localdate() - dt.timedelta(days=3),
    )


def _problems(page: Page, role: str, usernames: set[str]) -> list[str]:
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    text = page.locator("body").inner_text()
    for name in sorted(usernames, key=len, reverse=True):
        text = text.replace(name, " ")
    out = []
    if widths["scroll"] > widths["inner"]:
        out.append(f"scrolls sideways {widths}")
    out += [f"school code {m}" for m in sorted(set(SCHOOL_CODE.findall(text)))]
    words = sorted(set(ENGLISH_WORD.findall(text)) - ALLOWED_WORDS)
    out += [f"English word {w!r}" for w in words]
    out += [f"jargon {m!r}" for m in sorted(set(JARGON.findall(text)))]
    if role == "proxy_wang" and "口径" in text and "/help/" not in page.url:
        out.append("statistics jargon (口径) for a proxy parent")
    if role in ("inspector", "proxy_wang", "village_director", "child_supervisor"):
        out += [f"whole ID number {m}" for m in sorted(set(ID_NUMBER.findall(text)))]
    return out


def _visit(page: Page, url: str, seen: set[str]) -> bool:
    path = re.sub(r"#.*$", "", url)
    if path in seen:
        return False
    seen.add(path)
    page.goto(path)
    page.wait_for_load_state()
    return True


def _links(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.href)")


@pytest.mark.parametrize("viewport", ["phone"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_plain_chinese_on_a_phone(
    page: Page, live_server, cast, viewport, role, shoot
):
    _town_with_work(cast)
    usernames = set(cast["users"])
    login(page, live_server.url, role)
    base = live_server.url
    seen: set[str] = set()
    found: dict[str, list[str]] = {}

    def check(url: str) -> None:
        if _visit(page, url, seen):
            problems = _problems(page, role, usernames)
            if problems:
                found[page.url.removeprefix(base)] = problems
                shoot(page, re.sub(r"\W+", "-", page.url.removeprefix(base)).strip("-") or "home")

    check(f"{base}/")
    menu = [u for u in _links(page, "#nav a.nav-link") if u.startswith(base)]
    tabs: list[str] = []
    for url in menu:
        check(url)
        # each section's own tabs (摸排与核实 → 转学, 家校联系 → 待联系 …)
        tabs += [u for u in _links(page, "main .nav a.nav-link") if u.startswith(base)]
    for url in tabs:
        check(url)
    # The search by pinyin initials, and the card it finds (张三: history, a follow-up).
    check(f"{base}/children/?q=zs")
    page.goto(f"{base}/children/?q=zs")
    cards = [u for u in _links(page, "a[href*='/children/']") if re.search(r"/children/\d+/$", u)]
    if cards:
        check(cards[0])
    # A pair, when the role sees any.
    page.goto(f"{base}/pairing/")
    pairs = [u for u in _links(page, "a[href*='/pairing/']") if re.search(r"/pairing/\d+/$", u)]
    if pairs:
        check(pairs[0])
    assert not found, (found, sorted(u.removeprefix(base) for u in seen))


@pytest.mark.parametrize("viewport", ["phone"])
def test_two_children_of_one_name_are_told_apart_on_a_phone(
    page: Page, live_server, cast, viewport, shoot
):
    from playwright.sync_api import expect

    from e2e.conftest import assert_fits_phone
    from guanai.testing import make_child

    make_child(cast["classes"]["c31"], name="周小明", birth=dt.date(2017, 2, 3))
    make_child(cast["classes"]["c41"], name="周小明", birth=dt.date(2016, 7, 8))
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/children/?q=zxm")
    rows = page.locator(".child-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("三年级(1)班")
    expect(rows.nth(0).locator(".birth")).to_be_visible()
    expect(rows.nth(0)).to_contain_text("2017-02-03 出生")
    expect(rows.nth(1)).to_contain_text("四年级(1)班")
    expect(rows.nth(1)).to_contain_text("2016-07-08 出生")
    assert_fits_phone(page, viewport)
    shoot(page)
