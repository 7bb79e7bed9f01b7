"""Pairing, named responsibility and proxy parents in a real browser, at phone width (390×844)
and on a desktop (1366×768). Screenshots go to e2e/screenshots/ (git-ignored) — look at them.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login, nav

HOME = {"father.status": "home", "mother.status": "home"}


def _buddies(cast) -> None:
    """三年级(1)班 gets three local classmates who are not left-behind: 刘一 and 陈二 are the
    optimal buddies of 张三 and 单小明 (8 days apart each); 王小虎 is left free."""
    from guanai.testing import make_child

    c31 = cast["classes"]["c31"]
    make_child(c31, name="刘一", birth=dt.date(2017, 3, 10), group="一组", **HOME)
    make_child(c31, name="陈二", gender="female", birth=dt.date(2017, 5, 1), **HOME)
    make_child(c31, name="王小虎", birth=dt.date(2017, 4, 1), group="2组", **HOME)


def test_class_teacher_proposes_accepts_and_swaps_a_buddy(
    page: Page, live_server, cast, viewport, shoot
):
    _buddies(cast)
    login(page, live_server.url, "zx_teacher31")
    nav(page, "结对帮扶")
    expect(page.locator("h1")).to_have_text("结对帮扶")
    expect(page.get_by_text("没有符合条件的结对")).to_be_visible()
    # She arranges her own class only: it is the one choice offered.
    target = page.get_by_label("为哪里提出结对建议")
    expect(target.locator("option")).to_have_count(1)
    expect(target).to_contain_text("三年级(1)班")
    assert_fits_phone(page, viewport)
    shoot(page, "empty")

    page.get_by_role("button", name="提出结对建议").click()
    expect(page.get_by_role("alert")).to_contain_text("提出 2 对结对建议（草稿）")
    rows = page.locator(".pair-row")
    expect(rows).to_have_count(2)
    zhang = rows.filter(has_text="张三")
    expect(zhang).to_contain_text("刘一")
    expect(zhang.locator(".explanation")).to_have_text("同村同组，相差 8 天")
    expect(rows.filter(has_text="单小明")).to_contain_text("陈二")
    expect(rows.filter(has_text="草稿")).to_have_count(2)
    assert_fits_phone(page, viewport)
    shoot(page, "proposed")

    for row in rows.all():
        row.get_by_role("checkbox").check()
    page.get_by_role("button", name="确认勾选的结对").click()
    expect(page.get_by_role("alert")).to_contain_text("已确认 2 对结对")
    # Back on the drafts list: nothing left to confirm; every pair is 进行中.
    expect(page.locator(".pair-row")).to_have_count(0)
    page.goto(f"{live_server.url}/pairing/")
    expect(page.locator(".pair-row").filter(has_text="进行中")).to_have_count(2)
    shoot(page, "accepted")

    page.locator(".pair-row").filter(has_text="张三").get_by_role("link", name="张三").click()
    expect(page.locator("h1")).to_have_text("张三 ↔ 刘一")
    expect(page.locator("#status")).to_have_text("进行中")
    expect(page.locator("#explanation")).to_have_text("同村同组，相差 8 天")
    # 王小虎 is the one free classmate: another 组 (+1) and 30 days instead of 8 (+22/365).
    option = page.locator(".swap-option").filter(has_text="王小虎")
    expect(option.locator(".cost-change")).to_have_text("不如现在合适")
    expect(option).to_contain_text("同村不同组，相差 1 个月")
    assert_fits_phone(page, viewport)
    shoot(page, "pair")

    option.get_by_role("button", name="换成王小虎").click()
    expect(page.get_by_role("alert")).to_contain_text("刘一 换为 王小虎（不如原来合适）")
    expect(page.locator("h1")).to_have_text("张三 ↔ 王小虎")
    history = page.locator("#history .timeline li")
    expect(history).to_have_count(3)  # proposed, accepted, swapped
    expect(history.last).to_contain_text("更换结对伙伴：刘一 → 王小虎")
    expect(history.last).to_contain_text("王老师")
    assert_fits_phone(page, viewport)
    shoot(page, "swapped")


@pytest.mark.parametrize("viewport", ["phone"])
def test_proxy_parent_on_a_phone_sees_only_his_children(
    page: Page, live_server, cast, viewport, shoot
):
    login(page, live_server.url, "proxy_wang")
    expect(page.locator('[data-count="total"]')).to_have_text("2")
    nav(page, "我代理的孩子")
    expect(page.locator("h1")).to_have_text("我代理的孩子")
    cards = page.locator(".my-child")
    expect(cards).to_have_count(2)
    assert sorted(c.get_by_role("link").first.inner_text() for c in cards.all()) == [
        "张三",
        "李四",
    ]
    expect(cards.filter(has_text="张三")).to_contain_text("监护人 张奶奶（祖母）")
    # Both are due for a meeting or call under the proxy-parent rule: he has met neither yet.
    expect(page.locator(".due-state .text-bg-danger")).to_have_count(2)
    expect(cards.filter(has_text="张三")).to_contain_text("代理家长每周联系 · 上次 还没有联系过")
    # Meetings and calls are logged as contacts, one tap from here.
    meeting = cards.filter(has_text="张三").get_by_role("link", name="记录见面")
    expect(meeting).to_have_attribute("href", re.compile(r"/contacts/new/\?child=\d+&kind=meeting"))
    assert_fits_phone(page, viewport)
    shoot(page, "mine")

    meeting.click()
    expect(page.locator("h1")).to_contain_text("张三")
    page.get_by_label("情况记录").fill("周末到家里看了作业，孩子挺好")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text("我代理的孩子")
    expect(cards.filter(has_text="张三").locator(".due-state")).to_contain_text("已按时联系")
    expect(cards.filter(has_text="李四").locator(".due-state")).to_contain_text("该联系了")
    shoot(page, "met")

    cards.filter(has_text="李四").get_by_role("link", name="李四").click()
    expect(page.locator("h1")).to_contain_text("李四")
    expect(page.locator("#id-number")).to_have_count(0)
    assert "身份证号" not in page.locator("main").inner_text()
    shoot(page, "card")

    nav(page, "儿童档卡")
    names = sorted(r.get_by_role("link").inner_text() for r in page.locator(".child-row").all())
    assert names == ["张三", "李四"]
    # Named responsibility is no page of his: no link, and the page itself refuses.
    assert page.locator("#nav").get_by_role("link", name="包年级包班").count() == 0
    refused = page.goto(f"{live_server.url}/pairing/responsibility/")
    assert refused is not None and refused.status == 403
    outside = page.goto(f"{live_server.url}/children/{cast['children']['c31b'].pk}/")
    assert outside is not None and outside.status == 404


def test_school_leader_closes_a_gap_and_registers_a_proxy_parent(
    page: Page, live_server, cast, viewport, shoot
):
    login(page, live_server.url, "zx_leader")
    nav(page, "包年级包班")
    expect(page.locator("h1")).to_contain_text("虎山镇中心小学")
    gaps = page.locator("#gaps")
    expect(gaps).to_contain_text("没有负责人的年级：四年级")
    expect(gaps).to_contain_text("没有班主任的班级：三年级(2)班、四年级(1)班")
    expect(gaps).to_contain_text("没有责任教师的留守儿童：3 人")
    assert_fits_phone(page, viewport)
    shoot(page, "gaps")

    form = page.locator("#assign-class")
    form.get_by_label("班级").select_option(label="三年级(2)班")
    form.get_by_label("人员").select_option(label="周老师（zx_counselor）")
    form.get_by_label("学期").select_option(index=1)
    form.get_by_role("button", name="指定").click()
    expect(page.get_by_role("alert")).to_contain_text("已指定 周老师 为三年级(2)班班主任")
    expect(page.locator("#gaps")).to_contain_text("没有班主任的班级：四年级(1)班")
    row = page.locator(".class-row").filter(has_text="三年级(2)班")
    expect(row).to_contain_text("周老师")
    shoot(page, "assigned")

    # Her open work: the school's classes and their teachers, each with what is still open.
    nav(page, "我的待办")
    expect(page.locator("h1")).to_have_text("我的待办")
    oversee = page.locator("#oversee .class-row")
    expect(oversee).to_have_count(3)
    expect(oversee.filter(has_text="三年级(1)班")).to_contain_text("王老师")
    assert_fits_phone(page, viewport)
    shoot(page, "work")

    nav(page, "代理家长")
    page.get_by_role("link", name="登记代理家长").click()
    page.get_by_label("姓名").fill("李桂花")
    page.get_by_label("电话").fill("138-1234-5678")
    page.get_by_label("身份").select_option(label="志愿者")
    page.get_by_label("居住村").fill("虎山村")
    page.get_by_label("登录名").fill("proxy_li")
    page.get_by_label("初始密码").fill("guanai-demo")
    page.get_by_role("button", name="保存").click()
    # Without the §22 declaration nobody is registered.
    expect(page.locator(".invalid-feedback")).to_contain_text("须记录本人的声明")
    page.get_by_label("初始密码").fill("guanai-demo")
    page.get_by_label(re.compile("本人已声明")).check()
    shoot(page, "register")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已登记代理家长 李桂花")
    expect(page.locator("h1")).to_contain_text("李桂花")
    # 单小明 lives in 虎山村 and has no proxy parent yet (张三 and 李四 have 王叔叔).
    child = page.get_by_label("儿童", exact=True)
    expect(child.locator("option")).to_have_count(2)
    child.select_option(child.locator("option", has_text="单小明").get_attribute("value"))
    page.locator("#assign").get_by_role("button", name="指定").click()
    expect(page.get_by_role("alert")).to_contain_text("已指定 李桂花 为 单小明 的代理家长")
    expect(page.locator(".assignment-row")).to_contain_text("进行中")
    assert_fits_phone(page, viewport)
    shoot(page, "proxy")
