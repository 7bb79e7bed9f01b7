"""A whole school's printable cards in a real browser, at phone width (390×844) and on a desktop
(1366×768): a school leader filters the list to her school, follows 打印全校档卡, starts the job,
watches it go class by class (the page polls itself) and downloads one PDF, a page a child.
The test plays the background worker (run_job.call) in a thread it holds at the second class,
so the progress bar is seen mid-way. Screenshots go to e2e/screenshots/ — look at them."""

import io
import re
import threading

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from e2e.conftest import assert_fits_phone, login


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_leader_prints_the_whole_school_in_the_background(
    page: Page, live_server, cast, viewport, shoot, data_dir, monkeypatch
):
    from guanai.accounts.models import AccessAction, AccessLog
    from guanai.children import cards_pdf as P
    from guanai.jobs.services import run_job

    # Rendering PDFs in the live server shares two cores with the browser: allow it time.
    page.set_default_timeout(30_000)
    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/children/?school=HS-ZX")
    page.locator("#print-school-cards").click()
    expect(page.locator("h1")).to_have_text("虎山镇中心小学 全校档卡")
    expect(page.locator("#cards-count")).to_have_text("4")
    expect(page.locator("#classes-count")).to_have_text("3")
    assert_fits_phone(page, viewport)
    shoot(page, "start")

    page.get_by_role("button", name="开始生成全校档卡").click()
    expect(page).to_have_url(re.compile(r"/children/cards/jobs/\d+/$"))
    expect(page.get_by_role("progressbar", name="进度")).to_be_visible()
    expect(page.locator("#job-progress")).to_contain_text("排队中")
    job_id = int(re.search(r"/jobs/(\d+)/", page.url)[1])

    # The worker, held at the second class until the page has shown it.
    second, go_on = threading.Event(), threading.Event()
    real = P.cards_pdf
    calls = []

    def held(children, **kw):
        calls.append(len(children))
        if len(calls) == 2:
            second.set()
            go_on.wait(30)
        return real(children, **kw)

    monkeypatch.setattr(P, "cards_pdf", held)
    worker = threading.Thread(target=run_job.call, args=(job_id,), daemon=True)
    worker.start()
    assert second.wait(60)
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text(
        "正在生成第 2/3 个班：三年级(2)班；已生成档卡（2 / 4）", timeout=8000
    )
    expect(progress).to_contain_text("50%")
    assert_fits_phone(page, viewport)
    shoot(page, "progress")
    go_on.set()
    worker.join(60)

    download_button = page.get_by_role("link", name="下载全校档卡（4 张，PDF）")
    expect(download_button).to_be_visible(timeout=8000)
    expect(progress).to_contain_text("100%")
    assert_fits_phone(page, viewport)
    shoot(page, "done")
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == "虎山镇中心小学 全校档案卡.pdf"
    with open(download.path(), "rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) == 4 and all(n in text for n in ("张三", "单小明", "李四", "王五"))
    assert AccessLog.objects.filter(
        action=AccessAction.EXPORT, detail__startswith="打印档卡 4 张"
    ).exists()
