"""监护人请求 in a real browser: the school leader records a mother's request to correct her
child's card on her phone (390 px), sees it overdue a few weeks later, and replies on the
desktop. Screenshots go to e2e/screenshots/."""

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import SCREENSHOTS, TIMEOUT_MS, VIEWPORTS, assert_fits_phone, login


def _page(browser: Browser, viewport: str) -> Page:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx.new_page()


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_privacy-{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_leader_records_a_guardians_request_and_replies(
    browser: Browser, live_server, cast, viewport
):
    from guanai.privacy.models import GuardianRequest

    page = _page(browser, viewport)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/privacy/requests/")
    expect(page.locator("#request-list")).to_contain_text("点“登记请求”记下来")
    page.get_by_role("link", name="登记请求").click()
    page.get_by_label("找学生").fill("张三")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name="选这个学生").click()
    expect(page.locator("h1")).to_have_text("登记监护人请求")
    page.get_by_role("button", name="登记").click()  # nothing filled in
    expect(page.locator(".invalid-feedback, .text-danger").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("请填写提出人姓名")
    page.locator("label[for='id_kind_1']").click()  # 更正补充
    page.get_by_label("收到日期").fill("2026-11-02")
    page.get_by_label("提出人姓名").fill("张母")
    page.get_by_label("与儿童的关系").fill("母亲")
    page.get_by_label("请求内容").fill("出生日期登记错了，应为 2017-03-12")
    if viewport == "phone":
        assert_fits_phone(page, "phone")
    _shoot(page, f"new-{viewport}")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".alert-success")).to_contain_text("请在 2026-11-17 前答复")
    expect(page.locator("#overdue")).to_contain_text("已超期")  # received 27 days ago

    page.get_by_role("link", name="← 监护人请求").click()
    expect(page.locator("#overdue-alert")).to_contain_text("有 1 件请求")
    expect(page.locator("#request-list .overdue-row")).to_contain_text("张三")
    if viewport == "phone":
        assert_fits_phone(page, "phone")
    _shoot(page, f"list-{viewport}")

    page.locator("#request-list").get_by_role("link", name="张三").click()
    page.locator("label[for='id_status_1']").click()  # 已办结
    page.get_by_role("button", name="保存答复").click()
    expect(page.locator("main")).to_contain_text("请填写答复与处理情况")
    page.get_by_label("答复与处理情况").fill("已核对户口本，出生日期已更正，电话告知家长")
    page.get_by_label("答复日期").fill("2026-11-28")
    page.get_by_role("button", name="保存答复").click()
    expect(page.locator(".alert-success")).to_have_text("答复已保存")
    expect(page.locator("#request-facts")).to_contain_text("已办结")
    expect(page.locator("#overdue")).to_have_count(0)
    _shoot(page, f"replied-{viewport}")
    item = GuardianRequest.objects.get()
    assert item.status == "done" and item.replied_on == dt.date(2026, 11, 28)
