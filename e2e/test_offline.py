"""离线家访 in a real browser (issue #18), at phone width (390×844) and on a desktop: a class
teacher opens the offline app once with a signal, loses it, reloads the app from the service
worker's cache, logs a home visit and a call (待同步 2 条), goes back online and sees both reach
the server exactly once; a visit for a child who moved out of her class comes back refused with
the reason and can be dropped; the stored packet is encrypted and carries no ID number, health
or psychology; after logout the app wipes it. Screenshots go to e2e/screenshots/.
"""

import json

from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login

READ_IDB = """async () => {
  const db = await new Promise((ok, ko) => { const r = indexedDB.open("guanai-offline", 1);
    r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
  const all = (store) => new Promise((ok) => { const t = db.transaction(store).objectStore(store);
    const r = t.getAll(); r.onsuccess = () => ok(r.result); });
  const out = { kv: await all("kv"), outbox: await all("outbox") };
  db.close();
  return out;
}"""


def log_visit(page: Page, child: str, kind: str, notes: str, *, whom: bool = True) -> None:
    page.locator("#children li.child").filter(has_text=child).get_by_role(
        "button", name="记一次联系"
    ).click()
    form = page.locator("#visit-form")
    form.locator("#kinds").get_by_text(kind, exact=True).click()
    if whom:
        form.locator("#with-buttons button").first.click()  # the guardian
    form.get_by_label("联系时间").fill("2026-11-29T09:30")
    form.get_by_label("情况记录").fill(notes)
    form.get_by_label("跟进截止日期（不需要跟进就留空）").fill("2026-12-06")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#form-panel")).to_be_hidden()


def test_teacher_logs_visits_offline_and_they_reach_the_server_once(
    page: Page, live_server, cast, viewport, shoot
):
    from guanai.children.models import Child
    from guanai.contacts.models import Contact

    kids = cast["children"]
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/offline/app/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    children = page.locator("#children li.child")
    expect(children).to_have_count(2)
    expect(children.filter(has_text="张三")).to_contain_text("13912345678")
    expect(page.locator("#packet-age")).to_contain_text("离线资料更新于")
    stored = page.evaluate(READ_IDB)
    packet = stored["kv"][0]
    assert set(packet) == {"iv", "ct", "generated_at", "user"}  # encrypted at rest
    assert "张三" not in json.dumps(packet, ensure_ascii=False)

    # In the village: no signal. The app opens from the service worker's cache.
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#net")).to_have_text("离线")
    expect(children).to_have_count(2)
    log_visit(page, "张三", "家访", "奶奶说孩子最近作业按时完成")
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    log_visit(page, kids["c31b"].name, "电话", "打给外出务工的父亲")
    expect(page.locator("#outbox-count")).to_have_text("待同步 2 条")
    page.reload()  # still there after a reload without a signal
    expect(page.locator("#outbox-count")).to_have_text("待同步 2 条")
    assert_fits_phone(page, viewport)
    shoot(page, "outbox-offline", full_page=False)
    # A page that needs the server says so instead of the browser's error.
    page.goto(f"{live_server.url}/children/")
    expect(page.locator("h1")).to_have_text("现在没有网络")
    page.get_by_role("link", name="打开离线家访").click()
    expect(page.locator("#outbox-count")).to_have_text("待同步 2 条")

    # The second child moves to another class before the teacher is back in range.
    Child.objects.filter(pk=kids["c31b"].pk).update(school_class=cast["classes"]["c32"])
    page.context.set_offline(False)
    expect(page.locator("#outbox-count")).to_have_text("没有待同步的记录")
    items = page.locator("#outbox .outbox-item")
    expect(items.filter(has_text="张三")).to_contain_text("已同步")
    refused = items.filter(has_text=kids["c31b"].name)
    expect(refused).to_contain_text("未被接受")
    expect(refused.locator(".reason")).to_contain_text("找不到这名学生")
    shoot(page, "synced")
    assert Contact.objects.filter(child=kids["c31a"], kind="home_visit").count() == 1
    assert not Contact.objects.filter(child=kids["c31b"]).exists()

    # A resend with the same key (a reply lost on the way back) never duplicates.
    key = next(i["key"] for i in page.evaluate(READ_IDB)["outbox"] if i["status"] == "sent")
    status = page.evaluate(
        """async ([key, child]) => {
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const r = await fetch("/api/v1/contacts", {method: "POST", headers: {
            "Content-Type": "application/json", "X-CSRFToken": csrf, "Idempotency-Key": key},
            body: JSON.stringify({child, kind: "home_visit", at: "2026-11-29T09:30:00",
              with_whom: "祖母 张奶奶", notes: "奶奶说孩子最近作业按时完成", follow_up_by: "2026-12-06"})});
          return r.status;
        }""",
        [key, kids["c31a"].pk],
    )
    assert status == 200
    assert Contact.objects.filter(child=kids["c31a"], kind="home_visit").count() == 1

    # The refused item is dropped by hand: nothing disappears silently.
    page.once("dialog", lambda dialog: dialog.accept())
    refused.get_by_role("button", name="删除这条").click()
    expect(refused).to_have_count(0)

    # Bad data comes back with the reason; corrected, it is sent again and accepted.
    log_visit(page, "张三", "家访", "第二次家访", whom=False)
    bad = items.filter(has_text="未被接受")
    expect(bad.locator(".reason")).to_contain_text("联系对象")
    bad.get_by_role("button", name="修改后重发").click()
    expect(page.locator("#form-error")).to_contain_text("联系对象")
    expect(page.get_by_label("情况记录")).to_have_value("第二次家访")
    page.get_by_label("联系对象").fill("祖母 张奶奶")
    page.get_by_role("button", name="保存").click()
    expect(items.filter(has_text="未被接受")).to_have_count(0)
    expect(items.filter(has_text="已同步")).to_have_count(2)
    assert Contact.objects.filter(child=kids["c31a"], kind="home_visit").count() == 2
    # The packet was refreshed after the sync: the visits are the child's last contacts.
    zhang = page.locator("#children li.child").filter(has_text="张三")
    expect(zhang).to_contain_text("2026-11-29 家访")

    # A follow-up done without a signal, sent when it comes back.
    page.context.set_offline(True)
    zhang.locator(".follow-up").first.get_by_role("button", name="记跟进结果").click()
    zhang.get_by_label("做了什么（必填）").fill("村委会已在水塘边加了护栏")
    zhang.get_by_role("button", name="保存跟进结果").click()
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    expect(items.filter(has_text="跟进完成")).to_contain_text("待同步")
    page.context.set_offline(False)
    expect(items.filter(has_text="跟进完成")).to_contain_text("已同步")
    done = Contact.objects.filter(child=kids["c31a"], follow_up_done_at__isnull=False)
    assert [c.follow_up_note for c in done] == ["村委会已在水塘边加了护栏"]


def test_the_stored_packet_holds_nothing_sensitive_and_logout_wipes_it(
    page: Page, live_server, cast
):
    from guanai.children.models import Child

    Child.objects.update(health="哮喘", psych_summary="情绪低落", disability="智力残疾")
    login(page, live_server.url, "proxy_wang")
    page.goto(f"{live_server.url}/offline/app/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    expect(page.locator("#children li.child")).to_have_count(2)
    plain = page.evaluate(
        """async () => {
          const k = JSON.parse(sessionStorage.getItem("guanai-offline-key"));
          const db = await new Promise((ok) => { const r = indexedDB.open("guanai-offline", 1);
            r.onsuccess = () => ok(r.result); });
          const box = await new Promise((ok) => { const r = db.transaction("kv")
            .objectStore("kv").get("packet"); r.onsuccess = () => ok(r.result); });
          db.close();
          const bytes = (b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
          const key = await crypto.subtle.importKey("raw", bytes(k.key), "AES-GCM", false,
            ["decrypt"]);
          const out = await crypto.subtle.decrypt({name: "AES-GCM", iv: bytes(box.iv)}, key,
            bytes(box.ct));
          return new TextDecoder().decode(out);
        }"""
    )
    assert "张三" in plain and "李四" in plain
    for word in ("哮喘", "情绪低落", "智力残疾", "id_number", "student_no", "health", "psych"):
        assert word not in plain, word
    for kid in cast["children"].values():
        assert kid.id_number_masked[:6] not in plain

    # The phone left alone longer than the session's idle limit, with no signal: locked, wiped.
    page.evaluate(
        "() => sessionStorage.setItem('guanai-offline-seen', String(Date.now() - 31 * 60000))"
    )
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#locked")).to_be_visible()
    expect(page.locator("#status")).to_have_text("没有网络，也还没有离线资料。")
    expect(page.locator("#children li.child")).to_have_count(0)
    assert page.evaluate(READ_IDB)["kv"] == []

    # Back in range the packet comes back; after logout the app wipes it.
    page.context.set_offline(False)  # the app notices by itself and fetches a new packet
    expect(page.locator("#children li.child")).to_have_count(2)
    expect(page.locator("#locked")).to_be_hidden()
    page.context.clear_cookies()  # logged out (or the session's idle limit passed)
    page.reload()
    expect(page.locator("#login-needed")).to_be_visible()
    stored = page.evaluate(READ_IDB)
    assert stored["kv"] == []
    assert page.evaluate("() => sessionStorage.getItem('guanai-offline-key')") is None


def test_logging_out_wipes_the_packet_and_keeps_unsent_visits(page: Page, live_server, cast):
    """Every page loads offline/register.js (base.html): the logout form wipes the packet."""
    login(page, live_server.url, "zx_teacher31")
    expect(page.locator("script[src$='offline/register.js']")).to_have_count(1)
    page.goto(f"{live_server.url}/offline/app/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    expect(page.locator("#children li.child")).to_have_count(2)
    page.context.set_offline(True)
    log_visit(page, "张三", "家访", "退出前没来得及上传")
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    page.context.set_offline(False)
    page.goto(f"{live_server.url}/help/")  # before the app syncs: the item is still pending
    page.wait_for_load_state()
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    with page.expect_navigation():  # the form goes once the phone is wiped
        page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    stored = page.evaluate(READ_IDB)
    assert stored["kv"] == []
    # A sent item is wiped; one still on its way stays, to be sent after the next login.
    assert all(i["status"] in ("pending", "sending") for i in stored["outbox"])
    assert page.evaluate("() => sessionStorage.getItem('guanai-offline-key')") is None
