"""Journey (issue #17): a school leader finds the 学籍与档卡不一致 list, exports it, and tries the
民政 return, told which cards to complete, on a phone and at a desk."""

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login


def test_leader_checks_xueji_and_minzheng(page: Page, live_server, cast, viewport, shoot):
    from guanai.children.models import Child

    Child.objects.filter(pk=cast["children"]["c31a"].pk).update(xueji_category="none")
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/children/xueji/mismatch/")
    expect(page.get_by_role("heading", name="学籍与档卡不一致")).to_be_visible()
    expect(page.get_by_role("link", name="张三")).to_be_visible()
    assert_fits_phone(page, viewport)
    shoot(page, "mismatch")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.get_by_role("link", name="民政登记表").click()
    page.get_by_role("button", name="下载 Excel").click()
    expect(page.get_by_text("勾稽关系不符")).to_be_visible()
    assert_fits_phone(page, viewport)
    shoot(page, "minzheng")
    page.goto(f"{live_server.url}/children/xueji/export/")
    assert_fits_phone(page, viewport)
    shoot(page, "xueji")
