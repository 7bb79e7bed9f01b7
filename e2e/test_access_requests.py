"""Access beyond one's role in a real browser (issue #19): a class teacher asks on her phone to
read a child's psychology section, the school's leader approves it at her desk, and the teacher
then reads the section on the card, granted until a stated time; every reading is logged.
An inspector's break-the-glass, reviewed by the leader. Screenshots go to e2e/screenshots/."""

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import SCREENSHOTS, TIMEOUT_MS, VIEWPORTS, assert_fits_phone, login

SECRET = "近期情绪低落，需持续关注"
REASON = "明天家访，需要了解孩子近期的心理状况"


def _page(browser: Browser, viewport: str) -> Page:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx.new_page()


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_access_requests-{name}.png"), full_page=True)


def test_teacher_asks_on_her_phone_leader_approves_at_her_desk(browser: Browser, live_server, cast):
    from guanai.accounts.models import AccessAction, AccessLog
    from guanai.children.models import Child

    child = cast["children"]["c31a"]
    Child.objects.filter(pk=child.pk).update(psych_summary=SECRET)
    card = f"{live_server.url}/children/{child.pk}/"

    phone = _page(browser, "phone")
    login(phone, live_server.url, "zx_teacher31")
    phone.goto(card)
    expect(phone.get_by_text(SECRET)).to_have_count(0)
    # the card's 申请查看 button (children/detail.html includes the panel) leads here
    phone.goto(f"{live_server.url}/accounts/access-requests/new/{child.pk}/")
    phone.get_by_label("要查看的内容").select_option(label="心理状况")
    phone.get_by_label("理由").fill(REASON)
    assert_fits_phone(phone, "phone")
    _shoot(phone, "ask-phone")
    phone.get_by_role("button", name="提交申请").click()
    expect(phone.get_by_text("已提交申请")).to_be_visible()
    expect(phone.locator("h1")).to_contain_text("待审批")
    assert_fits_phone(phone, "phone")

    desk = _page(browser, "desktop")
    login(desk, live_server.url, "zx_leader")
    desk.goto(f"{live_server.url}/accounts/access-requests/inbox/")
    pending = desk.locator("#pending")
    expect(pending).to_contain_text("王老师 申请查看 张三 的心理状况")
    expect(pending).to_contain_text(REASON)
    pending.get_by_label("时长").select_option(label="1 天")
    pending.get_by_label("审批意见").fill("同意，家访后请记录情况")
    _shoot(desk, "inbox-desktop")
    pending.get_by_role("button", name="批准", exact=True).click()
    expect(desk.get_by_text("已批准")).to_be_visible()
    expect(desk.locator("#no-pending")).to_be_visible()

    phone.goto(f"{live_server.url}/accounts/access-requests/")
    expect(phone.locator("#my-requests")).to_contain_text("有效至 11月30日")
    phone.goto(card)
    expect(phone.get_by_text(SECRET)).to_be_visible()
    assert_fits_phone(phone, "phone")
    _shoot(phone, "card-phone")
    used = AccessLog.objects.get(action=AccessAction.VIEW_GRANTED)
    assert used.username == "zx_teacher31" and "访问申请第" in used.detail


def test_inspector_breaks_the_glass_and_the_leader_reviews_it(browser: Browser, live_server, cast):
    from guanai.children.models import Child

    child = cast["children"]["c31a"]
    Child.objects.filter(pk=child.pk).update(psych_summary=SECRET)

    phone = _page(browser, "phone")
    login(phone, live_server.url, "inspector")
    phone.goto(f"{live_server.url}/accounts/emergency/new/{child.pk}/")
    phone.get_by_label("理由（至少 10 个字）").fill("太短")
    phone.get_by_role("button", name="开启紧急查看").click()
    expect(phone.get_by_text("至少 10 个字").last).to_be_visible()
    phone.get_by_label("理由（至少 10 个字）").fill("督导走访发现孩子手臂有伤，需要联系监护人")
    assert_fits_phone(phone, "phone")
    phone.get_by_role("button", name="开启紧急查看").click()
    expect(phone.get_by_text("已开启紧急查看 2 小时")).to_be_visible()
    expect(phone.get_by_text(SECRET)).to_be_visible()
    assert_fits_phone(phone, "phone")
    _shoot(phone, "emergency-phone")

    desk = _page(browser, "desktop")
    login(desk, live_server.url, "zx_leader")
    desk.goto(f"{live_server.url}/accounts/emergency/?open=1")
    expect(desk.locator("#emergencies")).to_contain_text("督导员 紧急查看 张三")
    _shoot(desk, "emergencies-desktop")
    desk.get_by_role("button", name="已复核，理由成立").click()
    expect(desk.get_by_text("已复核紧急查看第")).to_be_visible()
