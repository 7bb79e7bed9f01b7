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


def _this_terms_work(cast) -> None:
    """A screening of part of 中心小学 and a home visit, so the panels have something to show."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from guanai.contacts.models import Contact
    from guanai.screening.models import ScreeningCampaign, ScreeningRecord

    kids = cast["children"]
    campaign = ScreeningCampaign.objects.create(school=cast["schools"]["zx"], term="2026-2027-1")
    for key in ("c31a", "c31b", "c41a"):
        ScreeningRecord.objects.create(
            campaign=campaign, child=kids[key], outcome="marked", category=kids[key].category
        )
    Contact.objects.create(
        child=kids["c31a"],
        by=cast["users"]["zx_teacher31"],
        kind="home_visit",
        at=dt.datetime(2026, 10, 8, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
    )


def test_coverage_panels_and_trends_fit_the_screen(page: Page, live_server, cast, viewport, shoot):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _this_terms_work(cast)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/stats/?school=HS-ZX")
    expect(page.locator("#coverage")).to_have_text("本学期工作覆盖")
    for key in ("cov_screening", "cov_verification", "cov_visits", "cov_due", "cov_pairing"):
        section = page.locator(f"[data-table='{key}']")
        expect(section.locator(f"#chart-{key} canvas")).to_have_count(1)
        expect(section.locator("table")).to_be_visible()
    screening = page.locator("[data-table='cov_screening'] tbody tr").first
    expect(screening).to_contain_text("三年级(1)班")
    expect(page.locator("[data-table='cov_screening'] tbody tr").last).to_contain_text("75.0%")
    page.locator("[data-table='cov_visits']").scroll_into_view_if_needed()
    assert_fits_phone(page, viewport)
    shoot(page, "coverage")
    for key in ("trend_categories", "trend_rates"):
        section = page.locator(f"[data-table='{key}']")
        section.scroll_into_view_if_needed()
        expect(section.locator(f"#chart-{key} canvas")).to_have_count(1)
        expect(section.locator("tbody tr")).to_have_count(4)
    expect(page.locator("[data-table='trend_rates'] tbody tr").last).to_contain_text("75.0%（3/4）")
    assert_fits_phone(page, viewport)
    shoot(page, "trends", full_page=False)
    with page.expect_download() as download:
        page.locator("[data-table='trend_rates']").get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    # the town level: a row per school
    login(page, live_server.url, "town")
    page.goto(f"{live_server.url}/stats/")
    expect(page.locator("[data-table='cov_screening'] tbody tr").first).to_contain_text(
        "虎山镇中心小学"
    )
    assert_fits_phone(page, viewport)
    assert errors == [], errors


def test_leader_edits_a_section_of_the_report(page: Page, live_server, cast, viewport, shoot):
    _this_terms_work(cast)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/stats/report/")
    expect(page.locator("#report")).to_contain_text("应排查学生 4 人，已排查 3 人")
    page.get_by_role("link", name="编辑文字").click()
    box = page.get_by_label("二、深入调研，夯实基础")
    expect(box).to_contain_text("【已排查】")
    box.fill("我校开学即组织摸底排查，已排查【已排查】人，完成率【排查完成率】。")
    assert_fits_phone(page, viewport)
    shoot(page, "edit")
    page.get_by_role("button", name="保存文字").click()
    report = page.locator("#report")
    expect(report).to_contain_text("我校开学即组织摸底排查，已排查3人，完成率75.0%。")
    expect(report).not_to_contain_text("【")
    expect(report).to_contain_text("文字已修改")
    assert_fits_phone(page, viewport)
    shoot(page, "edited")
    # back to the system's words
    page.get_by_role("link", name="编辑文字").click()
    page.locator("#section-2").get_by_role("button", name="恢复生成的文字").click()
    page.goto(f"{live_server.url}/stats/report/")
    expect(page.locator("#report")).to_contain_text("开学初开展摸底排查")


def test_a_large_towns_coverage_arrives_after_the_page_without_a_click(
    page: Page, live_server, cast, viewport, shoot, monkeypatch
):
    # A town past INLINE_LIMIT (here every town): the counts are shown at once, the term's
    # work is fetched right after and drawn in place, charts included; no error in the console.
    monkeypatch.setattr("guanai.stats.views.INLINE_LIMIT", 0)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _this_terms_work(cast)
    login(page, live_server.url, "town")
    with page.expect_response(lambda r: "part=coverage" in r.url) as later:
        page.goto(f"{live_server.url}/stats/")
    assert later.value.status == 200
    expect(page.locator("[data-count='total']")).to_have_text("6")
    expect(page.locator("#chart-category canvas")).to_have_count(1)
    for key in ("cov_screening", "cov_verification", "cov_visits", "cov_due", "cov_pairing"):
        section = page.locator(f"[data-table='{key}']")
        expect(section.locator(f"#chart-{key} canvas")).to_have_count(1)
        expect(section.locator("table")).to_be_visible()
    expect(page.locator("[data-table='cov_screening'] tbody tr").first).to_contain_text(
        "虎山镇中心小学"
    )
    expect(page.get_by_role("link", name="计算本学期工作覆盖和学期趋势")).to_have_count(0)
    page.locator("[data-table='trend_rates']").scroll_into_view_if_needed()
    expect(page.locator("#chart-trend_rates canvas")).to_have_count(1)
    expect(page.locator("[data-table='trend_rates'] tbody tr")).to_have_count(4)
    page.locator("#coverage").scroll_into_view_if_needed()
    assert_fits_phone(page, viewport)
    shoot(page, "coverage-after", full_page=False)
    # the exports of the panels that came later work as the others
    with page.expect_download() as download:
        page.locator("[data-table='cov_due']").get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.startswith("stats-cov_due-")
    assert errors == [], errors


def test_when_the_coverage_does_not_come_the_card_says_so(
    page: Page, live_server, cast, viewport, monkeypatch
):
    # The fetch after the page fails (a server error, the signal gone): the card says so in
    # Chinese and its button still opens the page with the panels.
    monkeypatch.setattr("guanai.stats.views.INLINE_LIMIT", 0)
    login(page, live_server.url, "town")
    page.route("**/stats/?*part=coverage*", lambda route: route.fulfill(status=500, body="x"))
    page.goto(f"{live_server.url}/stats/")
    card = page.locator("#coverage")
    expect(card.get_by_role("status")).to_have_text(
        "没有算出来（网络或服务器出了问题）。请点下面的按钮再试一次。"
    )
    assert_fits_phone(page, viewport)
    card.get_by_role("link", name="计算本学期工作覆盖和学期趋势").click()
    expect(page.locator("[data-table='cov_screening'] tbody tr").first).to_contain_text(
        "虎山镇中心小学"
    )
