"""The statistics journey in a real browser, at phone width (390×844) and on a desktop
(1366×768): a town administrator opens the dashboard, sees the charts drawn (no CSP error),
drills from the town to a class and its child list, downloads the table she is looking at,
and downloads the term report. Screenshots go to e2e/screenshots/ — look at them.
"""

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login


def test_leader_drills_from_the_town_to_a_child(page: Page, live_server, cast, viewport, shoot):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "town")
    page.goto(f"{live_server.url}/stats/")
    expect(page.locator("h1")).to_contain_text("全部学校")
    expect(page.locator("[data-count='total']")).to_have_text("6")
    # each chart is drawn into its box (ECharts puts a canvas there)
    for key in ("units", "category", "age", "gender", "boarding", "guardian", "missing"):
        expect(page.locator(f"#chart-{key} canvas")).to_have_count(1)
    assert_fits_phone(page, viewport)
    shoot(page, "town")

    page.locator("[data-table='units']").get_by_role("link", name="虎山镇中心小学").click()
    expect(page.locator("h1")).to_contain_text("虎山镇中心小学")
    page.locator("[data-table='units']").get_by_role("link", name="三年级").click()
    expect(page.locator("h1")).to_contain_text("三年级")
    page.locator("[data-table='units']").get_by_role("link", name="三年级(1)班").click()
    expect(page.locator("h1")).to_contain_text("(1)班")
    expect(page.locator("[data-count='total']")).to_have_text("2")
    assert_fits_phone(page, viewport)
    shoot(page, "class")

    with page.expect_download() as download:
        page.locator("[data-table='category']").get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="查看虎山镇中心小学 三年级 (1)班的儿童名单").click()
    expect(page.get_by_role("link", name="张三").first).to_be_visible()
    assert errors == [], errors


def test_leader_downloads_the_term_report(page: Page, live_server, cast, viewport, shoot):
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/stats/report/")
    expect(page.locator("#report h2")).to_contain_text("虎山镇中心小学")
    expect(page.locator("#report")).to_contain_text("在读学生 4 人")
    assert_fits_phone(page, viewport)
    shoot(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Word 文档（.docx）").click()
    assert download.value.suggested_filename.endswith(".docx")
