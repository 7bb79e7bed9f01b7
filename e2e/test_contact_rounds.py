"""Correcting a contact and 普访轮次 in a real browser, at phone width (390×844) and on a
desktop (1366×768): a class teacher corrects a home visit she logged (a reason is required) and
sees it marked 已修改 with what changed; a town administrator creates a round and sees its
coverage with the names not yet visited. Screenshots go to e2e/screenshots/ — look at them.
"""

import datetime as dt

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login, nav


def test_teacher_corrects_a_home_visit_she_logged(page: Page, live_server, cast, viewport, shoot):
    from django.utils import timezone

    from guanai.contacts.models import Contact
    from guanai.contacts.rules import SHANGHAI

    kids, teacher = cast["children"], cast["users"]["zx_teacher31"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    visit = Contact.objects.create(
        child=kids["c31a"],
        by=teacher,
        kind="home_visit",
        at=dt.datetime.combine(yesterday, dt.time(16, 30), SHANGHAI),
        with_whom="祖母 张奶奶",
        notes="奶奶身体还好",
    )
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/children/{kids['c31a'].pk}/")
    row = page.locator(f"#contact-timeline [data-contact='{visit.pk}']")
    expect(row).to_contain_text("家访")
    expect(row.locator("[data-edited]")).to_have_count(0)
    row.get_by_role("link", name="修改").click()

    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#editing")).to_contain_text("学生不能更改")
    expect(page.locator("#kind-home_visit")).to_be_checked()
    page.get_by_label("见到 / 联系了谁").fill("祖父 张爷爷")
    page.get_by_label("情况记录").fill("爷爷在家，奶奶去镇上看病了")
    page.get_by_role("button", name="保存修改").click()
    # No reason: the form comes back with the message at the field and nothing saved.
    expect(page.locator(".invalid-feedback")).to_contain_text("请填写修改原因")
    assert Contact.objects.get(pk=visit.pk).with_whom == "祖母 张奶奶"
    assert_fits_phone(page, viewport)
    shoot(page, "reason-required")

    page.get_by_label("修改原因（必填）").fill("记错了见到的人")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert")).to_contain_text("张三：家访记录已修改")
    row = page.locator(f"#contact-timeline [data-contact='{visit.pk}']")
    expect(row.locator("[data-edited]")).to_have_text("已修改")
    row.get_by_text("修改记录（1 次）").click()
    versions = row.locator(".contact-versions")
    expect(versions).to_contain_text("记错了见到的人")
    expect(versions).to_contain_text("联系对象：祖母 张奶奶 → 祖父 张爷爷")
    expect(versions).to_contain_text("情况记录：奶奶身体还好 → 爷爷在家，奶奶去镇上看病了")
    row.scroll_into_view_if_needed()
    assert_fits_phone(page, viewport)
    shoot(page, "corrected", full_page=False)
    saved = Contact.objects.get(pk=visit.pk)
    assert (saved.with_whom, saved.at) == ("祖父 张爷爷", visit.at)


def test_town_admin_creates_a_round_and_sees_who_is_not_yet_visited(
    page: Page, live_server, cast, viewport, shoot
):
    from django.utils import timezone

    from guanai.contacts.models import Contact
    from guanai.contacts.rules import SHANGHAI

    kids, town = cast["children"], cast["users"]["town"]
    today = timezone.localdate()
    for kid in ("c31a", "c32a", "gt"):
        Contact.objects.create(
            child=kids[kid],
            by=town,
            kind="home_visit",
            at=dt.datetime.combine(today - dt.timedelta(days=2), dt.time(10), SHANGHAI),
        )
    login(page, live_server.url, "town")
    nav(page, "家校联系")
    page.locator(".contacts-nav").get_by_role("link", name="普访覆盖").click()
    page.get_by_role("link", name="普访轮次").click()
    expect(page.locator("#rounds")).to_contain_text("还没有普访轮次")
    form = page.locator("#new-round")
    form.get_by_label("名称").fill("冬季普访")
    form.get_by_label("开始日期").fill(f"{today - dt.timedelta(days=7)}")
    form.get_by_label("结束日期").fill(f"{today - dt.timedelta(days=14)}")
    form.get_by_role("button", name="创建").click()
    expect(page.locator("#new-round")).to_contain_text("结束日期不能早于开始日期")
    assert_fits_phone(page, viewport)
    shoot(page, "bad-dates")

    form = page.locator("#new-round")
    form.get_by_label("结束日期").fill(f"{today + dt.timedelta(days=30)}")
    form.get_by_label("只统计留守儿童").check()
    form.get_by_role("button", name="创建").click()
    expect(page.get_by_role("alert")).to_contain_text("已创建普访轮次“冬季普访”")
    expect(page.locator("h1")).to_contain_text("冬季普访")
    # Left-behind children of the town: 张三, 单小明, 李四, 赵六, 孙七; three visited.
    expect(page.locator("[data-count='visited']")).to_have_text("3")
    expect(page.locator("[data-count='percent']")).to_have_text("60%")
    page.locator("[data-school='HS-ZX'] h2").get_by_role("link").click()
    c31 = page.locator("tr", has_text="三年级(1)班")
    expect(c31).to_contain_text("1 / 2")
    c31.get_by_text("1 人").click()
    expect(c31).to_contain_text("单小明")
    expect(page.get_by_role("link", name="导出尚未家访名单")).to_be_visible()
    assert_fits_phone(page, viewport)
    shoot(page, "coverage")

    page.get_by_role("link", name="普访轮次").click()
    item = page.locator("#rounds li", has_text="冬季普访")
    expect(item).to_contain_text("60%")
    expect(item).to_contain_text("只统计留守儿童")
    assert_fits_phone(page, viewport)
    shoot(page, "rounds")

    # The round should have started only yesterday: she moves the start and renames it.
    item.get_by_role("link", name="修改").click()
    expect(page.locator("h1")).to_have_text("修改普访轮次")
    page.get_by_label("名称").fill("冬季普访（提前）")
    page.get_by_label("开始日期").fill(f"{today - dt.timedelta(days=1)}")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert")).to_contain_text("普访轮次“冬季普访（提前）”已保存修改")
    # the visits two days ago fall outside the new dates now
    expect(page.locator("[data-count='visited']")).to_have_text("0")
    assert_fits_phone(page, viewport)
    shoot(page, "changed")
