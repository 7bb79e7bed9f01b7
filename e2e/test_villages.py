"""The village children's director (儿童主任) in a real browser, on her phone (390×844) and on a
desktop: she opens her village's list, logs a home visit, and records a signed 委托监护确认书 with
a photo of it. Screenshots go to e2e/screenshots/ — look at them."""

import io
import re

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(out, "JPEG")
    return out.getvalue()


def test_director_visits_and_records_an_entrustment(page: Page, live_server, cast, viewport, shoot):
    from guanai.contacts.models import Contact
    from guanai.villages.models import Entrustment

    director = cast["users"]["village_director"]
    login(page, live_server.url, "village_director")
    page.goto(f"{live_server.url}/villages/")
    expect(page.locator("h1")).to_contain_text("虎山村儿童")
    rows = page.locator("#village-children > li")
    expect(rows).to_have_count(6)  # every cast child lives in 虎山村, across three schools
    expect(page.locator("#village-children")).to_contain_text("板桥小学")
    zhang = rows.filter(has_text="张三")
    expect(zhang).to_contain_text("还没有联系记录")
    expect(zhang).to_contain_text("未签")
    assert_fits_phone(page, viewport)
    shoot(page, "list")

    zhang.get_by_role("link", name="记家访").click()
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#kind-home_visit")).to_be_checked()
    page.get_by_role("button", name="祖母 张奶奶").click()
    page.get_by_label("情况记录").fill("到家看望，奶奶身体好，孩子按时上学")
    assert_fits_phone(page, viewport)
    shoot(page, "visit")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    assert Contact.objects.filter(by=director, kind="home_visit").count() == 1

    page.goto(f"{live_server.url}/villages/")
    zhang = page.locator("#village-children > li").filter(has_text="张三")
    expect(zhang).to_contain_text("最近联系：2026-11-29")
    zhang.get_by_role("link", name="登记确认书").click()
    expect(page.locator("h1")).to_contain_text("委托监护确认书")
    expect(page.get_by_label("受委托监护人姓名")).to_have_value("张奶奶")
    page.get_by_label("签署日期").fill("2026-11-20")
    page.get_by_label("确认书扫描件").set_input_files(
        files=[{"name": "确认书.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    assert_fits_phone(page, viewport)
    shoot(page, "entrust")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/children/\d+/$"))
    expect(page.get_by_role("alert").first).to_contain_text("已登记张三的委托监护确认书")
    assert Entrustment.objects.filter(recorded_by=director).count() == 1

    page.goto(f"{live_server.url}/villages/")
    expect(page.locator("#village-children > li").filter(has_text="张三")).to_contain_text(
        "已签（2026-11-20）"
    )
    page.get_by_role("link", name="委托监护确认书").click()
    expect(page.locator("#entrustment-list")).to_contain_text("张奶奶")
    assert_fits_phone(page, viewport)
    shoot(page, "entrustments")
