"""督导检查 in a real browser at phone width (390×844) and on a desktop (1366×768): the inspector
draws a sample choosing the town administrator as a second inspector, re-verifies it, starts the
visit, attaches the activity plan (PDF) and a meeting photo to a checklist item, records two
children's findings, raises an item; the school leader reports it done with evidence (text and
a Word file) and the inspector closes it.
Screenshots go to e2e/screenshots/ (git-ignored)."""

import datetime as dt

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _docx() -> bytes:
    import io

    import docx

    out = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("家访记录补录情况")
    document.save(out)
    return out.getvalue()


def _school(cast) -> None:
    """板桥小学 gets six more left-behind children over grades 1 and 5."""
    from guanai.testing import make_child, make_class

    bq = cast["schools"]["bq"]
    for grade in (1, 5):
        for i in range(3):
            make_child(
                make_class(bq, grade, 1),
                name=f"板桥{grade}{i}",
                birth=dt.date(2019 - grade, 3, 1 + i),
            )


def test_inspector_draws_visits_and_follows_an_item_to_closure(
    page: Page, live_server, cast, viewport, shoot
):
    _school(cast)
    base = live_server.url
    login(page, base, "inspector")
    page.goto(f"{base}/inspections/")
    expect(page.locator("#empty")).to_contain_text("还没有督导检查")
    page.get_by_role("link", name="新建检查并抽样").click()
    page.get_by_label("学校").select_option(label="板桥小学")
    page.get_by_label("计划日期").fill("2026-12-10")
    page.get_by_label("抽样人数").fill("4")
    page.get_by_label("随机种子").fill("浏览器")
    expect(page.get_by_label("督导员", exact=True)).to_be_checked()  # the one planning it
    page.get_by_label("镇管理员", exact=True).check()
    expect(page.get_by_label("上次检查（复查时选择）")).to_have_value("")
    assert_fits_phone(page, viewport)
    shoot(page, "draw")
    page.get_by_role("button", name="抽样并创建检查").click()
    expect(page.get_by_role("alert")).to_contain_text("已抽取 4 名儿童，随机种子 浏览器")
    expect(page.locator("#sample tbody tr")).to_have_count(4)
    expect(page.locator("#team")).to_contain_text("检查人员：督导员、镇管理员")
    page.get_by_role("link", name="重新验证抽样").click()
    expect(page.locator("#verify-result")).to_contain_text("抽样一致")
    page.get_by_role("button", name="开始检查（学校将看到抽样名单）").click()
    expect(page.locator("#status")).to_have_text("进行中")
    shoot(page, "started")

    # the activity plan and a photo of the teachers' meeting on the checklist item
    files = page.get_by_label("活动方案附件（照片、PDF、Word、Excel）")
    page.locator("details", has=files).locator("summary").click()
    files.set_input_files(
        [
            {"name": "活动方案.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "座谈会.png", "mimeType": "image/png", "buffer": _png()},
        ]
    )
    files.locator("xpath=following-sibling::button").click()
    expect(page.get_by_role("alert")).to_contain_text("已在“活动方案”上传 2 个附件")
    expect(page.get_by_role("link", name="活动方案.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="座谈会.jpg")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="活动方案.pdf").click()
    assert download.value.suggested_filename == "活动方案.pdf"
    # a page renamed .pdf is refused, in Chinese
    files = page.get_by_label("活动方案附件（照片、PDF、Word、Excel）")
    page.locator("details", has=files).locator("summary").click()
    files.set_input_files(
        [{"name": "方案.pdf", "mimeType": "application/pdf", "buffer": b"<html>x</html>"}]
    )
    files.locator("xpath=following-sibling::button").click()
    expect(page.get_by_role("alert")).to_contain_text("不是真正的 PDF 文件")
    assert_fits_phone(page, viewport)
    shoot(page, "attachments")

    # two visits from the village
    for i, wrong in enumerate((False, True)):
        page.locator("#sample tbody tr").nth(i).get_by_role("link", name="记录走访").click()
        page.get_by_label("见到的人").fill("奶奶")
        for field in ("家庭住址", "监护人", "父亲状况"):
            page.locator("fieldset", has_text=field).first.get_by_label("正确", exact=True).check()
        if wrong:
            phone = page.locator("fieldset", has_text="监护人电话")
            phone.get_by_label("不正确").check()
            phone.get_by_placeholder("不正确时填写实际情况").fill("13700001111")
        assert_fits_phone(page, viewport)
        if i == 1:
            shoot(page, "visit")
        page.get_by_role("button", name="保存走访结果").click()
        expect(page.get_by_role("alert")).to_contain_text("的走访结果")
    expect(page.locator("#accuracy-rate")).to_have_text("85.7%")  # 7 fields checked, 1 wrong

    # an item for the school leader
    form = page.locator("#raise-item")
    form.get_by_label("整改事项").fill("补齐家访记录")
    form.get_by_label("责任人").select_option(label="赵校长")
    form.get_by_label("整改期限").fill("2026-12-20")
    form.get_by_role("button", name="提出整改事项").click()
    expect(page.get_by_role("alert")).to_contain_text("已提出整改事项")
    expect(page.locator("#items")).to_contain_text("补齐家访记录")
    shoot(page, "detail")

    # the school leader reports it done with evidence
    login(page, base, "bq_leader")
    page.goto(f"{base}/inspections/items/")
    item = page.locator(".item", has_text="补齐家访记录")
    item.get_by_label("整改情况").fill("已补录三个班的家访记录")
    item.get_by_label("证明材料（可选：PDF、Word、Excel 或照片）").set_input_files(
        [
            {
                "name": "家访记录.docx",
                "mimeType": "application/vnd.openxmlformats-officedocument"
                ".wordprocessingml.document",
                "buffer": _docx(),
            }
        ]
    )
    item.get_by_role("button", name="提交整改情况").click()
    expect(page.get_by_role("alert")).to_contain_text("已提交整改情况")
    assert_fits_phone(page, viewport)
    expect(page.locator(".item", has_text="补齐家访记录")).to_contain_text("已整改待验收")
    expect(page.locator(".item", has_text="补齐家访记录")).to_contain_text("家访记录.docx")
    shoot(page, "done")

    # the inspector closes it
    login(page, base, "inspector")
    page.goto(f"{base}/inspections/items/?status=done")
    page.locator(".item", has_text="补齐家访记录").get_by_role("button", name="验收销号").click()
    expect(page.get_by_role("alert")).to_contain_text("整改事项已销号")
    page.goto(f"{base}/inspections/items/?status=closed")
    expect(page.locator(".item", has_text="补齐家访记录")).to_contain_text("已销号")
