"""Browser journeys: Debian's chromium driven by Playwright's sync API against live_server.

Never `playwright install` (it needs the internet); the browser is the Debian package.
"""

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright


class _OneRequestAtATime(ThreadedWSGIServer):
    """live_server's threaded server, answering one request at a time. On SQLite the test
    database is in memory and every request thread shares the test's one connection
    (pytest-django's connections_override): two requests at once (a page and its favicon, a
    page and the previous page's HTMX poll) interleave their transactions on it ("no such
    savepoint", then every later test's setup fails). Threads still accept connections, so
    the browser's keep-alive sockets do not block each other; only the application call is
    serialised."""

    def set_app(self, application):
        def serial(environ, start_response):
            with _GATE.lock:
                if _GATE.closed:  # between tests: the database is being emptied
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                    return [b"between tests"]
                return application(environ, start_response)

        super().set_app(serial)


class _Gate:
    """Closed from a test's end until the next test starts. A request still running when the
    test ends (a poll, a lazy panel, a download) would otherwise share the connection with the
    teardown's flush and the next test's setup: its transaction swallowed the next test's
    writes and rolled them back with its own (a user made by the test was not there)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed = False


_GATE = _Gate()
LiveServerThread.server_class = _OneRequestAtATime


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    with _GATE.lock:
        _GATE.closed = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    # before any fixture's teardown: waits for the request in flight, then answers 503
    with _GATE.lock:
        _GATE.closed = True


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

# A class teacher's phone in the village, and the town office's laptop.
VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 768}},
}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def context(browser: Browser, viewport: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def cast(transactional_db):
    """The demo roles over a tiny town, committed so the live server's thread sees them."""
    from guanai.testing import make_cast

    return make_cast()


@pytest.fixture
def shoot(request: pytest.FixtureRequest, viewport: str) -> Callable[..., Path]:
    """shoot(page) → e2e/screenshots/<test>-<viewport>.png; shoot(page, "step") adds a step.

    Full-page by default; full_page=False shows what the screen shows (sticky bars in place).
    """
    SCREENSHOTS.mkdir(exist_ok=True)
    test = request.node.originalname

    def _shoot(page: Page, step: str = "", *, full_page: bool = True) -> Path:
        name = f"{test}-{step}-{viewport}" if step else f"{test}-{viewport}"
        path = SCREENSHOTS / f"{name}.png"
        # A full-page capture would paint sticky bars mid-page, over the fields.
        style = ".form-actions { position: static !important; }" if full_page else None
        page.screenshot(path=str(path), full_page=full_page, style=style)
        return path

    return _shoot


def logout(page: Page) -> None:
    """End the browser's session on the server, as 退出登录 or the idle limit does, and drop
    its cookie. Clearing the cookie alone is not a logout: every response renews the session
    (SESSION_SAVE_EVERY_REQUEST), so a response still on its way set it again and the next
    login page found someone logged in (two CI failures, 2026-12-05)."""
    from django.conf import settings
    from django.contrib.sessions.models import Session

    keys = [c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    Session.objects.filter(session_key__in=keys).delete()
    page.context.clear_cookies()


def login(page: Page, base_url: str, username: str, password: str | None = None) -> None:
    """Log in through the Chinese login page and land on the home page (whoever was logged in
    before is logged out first)."""
    from guanai.testing import DEMO_PASSWORD

    logout(page)
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    if password is None:
        expect(page).to_have_url(re.compile(r"/$"))
        page.wait_for_load_state()  # the URL changes before the page's scripts and styles apply


def nav(page: Page, text: str) -> None:
    """Follow a link of the top navigation; on a phone, open the collapsed menu first."""
    page.wait_for_load_state()  # the toggler's visibility depends on the stylesheet
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    link = page.locator("#nav").get_by_role("link", name=text, exact=True)
    link.click()
    page.wait_for_load_state()


def assert_fits_phone(page: Page, viewport: str) -> None:
    """On the phone the page must not scroll sideways and buttons must be thumb-sized."""
    if viewport != "phone":
        return
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["inner"] == 390, widths  # a zoomed-out page would hide an overflow
    assert widths["scroll"] <= widths["inner"], f"horizontal scroll on {page.url}: {widths}"
    for button in page.locator("main .btn:visible").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 40, (button.inner_text(), box)
