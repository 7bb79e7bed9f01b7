"""The card register in a real browser, at phone width (390×844) and on a desktop (1366×768).

Each journey runs on both viewports (the `viewport` fixture) and saves screenshots to
e2e/screenshots/ (git-ignored) — look at them.
"""

import re

import openpyxl
from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login, nav

NEW_PHONE = "13700001111"


def _body_text(page: Page) -> str:
    return page.locator("body").inner_text()


def test_class_teacher_finds_child_by_pinyin_and_edits_guardian_phone(
    page, live_server, cast, viewport, shoot
):
    login(page, live_server.url, "zx_teacher31")

    # Home: her scope's counts — class 3(1) holds 张三 (双留守) and 单小明 (单留守).
    expect(page.locator("h1")).to_contain_text("王老师，您好")
    expect(page.locator('[data-count="total"]')).to_have_text("2")
    expect(page.locator('[data-count="double"]')).to_have_text("1")
    expect(page.locator('[data-count="single"]')).to_have_text("1")
    expect(page.locator('[data-count="unknown"]')).to_have_text("0")
    assert_fits_phone(page, viewport)
    shoot(page, "home")

    nav(page, "儿童档卡")
    expect(page.locator("h1")).to_have_text("儿童档卡")
    rows = page.locator(".child-row")
    expect(rows).to_have_count(2)
    search = page.get_by_role("searchbox", name="搜索")

    # Every reading is indexed: 单 as a surname is shàn, so "sxm" finds 单小明.
    search.press_sequentially("sxm")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("单小明")

    # "zs" finds 张三 (the table is swapped in by htmx and the address updated).
    search.fill("")
    search.press_sequentially("zs")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("张三")
    expect(page).to_have_url(re.compile(r"[?&]q=zs"))
    assert_fits_phone(page, viewport)
    shoot(page, "search")

    rows.first.get_by_role("link", name="张三").click()
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#category")).to_have_text("双留守")
    expect(page.locator("#guardian-phone")).to_have_text("13912345678")

    page.get_by_role("link", name="编辑档卡").click()
    expect(page.locator("h1")).to_have_text("编辑档卡：张三")
    # One section at a time: the form opens on 基本信息; the chooser leads to the guardian.
    expect(page.get_by_label("姓名", exact=True)).to_be_visible()
    expect(page.get_by_label("监护人电话")).to_have_count(0)
    assert_fits_phone(page, viewport)
    shoot(page, "edit-sections", full_page=False)
    page.locator("#sections").get_by_role("link", name="监护人（委托监护人）").click()
    expect(page.get_by_label("姓名", exact=True)).to_have_count(0)
    phone = page.get_by_label("监护人电话")
    expect(phone).to_have_value("13912345678")
    phone.scroll_into_view_if_needed()
    phone.fill(NEW_PHONE)
    # Deep in a long form, 保存 is still within reach (the action bar sticks to the bottom).
    expect(phone).to_be_in_viewport()
    expect(page.get_by_role("button", name="保存")).to_be_in_viewport()
    shoot(page, "edit-screen", full_page=False)
    page.get_by_label("修改原因").fill("奶奶换了手机号")
    assert_fits_phone(page, viewport)
    shoot(page, "edit")
    page.get_by_role("button", name="保存").click()

    # Back on the card: the new number, and the change in 变更历史 with old → new.
    expect(page).to_have_url(re.compile(r"/children/\d+/$"))
    expect(page.get_by_role("alert")).to_contain_text("已保存")
    expect(page.locator("#guardian-phone")).to_have_text(NEW_PHONE)
    history = page.locator("#history")
    expect(history.locator("h2")).to_have_text("变更历史")
    latest = history.locator(".timeline li").first
    expect(latest).to_contain_text(f"监护人电话：13912345678 → {NEW_PHONE}")
    expect(latest).to_contain_text("王老师")
    expect(latest).to_contain_text("奶奶换了手机号")
    assert_fits_phone(page, viewport)
    shoot(page)


def test_proxy_parent_sees_only_his_children_on_a_reduced_card(
    page, live_server, cast, viewport, shoot
):
    from guanai.children.services import update_child

    kids = cast["children"]
    zhang = kids["c31a"]
    # The school has recorded health and psychology on 张三's card; a proxy parent must not
    # see any of it, not even in the card's history.
    update_child(
        child=zhang,
        data={"health": "哮喘，随身带药", "psych_summary": "想念妈妈，情绪低落"},
        version=zhang.version,
        by=cast["users"]["zx_teacher31"],
        reason="学期初摸排",
    )

    login(page, live_server.url, "proxy_wang")
    expect(page.locator('[data-count="total"]')).to_have_text("2")
    offers_add_on_home = page.get_by_role("link", name="添加学生").count()
    nav(page, "儿童档卡")
    rows = page.locator(".child-row")
    expect(rows).to_have_count(2)
    names = sorted(r.get_by_role("link").inner_text() for r in rows.all())
    assert names == ["张三", "李四"]
    expect(page.get_by_text("共 2 人")).to_be_visible()
    assert_fits_phone(page, viewport)
    shoot(page, "list")
    offers_add_on_list = page.get_by_role("link", name="添加学生").count()

    rows.filter(has_text="张三").get_by_role("link", name="张三").click()
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#category")).to_have_text("双留守")
    expect(page.get_by_role("link", name="编辑档卡")).to_have_count(0)
    expect(page.locator("#id-number")).to_have_count(0)
    card = _body_text(page)
    assert "身份证号" not in card
    assert zhang.id_number_masked not in card and zhang.id_number[-4:] not in card
    assert "残疾情况" not in card
    assert_fits_phone(page, viewport)
    shoot(page)

    # A child outside his assignment (same class as 张三) is simply not found.
    outside = page.goto(f"{live_server.url}/children/{kids['c31b'].pk}/")
    assert outside is not None and outside.status == 404
    expect(page.locator("h1")).to_have_text("未找到")
    assert "单小明" not in _body_text(page)
    shoot(page, "outside")

    # Last, so the steps above still run while these known bugs are open.
    leaked = [w for w in ("健康状况", "心理状况", "哮喘", "情绪低落") if w in card]
    problems = []
    if leaked:
        problems.append(
            f"his card shows {leaked}: 变更历史 lists changes of health and psychology fields "
            "(children/views.py child_detail passes child_history() unfiltered; the API's "
            "/history drops them for non-full access)"
        )
    if offers_add_on_home or offers_add_on_list:
        problems.append(
            "home and list offer 添加学生, which answers 403 for a proxy parent (templates test "
            "`not read_only`; no context flag says whether the user may add a child)"
        )
    assert not problems, "proxy parent: " + "; ".join(problems)


def test_town_admin_reveals_full_id_and_reads_it_in_access_log(
    page, live_server, cast, viewport, shoot
):
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    kids = cast["children"]
    # Someone else's earlier view, so that filtering by user has something to leave out.
    log_access(
        request=None,
        user=cast["users"]["zx_leader"],
        action=AccessAction.VIEW_ID_NUMBER,
        child=kids["c32a"],
        detail="档卡页查看完整身份证号",
    )

    login(page, live_server.url, "town")
    expect(page.locator('[data-count="total"]')).to_have_text("6")
    nav(page, "儿童档卡")
    expect(page.locator(".child-row")).to_have_count(6)
    page.locator(".child-row").get_by_role("link", name="张三").click()
    id_cell = page.locator("#id-number")
    full = kids["c31a"].id_number
    # beside the birth date the card keeps only the first 4 and last 2 characters
    expect(id_cell).to_have_text(full[:4] + "*" * 12 + full[-2:])
    assert full not in id_cell.inner_text()
    shoot(page, "masked")

    page.get_by_role("link", name="查看完整身份证号").click()
    expect(id_cell).to_have_text(full)
    assert_fits_phone(page, viewport)
    shoot(page, "full-id")

    nav(page, "访问日志")
    expect(page.locator("h1")).to_have_text("访问日志")
    log_rows = page.locator("#access-log tbody tr")
    # zx_leader's earlier view; and hers: each opening of the card (it shows the guardian's
    # phone in full) and the full ID number
    expect(log_rows).to_have_count(4)
    mine = log_rows.filter(has_text="张三")
    expect(mine).to_have_count(3)
    expect(mine.filter(has_text="town")).to_have_count(3)
    expect(mine.filter(has_text="查看完整身份证号")).to_have_count(1)
    expect(mine.filter(has_text="查看敏感信息")).to_have_count(2)
    expect(log_rows.filter(has_text="zx_leader")).to_contain_text("李四")
    assert_fits_phone(page, viewport)
    shoot(page, "log")

    page.get_by_placeholder("用户名").fill("town")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"[?&]user=town"))
    # her three card rows, and her first reading of the log (every reading is logged)
    expect(log_rows).to_have_count(4)
    expect(log_rows.filter(has_text="张三")).to_have_count(3)
    expect(log_rows.first).to_contain_text("查看访问日志")
    expect(page.locator("#access-log")).not_to_contain_text("zx_leader")
    expect(page.locator("#log-count")).to_contain_text("共 4 条")
    assert_fits_phone(page, viewport)
    shoot(page)

    # The filtered log as Excel; the export itself is logged.
    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    with open(info.value.path(), "rb") as fh:
        rows = list(openpyxl.load_workbook(fh).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("编号", "时间", "用户", "操作") and rows[1][-1] == "本条哈希"
    # the three card rows and her two readings of the log, with their hashes
    assert len(rows) == 7 and {r[2] for r in rows[2:]} == {"town"}
    page.reload()
    expect(log_rows.first).to_contain_text("导出")


def test_wrong_password_shows_chinese_message(page, live_server, cast, viewport, shoot):
    login(page, live_server.url, "zx_teacher31", password="not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading")).to_contain_text("登录")
    expect(page.locator(".alert-danger")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("zx_teacher31")
    expect(page.get_by_label("密码")).to_have_value("")
    assert_fits_phone(page, viewport)
    shoot(page)


def test_second_concurrent_edit_is_refused_and_keeps_input(
    page, context, live_server, cast, viewport, shoot
):
    zhang = cast["children"]["c31a"]
    edit_url = f"{live_server.url}/children/{zhang.pk}/edit/?section=all"
    login(page, live_server.url, "zx_teacher31")
    first, second = page, context.new_page()
    first.goto(edit_url)
    second.goto(edit_url)

    first.get_by_label("监护人电话").fill(NEW_PHONE)
    first.get_by_role("button", name="保存").click()
    expect(first.locator("#guardian-phone")).to_have_text(NEW_PHONE)

    second.get_by_label("监护人电话").fill("13600002222")
    second.get_by_label("村", exact=True).fill("石门村")
    with second.expect_response(lambda r: r.request.method == "POST") as posted:
        second.get_by_role("button", name="保存").click()
    assert posted.value.status == 409
    stale = second.locator("#stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("已被他人修改，本次未保存")
    expect(stale).to_contain_text("重新打开最新档卡")
    # What she typed is still there to copy over.
    expect(second.get_by_label("监护人电话")).to_have_value("13600002222")
    expect(second.get_by_label("村", exact=True)).to_have_value("石门村")
    assert_fits_phone(second, viewport)
    shoot(second)

    # Nothing lost: the first save stands; reloading shows the current card.
    stale.get_by_role("link", name="重新打开最新档卡").click()
    expect(second.get_by_label("监护人电话")).to_have_value(NEW_PHONE)
    expect(second.get_by_label("村", exact=True)).to_have_value("虎山村")
    zhang.refresh_from_db()
    assert zhang.guardian.phone == NEW_PHONE and zhang.village == "虎山村"
