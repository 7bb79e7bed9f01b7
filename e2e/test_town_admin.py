"""The town administrator sets up people and classes on a phone (390×844)."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login, nav


@pytest.mark.parametrize("viewport", ["phone"])
def test_town_adds_a_role_to_a_user_on_a_phone(page: Page, live_server, cast, viewport, shoot):
    from guanai.testing import make_user

    make_user("li_teacher", "subject_teacher", school=cast["schools"]["zx"], display_name="李老师")
    login(page, live_server.url, "town")
    nav(page, "用户与角色")
    page.get_by_role("link", name="li_teacher").click()
    expect(page.locator("h1")).to_contain_text("li_teacher")
    form = page.locator("#role-add")
    # The start date is filled with today in the form a date field takes: nothing to pick.
    expect(form.get_by_label("起始日期")).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    form.get_by_label("角色").select_option(label="年级负责人")
    form.get_by_label("学校").select_option(label="虎山镇中心小学")
    form.get_by_label("年级").select_option(label="四年级")
    assert_fits_phone(page, viewport)
    shoot(page, "form")
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_role("alert")).to_contain_text("已添加角色")
    expect(page.locator(".role-row").filter(has_text="年级负责人")).to_contain_text(
        "虎山镇中心小学 四年级"
    )
    assert_fits_phone(page, viewport)
    shoot(page, "added")


@pytest.mark.parametrize("viewport", ["phone"])
def test_town_corrects_a_class_and_cannot_close_one_with_children(
    page: Page, live_server, cast, viewport, shoot
):
    login(page, live_server.url, "town")
    nav(page, "学校与班级")
    page.get_by_role("link", name="虎山镇中心小学").click()
    expect(page.get_by_label("年级", exact=True)).to_have_value(
        "1"
    )  # a new class is 一年级 by default
    page.get_by_role("link", name="修改三年级(2)班").click()
    page.get_by_label("班级", exact=True).fill("3")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("三年级(2)班 已改为 三年级(3)班")
    page.get_by_role("link", name="修改三年级(1)班").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="停用本班").click()
    expect(page.get_by_role("alert")).to_contain_text("三年级(1)班还有 2 名在读学生，不能停用")
    assert_fits_phone(page, viewport)
    shoot(page, "refused")


@pytest.mark.parametrize("viewport", ["phone"])
def test_teacher_names_responsible_teachers_for_her_class_with_one_save(
    page: Page, live_server, cast, viewport, shoot
):
    c31 = cast["classes"]["c31"]
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/pairing/responsibility/class/{c31.pk}/")
    expect(page.get_by_role("button", name="保存")).to_have_count(1)
    expect(page.get_by_role("button", name="结束")).to_have_count(0)
    page.get_by_label("张三 的责任教师").select_option(label="周老师（zx_counselor）")
    page.get_by_label("单小明 的责任教师").select_option(label="王老师（zx_teacher31）")
    assert_fits_phone(page, viewport)
    shoot(page, "chosen")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已保存：2 名儿童的责任教师有变化")
    expect(page.get_by_label("张三 的责任教师")).to_have_value(
        str(cast["users"]["zx_counselor"].pk)
    )
