"""心理关爱 in a real browser (issue #15): a class teacher flags a child on her phone (390 px)
and reads back only 已提交; the counselor follows up at her desk — the caseload, the record,
a session with the next review. Screenshots go to e2e/screenshots/."""

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import SCREENSHOTS, TIMEOUT_MS, VIEWPORTS, assert_fits_phone, login

WHAT = "这两周上课常发呆，说晚上梦见妈妈"


def _page(browser: Browser, viewport: str) -> Page:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx.new_page()


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_care-{name}.png"), full_page=True)


def test_teacher_flags_on_her_phone_and_the_counselor_follows_up(
    browser: Browser, live_server, cast
):
    from guanai.care.models import Session

    child = cast["children"]["c31a"]
    phone = _page(browser, "phone")
    login(phone, live_server.url, "zx_teacher31")
    phone.goto(f"{live_server.url}/children/{child.pk}/")
    phone.locator("#psych-flag").click()
    expect(phone.locator("h1")).to_contain_text("心理关注")
    phone.locator("label[for='id_level_2']").click()  # 重点关注
    phone.get_by_label("看到或听到的情况").fill(WHAT)
    assert_fits_phone(phone, "phone")
    _shoot(phone, "flag-phone")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("已提交")).to_be_visible()
    expect(phone.get_by_text(WHAT)).to_have_count(0)
    phone.goto(f"{live_server.url}/care/mine/")
    expect(phone.get_by_text("已提交 于")).to_be_visible()
    expect(phone.get_by_text(WHAT)).to_have_count(0)
    assert_fits_phone(phone, "phone")
    _shoot(phone, "mine-phone")

    desk = _page(browser, "desktop")
    login(desk, live_server.url, "zx_counselor")
    desk.get_by_role("link", name="心理关爱", exact=True).first.click()
    expect(desk.locator("#caseload")).to_contain_text(child.name)
    expect(desk.locator("#caseload")).to_contain_text("重点关注")
    _shoot(desk, "caseload-desktop")
    desk.get_by_role("link", name=child.name).click()
    expect(desk.locator("#psych-records")).to_contain_text(WHAT)
    desk.get_by_label("辅导记录").fill("单独谈话 30 分钟，约定每周二午休时再聊")
    desk.locator("label[for='id_level_1']").click()  # 关注
    desk.get_by_label("下次回访日期").fill("2026-12-08")
    desk.get_by_role("button", name="保存辅导记录").click()
    expect(desk.get_by_text("辅导记录已保存")).to_be_visible()
    expect(desk.locator("#psych-records")).to_contain_text("约定每周二")
    _shoot(desk, "record-desktop")
    assert Session.objects.get(child=child).next_review_on.isoformat() == "2026-12-08"

    # the counselor's page on her phone, too
    small = _page(browser, "phone")
    login(small, live_server.url, "zx_counselor")
    small.goto(f"{live_server.url}/care/child/{child.pk}/")
    expect(small.locator("#psych-records")).to_contain_text("约定每周二")
    assert_fits_phone(small, "phone")
    _shoot(small, "record-phone")
