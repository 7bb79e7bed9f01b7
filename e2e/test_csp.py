"""The Content-Security-Policy (security issue #10) in a real browser: logging a home visit with
a photo, the draft kept on the phone, the card's HTMX timeline, an auto-submitting filter and a
confirmation all work with no inline script, and the browser reports no violation. A script
slipped into the page is refused (so the listener would have heard one)."""

import io
import re

from PIL import Image
from playwright.sync_api import ConsoleMessage, Page, expect

from e2e.conftest import login


def listen_for_violations(page: Page) -> list[str]:
    heard: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            heard.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: heard.append(f"page error: {error}"))
    return heard


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 140, 80)).save(out, "PNG")
    return out.getvalue()


def test_contact_logging_page_runs_under_the_csp(page: Page, live_server, cast, viewport):
    from guanai.children.models import Child
    from guanai.contacts.models import ContactPhoto

    child = cast["children"]["c31a"]
    Child.objects.filter(pk=child.pk).update(photo_consent=True)
    heard = listen_for_violations(page)
    login(page, live_server.url, "zx_teacher31")

    response = page.goto(f"{live_server.url}/contacts/new/?child={child.pk}")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    page.get_by_role("button", name="祖母 张奶奶").click()  # data-fill, from contact-form.js
    expect(page.get_by_label("见到 / 联系了谁")).to_have_value("祖母 张奶奶")
    page.get_by_role("button", name="一周内").click()  # data-date
    expect(page.get_by_label("需跟进？截止日期")).not_to_have_value("")
    page.get_by_label("情况记录").fill("奶奶身体好")
    # The draft is kept on the phone: a fresh form offers it back.
    page.reload()
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.get_by_label("情况记录")).to_have_value("奶奶身体好")
    page.locator("input[name=photos]").set_input_files(
        {"name": "visit.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已保存")
    assert ContactPhoto.objects.count() == 1
    # ?saved= dropped the draft (site.js): a new form starts empty.
    page.goto(f"{live_server.url}/contacts/new/?child={child.pk}")
    expect(page.locator("#draft-note")).to_be_hidden()

    # The card's timeline comes by HTMX and shows the re-encoded photo.
    page.goto(f"{live_server.url}/children/{child.pk}/")
    thumb = page.locator("#contact-timeline img.img-thumbnail")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") == 320

    page.goto(f"{live_server.url}/screening/cards/stale/")
    page.get_by_label("只看我负责的学生").check()  # data-autosubmit
    expect(page).to_have_url(re.compile(r"mine=1"))
    page.wait_for_load_state()

    assert heard == []
    # The listener does hear a refused script: one slipped into the page is blocked.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    expect(page.locator("body")).to_be_visible()
    assert page.evaluate("() => window.injected") is None
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in h for h in heard), heard


def test_leader_confirms_before_ending_a_class_teacher(page: Page, live_server, cast, viewport):
    from guanai.accounts.models import RoleAssignment

    teacher = cast["users"]["zx_teacher31"]
    heard = listen_for_violations(page)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/pairing/responsibility/")
    holder = page.locator(".holder").filter(has_text=str(teacher)).first
    page.once("dialog", lambda dialog: dialog.dismiss())
    holder.get_by_role("button", name="结束").click()
    page.wait_for_timeout(300)
    assert RoleAssignment.objects.get(user=teacher).valid_to is None  # said no: nothing ended
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    holder.get_by_role("button", name="结束").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert messages == [f"结束 {teacher} 的指定？"]
    assert RoleAssignment.objects.get(user=teacher).valid_to is not None
    assert heard == []


def test_api_docs_render_from_this_site(page: Page, live_server, cast, viewport):
    heard = listen_for_violations(page)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("关爱 Guanai API")
    assert heard == []
