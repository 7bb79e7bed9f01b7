"""Roster import and term screening in a real browser, at phone width and on a desktop.

A school leader uploads a messy roster, reads the preview, confirms, watches the background job's
progress bar and downloads the rejected rows; a class teacher screens her class on her phone.
Jobs use the database queue as in production; the test plays the worker (run_job.call) so the
page's progress polling is exercised. Screenshots go to e2e/screenshots/ — look at them.
"""

import datetime as dt
import re

import openpyxl
import pytest
import xlsxwriter
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login, nav


@pytest.fixture
def roster(tmp_path):
    """A school's sheet: a title row above the header, three good rows, an ID that Excel turned
    into a number, and a row without 年级."""
    from guanai.testing import new_id_number

    path = tmp_path / "三年级花名册.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["虎山镇中心小学三年级留守儿童花名册"])
    header = [
        "序号",
        "学生姓名",
        "性别",
        "身份证号码",
        "年级",
        "班级",
        "父亲状况",
        "母亲状况",
        "监护人姓名",
        "监护人联系电话",
    ]
    sheet.write_row(1, 0, header)
    rows = [
        [
            1,
            "周小雨",
            "女",
            new_id_number(dt.date(2016, 9, 1), "female"),
            "三年级",
            "(1)班",
            "打工",
            "在家",
            "周奶奶",
            "139 1234 5678",
        ],
        [
            2,
            "吴小刚",
            "男",
            new_id_number(dt.date(2016, 10, 2)),
            3,
            1,
            "外出务工",
            "外出务工",
            "吴爷爷",
            "13812340000",
        ],
        [
            3,
            "郑小花",
            "女",
            new_id_number(dt.date(2016, 11, 3), "female"),
            "3",
            "2班",
            "在家",
            "在家",
            "郑母",
            "0739-8123456",
        ],
        [
            4,
            "冯小军",
            "男",
            4.31121201612e17,
            "3",
            "1",
            "外出务工",
            "在家",
            "冯奶奶",
            "13712345678",
        ],
        [
            5,
            "陈小美",
            "女",
            new_id_number(dt.date(2016, 12, 4), "female"),
            "",
            "1",
            "在家",
            "在家",
            "陈母",
            "13612345678",
        ],
    ]
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(i, j, value)
            else:
                sheet.write_number(i, j, value)
    book.close()
    return path


def _work_the_queue(page: Page) -> int:
    """Play the background worker for the job on this page."""
    from guanai.jobs.services import run_job

    job_id = int(re.search(r"/imports/(\d+)/", page.url)[1])
    run_job.call(job_id)
    return job_id


def test_leader_imports_roster_with_preview_progress_and_rejected_rows(
    page, live_server, cast, viewport, shoot, roster
):
    from guanai.children.models import Child

    login(page, live_server.url, "zx_leader")
    nav(page, "摸排与核实")
    expect(page.locator("h1")).to_contain_text("摸底排查")
    page.get_by_role("link", name="导入花名册").click()
    expect(page.locator("h1")).to_have_text("导入花名册")
    expect(page.get_by_label("学校")).to_have_value(str(cast["schools"]["zx"].pk))
    page.get_by_label("花名册文件").set_input_files(str(roster))
    assert_fits_phone(page, viewport)
    shoot(page, "upload")
    page.get_by_role("button", name="上传并预览").click()

    # The preview is a queued job: a progress bar, polling, until the worker has run it.
    expect(page).to_have_url(re.compile(r"/screening/imports/\d+/$"))
    bar = page.get_by_role("progressbar", name="进度")
    expect(bar).to_be_visible()
    expect(page.locator("#import-status")).to_contain_text("排队中")
    shoot(page, "queued")
    _work_the_queue(page)
    expect(page.locator("#import-status")).to_contain_text("这是预览", timeout=8000)
    expect(page.locator('[data-count="rows"]')).to_have_text("5")
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    expect(page.locator('[data-count="rejected"]')).to_have_text("2")
    errors = page.locator("#errors")
    expect(errors).to_contain_text("身份证号")
    expect(errors).to_contain_text("年级")
    assert Child.objects.filter(name="周小雨").count() == 0  # a preview writes nothing
    assert_fits_phone(page, viewport)
    shoot(page, "preview")

    page.get_by_role("button", name=re.compile("确认导入 3 行")).click()
    expect(page.locator("h1")).to_contain_text("导入")
    expect(page.locator("#import-status")).to_contain_text("排队中")
    _work_the_queue(page)
    expect(page.locator("#import-done")).to_be_visible(timeout=8000)
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    assert set(
        Child.objects.filter(name__in=["周小雨", "吴小刚", "郑小花"]).values_list("name", flat=True)
    ) == {"周小雨", "吴小刚", "郑小花"}
    assert_fits_phone(page, viewport)
    shoot(page, "imported")

    with page.expect_download() as info:
        page.locator("#download-rejected").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as fh:
        sheet = openpyxl.load_workbook(fh).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "错误原因"
    names = [r[rows[1].index("姓名")] for r in rows[2:]]
    assert names == ["冯小军", "陈小美"]
    assert "Excel" in rows[2][0]  # the ID turned into a number, said in Chinese


def test_class_teacher_screens_her_class_on_the_phone(page, live_server, cast, viewport, shoot):
    from guanai.screening.models import ScreeningRecord
    from guanai.screening.services import open_campaign
    from guanai.testing import make_child

    campaign = open_campaign(school=cast["schools"]["zx"], term="", by=cast["users"]["zx_leader"])
    make_child(cast["classes"]["c31"], name="钱多多", **{"father.status": "", "mother.status": ""})
    login(page, live_server.url, "zx_teacher31")
    nav(page, "摸排与核实")
    expect(page.locator("main")).to_contain_text("已摸排 0 / 3")
    assert_fits_phone(page, viewport)
    shoot(page, "index")
    page.get_by_role("link", name="去摸排").click()
    expect(page.locator("h1")).to_contain_text("摸底排查")
    students = page.locator("#students tbody tr")
    expect(students).to_have_count(3)  # her class only
    assert_fits_phone(page, viewport)
    shoot(page, "class")

    # 单小明: the mother is back from Guangdong since last month — 非留守 now.
    row = students.filter(has_text="单小明")
    row.get_by_role("link", name="核对").click()
    expect(page.locator("h1")).to_contain_text("单小明")
    expect(page.locator("#category")).to_have_text("单留守")
    page.get_by_label("母亲状况", exact=True).select_option("home")
    page.get_by_label("监护人电话").fill("137 0000 1111")
    page.get_by_label("备注（可选）").fill("电话核实，母亲已返乡")
    assert_fits_phone(page, viewport)
    shoot(page, "form")
    page.get_by_role("button", name="保存并标记已摸排").click()
    # Saved, and on to the next child of the class still to screen.
    expect(page.get_by_role("alert").first).to_contain_text("单小明 已标记为已摸排")
    expect(page.get_by_role("alert").first).to_contain_text("下一个：张三")
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#next-child")).to_contain_text("钱多多")
    assert_fits_phone(page, viewport)
    shoot(page, "next", full_page=False)
    page.get_by_role("link", name=re.compile("摸底排查$")).click()
    row = page.locator("#students tbody tr").filter(has_text="单小明")
    expect(row).to_contain_text("已核对情况")
    expect(row).to_contain_text("非留守")

    # 钱多多's parents were never recorded: both at home. 非留守 is a deliberate step: the row
    # says what will be recorded and asks to confirm (swapped in by htmx).
    row = page.locator("#students tbody tr").filter(has_text="钱多多")
    expect(row).to_contain_text("未摸排")
    row.get_by_role("link", name="非留守").click()
    confirm = page.locator("#confirm-none")
    expect(confirm).to_contain_text("父亲状况：记为在家")
    expect(confirm).to_contain_text("父母均在家")
    assert ScreeningRecord.objects.filter(campaign=campaign).count() == 1  # nothing yet
    assert_fits_phone(page, viewport)
    shoot(page, "confirm")
    confirm.get_by_role("button", name="确认非留守").click()
    expect(page.locator("#students tbody tr").filter(has_text="钱多多")).to_contain_text(
        "✓ 确认非留守"
    )
    assert ScreeningRecord.objects.filter(campaign=campaign).count() == 2
    page.reload()
    expect(page.locator("main")).to_contain_text("已摸排 2 / 3")
    assert_fits_phone(page, viewport)
    shoot(page, "done")


def test_vacation_verification_card_plan_and_grade_sign_off(
    page, live_server, cast, viewport, shoot
):
    from guanai.screening.models import CardVerification, GradeSignOff, VacationPlan
    from guanai.screening.services import this_term
    from guanai.screening.verification import open_round, verify_card

    term = this_term()
    rnd = open_round(
        school=cast["schools"]["zx"],
        term=term,
        vacation="winter" if term.endswith("-1") else "summer",
        deadline=timezone.localdate() + dt.timedelta(days=14),
        by=cast["users"]["zx_leader"],
    )
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/screening/verification/{rnd.pk}/")
    expect(page.locator("h1")).to_contain_text("前核实")
    expect(page.locator("#cards tbody tr")).to_have_count(2)
    assert_fits_phone(page, viewport)
    shoot(page, "round")
    page.locator("#cards tbody tr").filter(has_text="张三").get_by_role("link", name="核实").click()
    expect(page.locator("h1")).to_contain_text("张三")
    assert_fits_phone(page, viewport)
    shoot(page, "verify-form")
    # Nothing is ticked beforehand: submitting untouched verifies nothing.
    page.get_by_role("button", name="提交核实").click()
    expect(
        page.get_by_role("alert").filter(has_text="请勾选已与监护人核对过的信息组")
    ).to_be_visible()
    assert not CardVerification.objects.exists()
    page.get_by_label("村", exact=True).fill("板桥村")
    page.get_by_label("已核对家庭住址").check()
    page.get_by_label("已核对父母").check()
    # a group shown read-only is ticked only after opening it
    page.locator("#group-basic summary").click()
    page.get_by_label("已核对基本信息").check()
    page.get_by_role("button", name="提交核实").click()
    expect(page.locator("#verified")).to_contain_text("已更正")
    expect(page.locator("#verified")).to_contain_text("基本信息、家庭住址、父母")
    expect(page.locator("#asked")).to_contain_text("登记假期去向")
    expect(page.locator("#freshness")).to_contain_text("王老师")
    page.get_by_label("假期去向").select_option("relatives")
    page.get_by_label("去向地点").fill("县城姑姑家")
    page.get_by_label("安全责任书已交回").check()
    page.get_by_label("防溺水").check()
    page.get_by_label("交通安全").check()
    page.get_by_role("button", name="保存假期去向").click()
    expect(page.get_by_role("alert").first).to_contain_text("已保存")
    # 张三 is done: the next child of the class with work left opens
    expect(page.locator("h1")).to_contain_text("单小明")
    assert_fits_phone(page, viewport)
    shoot(page, "card")
    plan = VacationPlan.objects.get(round=rnd)
    assert plan.pledge_returned and plan.pledge_items == ["swimming", "traffic"]
    verification = CardVerification.objects.get(round=rnd)
    assert verification.result == "corrected"
    assert verification.groups == ["address", "basic", "parents"]

    # the rest of grade 3 is verified, but two plans and pledges are missing: no sign-off yet
    from guanai.children.models import Child
    from guanai.screening.verification import save_vacation_plan

    for key in ("c31b", "c32a"):
        child = Child.objects.get(pk=cast["children"][key].pk)
        verify_card(
            round=rnd,
            child=child,
            data={},
            version=child.version,
            groups=["parents", "guardian"],
            by=cast["users"]["zx_teacher31"],
        )
    login(page, live_server.url, "zx_grade3")
    page.goto(f"{live_server.url}/screening/verification/{rnd.pk}/")
    grade = page.locator("#grade-3")
    expect(grade).to_contain_text("2 人未登记假期去向")
    expect(grade).to_contain_text("补齐后可签字")
    expect(grade.get_by_role("button", name="签字确认")).to_have_count(0)
    grade.get_by_role("link", name="2 人未登记假期去向").click()
    expect(page.locator("#cards tbody tr")).to_have_count(2)
    assert_fits_phone(page, viewport)
    shoot(page, "missing")
    for key in ("c31b", "c32a"):
        save_vacation_plan(
            round=rnd,
            child=cast["children"][key],
            data={"destination": "home", "pledge_returned": True},
            by=cast["users"]["zx_teacher31"],
        )
    page.goto(f"{live_server.url}/screening/verification/{rnd.pk}/")
    page.locator("#grade-3").get_by_role("button", name="签字确认").click()
    expect(page.get_by_role("alert").first).to_contain_text("已签字确认")
    expect(page.locator("#grade-3")).to_contain_text("陈主任")
    assert GradeSignOff.objects.filter(round=rnd, grade=3).exists()
    assert_fits_phone(page, viewport)
    shoot(page, "signed")


def test_leader_transfers_a_child_and_previews_the_roll_over(
    page, live_server, cast, viewport, shoot
):
    from guanai.children.models import Child

    login(page, live_server.url, "zx_leader")
    page.goto(f"{live_server.url}/screening/counts/")
    zx = page.locator('#counts tr[data-school="HS-ZX"] [data-count="enrolled"]')
    expect(zx).to_have_text("4")
    page.get_by_role("link", name="转学").click()
    page.get_by_role("searchbox", name="查找学生").fill("李四")
    page.get_by_role("button", name="查找").click()
    page.locator("#found").get_by_role("link", name="办理转学").click()
    expect(page.locator("h1")).to_contain_text("李四")
    page.get_by_label("转入班级").select_option(label="板桥小学 三年级(1)班")
    page.get_by_label("转学原因").fill("随父母返乡，就近到板桥小学就读")
    assert_fits_phone(page, viewport)
    shoot(page, "transfer")
    page.get_by_role("button", name="确认转学").click()
    expect(page.get_by_role("alert").first).to_contain_text("李四 已转入板桥小学")
    expect(page.locator("#transitions")).to_contain_text("随父母返乡")
    assert Child.objects.get(pk=cast["children"]["c32a"].pk).school == cast["schools"]["bq"]
    page.get_by_role("link", name="某日人数").click()
    expect(zx).to_have_text("3")

    page.get_by_role("link", name="学年升级").click()
    expect(page.locator("#preview")).to_contain_text("三年级")
    expect(page.locator("#preview")).to_contain_text("四年级")
    assert_fits_phone(page, viewport)
    shoot(page, "rollover")
