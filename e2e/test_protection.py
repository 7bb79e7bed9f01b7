"""强制报告 in a real browser: a class teacher reports suspected harm on her phone (390 px) in a
minute; the school leader reads it on the desktop and records whom she told; the teacher sees
only "已提交". Screenshots go to e2e/screenshots/."""

import re

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import SCREENSHOTS, TIMEOUT_MS, VIEWPORTS, assert_fits_phone, login


def _page(browser: Browser, viewport: str) -> Page:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx.new_page()


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_protection-{name}.png"), full_page=True)


def test_a_teacher_reports_on_her_phone_and_the_leader_follows_up(
    browser: Browser, live_server, cast
):
    from guanai.accounts.models import AccessLog
    from guanai.protection.models import Incident

    phone = _page(browser, "phone")
    login(phone, live_server.url, "zx_teacher31")
    phone.goto(f"{live_server.url}/protection/report/")
    phone.get_by_label("找学生").fill("张三")
    phone.get_by_role("button", name="查找").click()
    phone.get_by_role("link", name="选这个学生").click()
    expect(phone.locator("h1")).to_have_text("报告疑似侵害")
    phone.locator("label[for='id_harm_kind_0']").click()  # 身体伤害
    phone.locator("label[for='id_source_1']").click()  # 孩子自己说的
    phone.get_by_label("看到或听到的情况").fill("右臂有淤青，孩子说是喝醉的叔叔打的")
    assert_fits_phone(phone, "phone")
    _shoot(phone, "form-phone")
    phone.get_by_role("button", name="提交报告").click()
    expect(phone.locator(".alert-success")).to_contain_text("已提交 于")
    expect(phone.locator("#my-filings")).to_contain_text(re.compile(r"张三\s*已提交 于"))
    expect(phone.locator("main")).not_to_contain_text("淤青")
    assert_fits_phone(phone, "phone")
    _shoot(phone, "submitted-phone")
    incident = Incident.objects.get()
    phone.goto(f"{live_server.url}/protection/incidents/{incident.pk}/")
    expect(phone.locator("main")).not_to_contain_text("淤青")

    desk = _page(browser, "desktop")
    login(desk, live_server.url, "zx_leader")
    desk.goto(f"{live_server.url}/protection/incidents/")
    desk.locator("#incident-list").get_by_role("link", name="张三").click()
    expect(desk.locator("#incident-facts")).to_contain_text("右臂有淤青，孩子说是喝醉的叔叔打的")
    expect(desk.locator("#incident-facts")).to_contain_text("孩子自己说的")
    desk.locator("label[for='id_told_0']").click()  # 公安
    desk.locator("label[for='id_told_2']").click()  # 教育
    desk.get_by_label("回执编号").fill("祁公(虎)受字 2026-118")
    desk.get_by_role("button", name="保存").click()
    expect(desk.locator(".alert-danger, .invalid-feedback")).to_contain_text("请同时填写报告时间")
    desk.get_by_label("报告部门时间").fill("2026-11-29T10:00")
    desk.get_by_role("button", name="保存").click()
    expect(desk.locator(".alert-success")).to_have_text("已保存")
    _shoot(desk, "leader-desktop")
    incident.refresh_from_db()
    assert incident.told == ["police", "education"] and incident.is_open
    assert AccessLog.objects.filter(username="zx_leader", child=incident.child).count() >= 1
    assert not AccessLog.objects.filter(username="zx_teacher31", child=incident.child).exists()


def test_a_dropout_case_on_the_phone_and_an_alert_on_the_desktop(
    browser: Browser, live_server, cast
):
    from guanai.children.models import Guardian
    from guanai.protection.models import AlertResolution, DropoutCase

    Guardian.objects.filter(child=cast["children"]["c31a"]).delete()  # 张三 now lives alone
    phone = _page(browser, "phone")
    login(phone, live_server.url, "zx_teacher31")
    phone.goto(f"{live_server.url}/protection/")
    phone.locator(".protection-nav").get_by_role("link", name="控辍保学").click()
    expect(phone.locator("#case-list")).to_contain_text("没有正在劝返的记录")
    phone.get_by_role("link", name="新建记录").click()
    phone.get_by_label("找学生").fill("单")
    phone.get_by_role("button", name="查找").click()
    phone.get_by_role("link", name="选这个学生").click()
    phone.get_by_label("开始缺课日期").fill("2026-11-18")
    phone.get_by_label("缺课天数").fill("6")
    phone.get_by_label("了解到的原因").fill("家长说孩子想跟亲戚去打工")
    phone.get_by_role("button", name="建立记录").click()
    expect(phone.locator(".alert-success")).to_contain_text("已为单小明建立控辍保学记录")
    attempt = phone.locator("#attempt-form")
    attempt.get_by_label("劝返人员").fill("王老师、村主任")
    attempt.get_by_label("见到谁").fill("父亲")
    attempt.get_by_label("劝返结果").fill("父亲不同意孩子返校")
    attempt.get_by_role("button", name="保存劝返记录").click()
    expect(phone.locator("#attempts")).to_contain_text("王老师、村主任 见到 父亲")
    close = phone.locator("#close-form")
    close.locator("label", has_text="劝返无效，书面报告").click()
    close.get_by_label("结案说明").fill("两次上门劝返无效")
    close.get_by_role("button", name="结案").click()
    expect(phone.locator(".alert-success")).to_contain_text("劝返无效，已书面报告")
    expect(phone.get_by_role("link", name="书面报告 PDF")).to_be_visible()
    assert_fits_phone(phone, "phone")
    _shoot(phone, "case-phone")
    assert DropoutCase.objects.get().status == "reported"

    desk = _page(browser, "desktop")
    login(desk, live_server.url, "zx_leader")
    desk.goto(f"{live_server.url}/protection/alerts/")
    item = desk.locator("#alert-list li", has_text="张三")
    expect(item).to_contain_text("父母均不在家，未登记监护人")
    item.get_by_label("采取的措施").fill("已联系村儿童主任，孩子暂住姑姑家")
    item.get_by_role("button", name="已处理").click()
    expect(desk.locator(".alert-success")).to_contain_text("张三：已记录采取的措施")
    expect(desk.locator("#resolved-list")).to_contain_text("孩子暂住姑姑家")
    _shoot(desk, "alerts-desktop")
    assert AlertResolution.objects.get().resolved_by.username == "zx_leader"
