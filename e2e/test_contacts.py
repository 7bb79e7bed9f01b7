"""家校联系 in a real browser, at phone width (390×844) and on a desktop (1366×768):
a class teacher logs a home visit with a follow-up (surviving a dropped connection without a
duplicate) and finds the follow-up on her home page; a school leader prints a class's letters
(one per family: twins share one) and records the returned slips, one slip counting for both
twins. Screenshots go to e2e/screenshots/ — look at them.
"""

import io
import re

import pytest
from playwright.sync_api import Page, Route, expect
from pypdf import PdfReader

from e2e.conftest import assert_fits_phone, login


@pytest.fixture
def immediate_jobs(settings, tmp_path):
    """Background jobs run inside the request (no worker in the browser tests)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DATA_DIR = tmp_path


def test_teacher_logs_a_home_visit_with_a_follow_up_on_her_phone(
    page: Page, live_server, cast, viewport, shoot
):
    from guanai.children.models import Child
    from guanai.contacts.models import Contact

    kids, teacher = cast["children"], cast["users"]["zx_teacher31"]
    Child.objects.filter(pk__in=[kids["c31a"].pk, kids["c31b"].pk]).update(
        responsible_teacher=teacher
    )
    login(page, live_server.url, "zx_teacher31")
    panel = page.locator("#follow-ups")
    expect(panel).to_contain_text("没有待跟进的事项")
    shoot(page, "home-before")

    panel.get_by_role("link", name="记家访 / 电话").click()
    expect(page.locator("h1")).to_contain_text("家校联系")
    rows = page.locator(".child-pick li")
    expect(rows).to_have_count(2)  # her class only, both hers
    expect(rows.first).to_contain_text("我的")
    assert_fits_phone(page, viewport)
    shoot(page, "pick")

    rows.filter(has_text="张三").get_by_role("link", name="记家访").click()
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#last-visit")).to_contain_text("第一次家访")
    expect(page.locator("#kind-home_visit")).to_be_checked()
    page.get_by_role("button", name="祖母 张奶奶").click()
    page.locator("label[for='safety_level-follow_up']").click()
    page.get_by_label("安全情况").fill("家门口水塘没有护栏")
    page.locator("label[for='study_level-normal']").click()
    page.get_by_label("情况记录").fill("请村委会在水塘边加护栏，一周内再来看")
    page.get_by_role("button", name="一周内").click()
    assert_fits_phone(page, viewport)
    shoot(page, "form")

    # The save reaches the server but the answer is lost on the way back (a village signal).
    def drop_answer(route: Route) -> None:
        route.fetch()  # the server saves the visit
        route.abort("internetdisconnected")

    form_url = re.compile(r"/contacts/new/")
    page.route(form_url, drop_answer)
    page.get_by_role("button", name="保存").click()
    page.wait_for_timeout(500)
    page.unroute(form_url)
    assert Contact.objects.count() == 1

    # She opens the form again: what she typed is still there, and saving again is harmless.
    page.goto(f"{live_server.url}/contacts/new/?child={kids['c31a'].pk}&kind=home_visit")
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.get_by_label("安全情况")).to_have_value("家门口水塘没有护栏")
    expect(page.locator("#safety_level-follow_up")).to_be_checked()
    shoot(page, "restored")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("没有重复保存")
    assert Contact.objects.count() == 1
    visit = Contact.objects.get()
    assert (visit.kind, visit.with_whom, visit.safety_level) == (
        "home_visit",
        "祖母 张奶奶",
        "follow_up",
    )
    assert visit.follow_up_by is not None

    # The draft is gone once saved: a new form for the same child starts empty.
    page.goto(f"{live_server.url}/contacts/new/?child={kids['c31a'].pk}")
    expect(page.locator("#draft-note")).to_be_hidden()
    expect(page.locator("#last-visit")).to_contain_text("家门口水塘没有护栏")
    shoot(page, "last-visit")

    page.goto(f"{live_server.url}/")
    item = page.locator(f"[data-follow-up='{visit.pk}']")
    expect(item).to_contain_text("张三")
    expect(item).to_contain_text("请村委会在水塘边加护栏")
    expect(item).to_contain_text(f"截止 {visit.follow_up_by:%Y-%m-%d}")
    assert_fits_phone(page, viewport)
    shoot(page, "home-follow-up")

    # The card shows the timeline (loaded by HTMX).
    page.goto(f"{live_server.url}/children/{kids['c31a'].pk}/")
    timeline = page.locator("#contact-timeline")
    expect(timeline).to_contain_text("家访")
    expect(timeline).to_contain_text("待跟进")
    shoot(page, "card")

    page.goto(f"{live_server.url}/")
    item = page.locator(f"[data-follow-up='{visit.pk}']")
    item.get_by_role("button", name="完成").click()  # one tap records nothing: asked what
    expect(item).to_have_count(1)
    assert Contact.objects.get().follow_up_done_at is None
    item.get_by_label("跟进结果").fill("村委已装护栏")
    assert_fits_phone(page, viewport)
    shoot(page, "follow-up-done")
    item.get_by_role("button", name="完成").click()
    expect(page.get_by_role("alert")).to_contain_text("跟进事项已完成")
    expect(page.locator(f"[data-follow-up='{visit.pk}']")).to_have_count(0)
    page.goto(f"{live_server.url}/children/{kids['c31a'].pk}/")
    expect(page.locator("#contact-timeline")).to_contain_text("跟进已完成")
    expect(page.locator("#contact-timeline")).to_contain_text("王老师：村委已装护栏")


def test_leader_prints_a_class_letters_and_records_returned_slips(
    page: Page, live_server, cast, viewport, shoot, immediate_jobs
):
    from guanai.children.models import Guardian
    from guanai.contacts.models import Contact, Letter
    from guanai.testing import make_child

    # 张三 has a twin brother in his class, raised by the same grandmother; 单小明's family is
    # another (the cast's builder gives every child the same grandmother's phone)
    san, xiaoming = cast["children"]["c31a"], cast["children"]["c31b"]
    Guardian.objects.filter(child=xiaoming).update(name="单爷爷", phone="13700001111")
    si = make_child(cast["classes"]["c31"], name="张四", birth=san.birth_date)

    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/contacts/letters/")
    expect(page.get_by_text("还没有打印过家长信")).to_be_visible()
    page.get_by_role("link", name="打印家长信").click()
    page.get_by_label("信件").select_option(label="暑假安全致家长的一封信")
    page.get_by_label("范围（班级、年级或全校）").select_option(label="虎山镇中心小学 三年级(1)班")
    page.get_by_label("假期开始").fill("2027-07-10")
    page.get_by_label("假期结束").fill("2027-08-31")
    page.get_by_label("返校日期").fill("2027-08-01")  # before the vacation ends: refused
    page.get_by_role("button", name="生成 PDF").click()
    expect(page.locator("#id_return_on + .invalid-feedback")).to_have_text(
        "返校日期不能早于假期结束"
    )
    shoot(page, "print-refused")
    page.get_by_label("返校日期").fill("2027-09-01")
    assert_fits_phone(page, viewport)
    shoot(page, "print")
    page.get_by_role("button", name="生成 PDF").click()

    expect(page.locator("h1")).to_have_text("暑假安全致家长的一封信")
    download_link = page.get_by_role("link", name=re.compile("下载 PDF（2 封）"))
    expect(download_link).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    pdf = PdfReader(io.BytesIO(open(info.value.path(), "rb").read()))  # noqa: SIM115
    text = "".join(p.extract_text() for p in pdf.pages).replace(" ", "").replace("\n", "")
    assert len(pdf.pages) == 2
    assert "尊敬的张奶奶" in text and "2027年7月10日" in text and "回执" in text
    # no phone on record for 王老师 nor for the school: a line to write them on by hand
    assert "请与班主任王老师（电话：____________）或学校（电话：____________）联系" in text

    assert "为了让张三、张四同学" in text and "尊敬的单爷爷" in text
    assert "张三、张四（三年级(1)班）" in text  # the twins' one slip names both
    letters = {x.child.name: x.code for x in Letter.objects.select_related("child")}
    assert set(letters) == {"张三", "单小明"}  # twins: the letter is the first on record
    assert all(code in text for code in letters.values())
    expect(page.locator("#receipts")).to_contain_text("0 / 2 户")
    expect(page.locator("#receipts .missing .family")).to_have_text(["单小明", "张三、张四"])
    shoot(page, "batch")

    field = page.get_by_label("回执编号")
    field.fill(letters["张三"].lower())  # typed in lower case: still found
    field.press("Enter")
    log = page.locator("#receipt-log")
    expect(log).to_contain_text("张三、张四（三年级(1)班）：已登记回执")
    expect(log).to_contain_text("2 名学生都记为书信联系")
    expect(page.locator("[data-count='returned']")).to_have_text("1")
    expect(page.locator("#receipts .missing")).to_have_text("单小明")
    letter_contacts = Contact.objects.filter(kind="letter")
    assert set(letter_contacts.values_list("child", flat=True)) == {san.pk, si.pk}
    field.fill(letters["张三"])  # the same slip scanned again changes nothing
    field.press("Enter")
    expect(log.locator("li").first).to_contain_text("已登记过")
    assert letter_contacts.count() == 2
    field.fill("XXXXXX")
    field.press("Enter")
    expect(log.locator("li").first).to_contain_text("没有找到")
    assert_fits_phone(page, viewport)
    shoot(page, "receipts")

    page.goto(f"{live_server.url}/contacts/letters/")
    expect(page.locator("tbody tr").first).to_contain_text("1 / 2")  # families
    shoot(page, "letters")


def test_proxy_parent_logs_a_meeting_and_reads_only_the_date_of_others_contacts(
    page: Page, live_server, cast, viewport, shoot
):
    import datetime as dt

    from django.utils import timezone

    from guanai.children.models import Child
    from guanai.contacts.models import Contact

    kid, users = cast["children"]["c32a"], cast["users"]
    Child.objects.update(created_at=timezone.now() - dt.timedelta(days=120))
    Contact.objects.create(
        child=kid,
        by=users["zx_counselor"],
        kind="home_visit",
        at=timezone.now() - dt.timedelta(days=2),
        with_whom="祖母 张奶奶",
        notes="父母离异，母亲多年未联系",
        psych_level="watch",
        psych_text="情绪低落",
    )
    login(page, live_server.url, "proxy_wang")
    page.goto(f"{live_server.url}/contacts/new/?child={kid.pk}")
    kinds = page.locator(".kind-picker label")
    expect(kinds).to_have_text(["见面", "家访", "电话", "视频"])
    expect(page.locator("#kind-meeting")).to_be_checked()
    expect(page.locator("#last-visit")).to_contain_text("上次家访")
    expect(page.locator("#last-visit")).not_to_contain_text("父母离异")
    expect(page.get_by_text("心理", exact=True)).to_have_count(0)
    page.get_by_label("见到 / 联系了谁").fill("李四")
    page.get_by_label("情况记录").fill("周末一起写作业，买了文具")
    assert_fits_phone(page, viewport)
    shoot(page, "form")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("李四：见面已保存")
    assert Contact.objects.get(by=users["proxy_wang"]).kind == "meeting"

    page.goto(f"{live_server.url}/children/{kid.pk}/")
    timeline = page.locator("#contact-timeline")
    expect(timeline).to_contain_text("周末一起写作业")  # his own, in full
    expect(timeline.locator("[data-hidden-details]")).to_contain_text("家访")
    for secret in ("父母离异", "情绪低落", "祖母 张奶奶", "周老师"):
        expect(page.locator("main")).not_to_contain_text(secret)
    expect(page.locator("main")).not_to_contain_text("监护情况评估")
    shoot(page, "card")

    page.goto(f"{live_server.url}/contacts/due/")
    expect(page.locator("main")).to_contain_text("代理家长每周联系")
    expect(page.locator("main")).not_to_contain_text("每学期家访")
    assert_fits_phone(page, viewport)
    shoot(page, "due")


def test_class_teacher_due_list_one_row_per_child(page: Page, live_server, cast, viewport, shoot):
    """The due list a class teacher opens in the village: one row per child with each rule
    under the name, the buttons beside it, nothing wider than the phone (issue #12)."""
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/contacts/due/")
    rows = page.locator(".due-row")
    expect(rows.first).to_be_visible()
    ids = rows.evaluate_all("els => els.map(e => e.dataset.childRow)")
    assert len(ids) == len(set(ids))  # one row per child, however many rules are due
    assert page.locator(".due-rule").count() >= len(ids)
    expect(rows.first.get_by_role("link", name="记录")).to_be_visible()
    assert_fits_phone(page, viewport)
    shoot(page, "teacher-due")
