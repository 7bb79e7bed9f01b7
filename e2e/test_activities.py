"""关爱活动 in a real browser at phone width (390×844) and on a desktop (1366×768): the school
leader plans a camp and puts class 3-1 on the list; the class teacher takes the roll on her
phone (tap a name, add a late-comer found by pinyin initials); then 板桥小学's leader puts
himself on the children's home's rota, signs a child in at the door (the sign-in names him as
on duty), logs a family call and signs her out; and 中心小学's leader records a donation,
allocates it to two children, is refused an allocation beyond the balance and downloads the
donor's certificate.
Screenshots go to e2e/screenshots/ (git-ignored)."""

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login


def test_a_camp_is_planned_and_the_roll_taken_on_a_phone(
    page: Page, live_server, cast, viewport, shoot
):
    base = live_server.url
    login(page, base, "zx_leader")
    page.goto(f"{base}/activities/")
    expect(page.locator("#empty")).to_contain_text("还没有活动")
    page.get_by_role("link", name="新建活动").click()
    page.get_by_label("活动类型").select_option(label="暑期意志营")
    page.get_by_label("活动名称").fill("冬季意志营")
    page.get_by_label("开始日期").fill("2026-11-27")
    page.get_by_label("合作单位").fill("团委、妇联")
    assert_fits_phone(page, viewport)
    shoot(page, "plan")
    page.get_by_role("button", name="保存并选择儿童").click()
    expect(page.get_by_role("alert")).to_contain_text("已建立活动“冬季意志营”")
    page.get_by_label("班级").select_option(label="三年级(1)班")
    page.get_by_label("留守类别").select_option(label="全部留守儿童")
    page.get_by_role("button", name="列出").click()
    page.locator("#pick-form").get_by_label("单小明").uncheck()
    page.get_by_role("button", name="加入名单（2 人）").click()  # 1 checked of 2 listed
    expect(page.locator("#participants li")).to_have_count(1)

    login(page, base, "zx_teacher31")
    page.goto(f"{base}/activities/")
    page.get_by_role("link", name="冬季意志营").click()
    page.get_by_role("link", name="点名").click()
    row = page.locator("#roll form").first
    expect(row).to_contain_text("张三")
    expect(row).to_contain_text("未点名")
    row.get_by_role("button").click()
    expect(page.locator("#roll form").first).to_contain_text("✓ 到场")
    page.get_by_label("搜索儿童").fill("dxm")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("button", name="单小明").click()
    expect(page.locator("#roll form", has_text="单小明")).to_contain_text("✓ 到场")
    assert_fits_phone(page, viewport)
    shoot(page, "roll")
    page.goto(f"{base}/activities/coverage/")
    expect(page.locator(".coverage-class")).to_contain_text("2 / 2 人参加")


def test_a_child_is_signed_in_at_the_childrens_home_door(
    page: Page, live_server, cast, viewport, shoot
):
    base = live_server.url
    login(page, base, "bq_leader")
    page.goto(f"{base}/activities/homes/")
    expect(page.locator("#empty")).to_contain_text("还没有留守儿童之家")
    page.get_by_label("名称").fill("板桥留守儿童之家")
    page.get_by_label("设施").fill("亲情电话、图书")
    page.get_by_role("button", name="建立").click()
    expect(page.locator("#on-duty")).to_contain_text("现在没有人值班")
    page.get_by_role("link", name="值班表").click()
    page.get_by_label("值班人员").select_option(label="赵校长")
    page.get_by_label("开始时间").fill("09:00")
    page.get_by_label("结束时间").fill("12:00")
    page.get_by_role("button", name="安排").click()
    expect(page.get_by_role("alert")).to_contain_text("已安排 赵校长")
    expect(page.locator("#rota li")).to_have_count(1)
    assert_fits_phone(page, viewport)
    shoot(page, "rota")
    page.get_by_role("link", name="← 板桥留守儿童之家").click()
    expect(page.locator("#on-duty")).to_contain_text("现在值班：赵校长（09:00–12:00）")
    page.get_by_label("搜索儿童").fill("zl")
    page.get_by_role("button", name="查找").click()
    page.locator("#found").get_by_role("button", name="赵六").click()
    expect(page.get_by_role("alert")).to_contain_text("赵六 已签到")
    expect(page.locator(".inside-row")).to_have_count(1)
    expect(page.locator(".inside-row")).to_contain_text("值班 赵校长")
    assert_fits_phone(page, viewport)
    shoot(page, "door")
    page.get_by_role("link", name="亲情电话").click()
    page.get_by_label("通话的家长").fill("母亲 李红")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已记下 赵六 的亲情电话")
    page.get_by_role("button", name="签退").click()
    expect(page.locator("#nobody")).to_be_visible()
    page.get_by_role("link", name="使用情况").click()
    expect(page.locator("#use-total")).to_contain_text("本月签到 1 人次，1 名儿童")


def test_a_donation_is_allocated_and_its_certificate_downloaded(
    page: Page, live_server, cast, viewport, shoot
):
    base = live_server.url
    login(page, base, "zx_leader")
    page.goto(f"{base}/activities/donations/")
    page.get_by_label("捐赠方", exact=True).fill("县妇联")
    page.get_by_label("捐赠方类型").select_option(label="单位")
    page.get_by_label("捐赠形式").select_option(label="物品")
    page.get_by_label("物品（捐物时）").fill("书包")
    page.get_by_label("金额（元）或件数").fill("5")
    page.get_by_label("接收日期").fill("2026-11-20")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("alert")).to_contain_text("已登记 县妇联 的捐赠")
    expect(page.locator("#balance")).to_contain_text("5 件")

    form = page.locator("#allocation-form")
    for child, amount in (("张三", "2"), ("李四", "2")):
        form.get_by_label("儿童").select_option(
            label=f"{'三年级(1)班' if child == '张三' else '三年级(2)班'} {child}"
        )
        form.get_by_label("数量（件）").fill(amount)
        form.get_by_label("发放日期").fill("2026-11-25")
        form.get_by_label("经手人").fill("刘校长")
        form.get_by_role("button", name="登记发放").click()
        expect(page.get_by_role("alert")).to_contain_text(f"已登记发放给 {child}")
    expect(page.locator("#allocations li")).to_have_count(2)
    expect(page.locator("#balance")).to_contain_text("1 件")

    # one more than is left: refused, with the balance in the message
    form = page.locator("#allocation-form")
    form.get_by_label("儿童").select_option(label="三年级(1)班 单小明")
    form.get_by_label("数量（件）").fill("2")
    form.get_by_label("经手人").fill("刘校长")
    form.get_by_role("button", name="登记发放").click()
    expect(page.locator("#form-errors")).to_contain_text("超过余额：这笔捐赠还剩 1 件")
    expect(page.locator("#balance")).to_contain_text("1 件")

    page.get_by_label("匿名故事").fill("两个孩子背上了新书包，上学路上不再淋雨。")
    page.get_by_role("button", name="保存故事").click()
    expect(page.get_by_role("alert")).to_contain_text("已保存给捐赠方的故事")
    assert_fits_phone(page, viewport)
    shoot(page, "donation")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载捐赠证书（PDF）").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(path, "rb") as f:
        assert f.read(4) == b"%PDF"
