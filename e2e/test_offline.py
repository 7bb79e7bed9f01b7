"""离线家访 in a real browser (issue #18), at phone width (390×844) and on a desktop: a class
teacher opens the offline app once with a signal, loses it, reloads the app from the service
worker's cache, logs a home visit and a call (待同步 2 条), goes back online and sees both reach
the server exactly once; a visit for a child who moved out of her class comes back refused with
the reason and can be dropped; the stored packet is encrypted and carries no ID number, health
or psychology; after logout the app wipes it. A visit with findings and a photo waits in the
encrypted outbox through a closed tab, locked until the next login, then reaches the server
once with its photo. Screenshots go to e2e/screenshots/.
"""

import json
import time

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import assert_fits_phone, login, logout

READ_IDB = """async () => {
  const db = await new Promise((ok, ko) => { const r = indexedDB.open("guanai-offline", 1);
    r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
  const all = (store) => new Promise((ok) => { const t = db.transaction(store).objectStore(store);
    const r = t.getAll(); r.onsuccess = () => ok(r.result); });
  // A photo's encrypted bytes come back as their first bytes, hex, and their length.
  const hex = (buf) => Array.from(new Uint8Array(buf).slice(0, 8),
    (b) => b.toString(16).padStart(2, "0")).join("");
  const outbox = (await all("outbox")).map((i) => ({...i, photos: (i.photos || []).map((p) =>
    ({...p, data: p.data ? {head: hex(p.data), length: p.data.byteLength} : null}))}));
  const out = { kv: await all("kv"), outbox };
  db.close();
  return out;
}"""


def wait_for_control(page: Page) -> None:
    """The service worker has installed (the app shell cached) and controls the page. Its
    install fetches the whole shell: on a machine busy with the rest of the suite that took
    more than the default 10 s once (CI), so it gets 30."""
    page.wait_for_function(
        "() => navigator.serviceWorker.controller !== null", polling=100, timeout=30_000
    )


def close_the_browser(page: Page) -> BrowserContext:
    """Close the tab and drop the browser's cookies, as closing the browser does; returns the
    context (IndexedDB and the service worker's cache stay, as on the phone).

    Closing a page in Playwright lifts its offline emulation first: the closing app sees
    "online", asks for its key with the session cookie, and the answer (the session is saved on
    every request) sets that cookie again, 20 ms after the close here. When it came after the
    clear, the closed tab's login was back (CI, one run in many). A real browser that closes
    drops its requests, so the cookies are cleared until no late answer brings one back."""
    context = page.context
    page.close()
    for _ in range(20):
        context.clear_cookies()
        time.sleep(1)
        if not context.cookies():
            return context
    raise AssertionError("a cookie keeps coming back after the browser closed")


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
    wait_for_control(page)
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
    from guanai.contacts.models import Contact

    Child.objects.update(health="哮喘", psych_summary="情绪低落", disability="智力残疾")
    login(page, live_server.url, "proxy_wang")
    page.goto(f"{live_server.url}/offline/app/")
    wait_for_control(page)
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

    # A meeting logged without a signal, then the phone left alone longer than the idle limit
    # (GUANAI_OFFLINE_IDLE_MINUTES, 120 by default, not the web session's 30 minutes): the
    # packet is locked and wiped, the meeting stays, encrypted, and says so.
    page.context.set_offline(True)
    log_visit(page, "张三", "见面", "在村口见到，孩子精神不错")
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    page.evaluate(
        "() => sessionStorage.setItem('guanai-offline-seen', String(Date.now() - 121 * 60000))"
    )
    page.reload()
    expect(page.locator("#locked")).to_be_visible()
    expect(page.locator("#locked")).to_contain_text("已上锁：请联网后重新打开")
    expect(page.locator("#locked-queue")).to_contain_text("还有 1 条记录没有上传")
    expect(page.locator("#status")).to_have_text("没有网络，也还没有离线资料。")
    expect(page.locator("#children li.child")).to_have_count(0)
    stored = page.evaluate(READ_IDB)
    assert stored["kv"] == []
    (item,) = stored["outbox"]
    assert item["status"] == "pending" and "张三" not in json.dumps(item, ensure_ascii=False)

    # Back in range the packet comes back and the meeting is sent; after logout the app
    # wipes the packet.
    page.context.set_offline(False)  # the app notices by itself and fetches a new packet
    expect(page.locator("#children li.child")).to_have_count(2)
    expect(page.locator("#locked")).to_be_hidden()
    expect(page.locator("#outbox .outbox-item")).to_contain_text("已同步")
    # The packet fetched again after the sync holds the meeting: the app's work is done.
    expect(page.locator("#children li.child").filter(has_text="张三")).to_contain_text("见面")
    assert Contact.objects.filter(child=cast["children"]["c31a"], kind="meeting").count() == 1
    # Logged out (or the session's idle limit passed): the session ends on the server, as a
    # logout does (not only its cookie: a response still on its way would set that again).
    logout(page)
    page.reload()
    expect(page.locator("#login-needed")).to_be_visible(timeout=20_000)  # a loaded machine
    stored = page.evaluate(READ_IDB)
    assert stored["kv"] == []
    assert page.evaluate("() => sessionStorage.getItem('guanai-offline-key')") is None


def test_a_signal_that_comes_and_goes_fetches_the_packet_once_more_not_once_per_event(
    page: Page, live_server, cast
):
    # In a village the signal flickers: "online" fires three times in a row. The app runs one
    # update at a time and one more after it (so the last state counts), not three side by
    # side on a slow line.
    login(page, live_server.url, "proxy_wang")
    page.goto(f"{live_server.url}/offline/app/")
    expect(page.locator("#children li.child")).to_have_count(2)
    expect(page.locator("#status")).to_have_text("")
    fetched: list[str] = []
    page.on(
        "request",
        lambda r: fetched.append(r.url) if r.url.endswith("/api/v1/offline/packet") else None,
    )
    page.evaluate(
        "() => { for (let i = 0; i < 3; i++) window.dispatchEvent(new Event('online')); }"
    )
    # The page reached "networkidle" long ago: wait for the fetches themselves (a loaded
    # machine too), then long enough for a third to show up if there were one.
    for _ in range(200):
        if len(fetched) >= 2:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1_500)
    expect(page.locator("#children li.child")).to_have_count(2)
    expect(page.locator("#status")).to_have_text("")
    assert len(fetched) == 2, fetched


def test_logging_out_wipes_the_packet_and_keeps_unsent_visits(page: Page, live_server, cast):
    """Every page loads offline/register.js (base.html): the logout form wipes the packet."""
    login(page, live_server.url, "zx_teacher31")
    expect(page.locator("script[src$='offline/register.js']")).to_have_count(1)
    page.goto(f"{live_server.url}/offline/app/")
    wait_for_control(page)
    expect(page.locator("#children li.child")).to_have_count(2)
    page.context.set_offline(True)
    log_visit(page, "张三", "家访", "退出前没来得及上传")
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    # Back in range, but the visit does not get through before she logs out.
    page.route("**/api/v1/contacts", lambda route: route.abort())
    page.context.set_offline(False)
    expect(page.locator("#status")).to_have_text("")  # the app's online round is over
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    page.goto(f"{live_server.url}/help/")
    page.wait_for_load_state()
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    with page.expect_navigation():  # the form goes once the phone is wiped
        page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    stored = page.evaluate(READ_IDB)
    assert stored["kv"] == []
    # A sent item is wiped; one still on its way stays, encrypted, to be sent after the next
    # login.
    assert stored["outbox"] and all(i["status"] in ("pending", "sending") for i in stored["outbox"])
    assert all(i["ct"] for i in stored["outbox"])
    assert "张三" not in json.dumps(stored["outbox"], ensure_ascii=False)
    assert "退出前" not in json.dumps(stored["outbox"], ensure_ascii=False)
    for key in ("guanai-offline-key", "guanai-offline-outbox-key"):
        assert page.evaluate(f"() => sessionStorage.getItem('{key}')") is None


def visit_photo() -> bytes:
    """A phone camera's photo, larger than the app keeps (2400×1800)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (2400, 1800), (40, 140, 70))
    ImageDraw.Draw(img).rectangle((600, 400, 1800, 1400), fill=(230, 200, 60))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_visit_with_findings_and_a_photo_waits_encrypted_through_a_closed_tab(
    page: Page, live_server, cast, viewport, shoot
):
    from PIL import Image

    from guanai.children.models import Child
    from guanai.contacts.models import Contact, ContactPhoto

    kids = cast["children"]
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    app = f"{live_server.url}/offline/app/"
    login(page, live_server.url, "zx_teacher31")
    page.goto(app)
    wait_for_control(page)
    children = page.locator("#children li.child")
    expect(children).to_have_count(2)

    page.context.set_offline(True)
    page.reload()
    expect(children).to_have_count(2)
    # No photo for a child whose guardian has not agreed to photos.
    children.filter(has_text=kids["c31b"].name).get_by_role("button", name="记一次联系").click()
    expect(page.locator("#no-photo")).to_be_visible()
    expect(page.locator("#photo-field")).to_be_hidden()
    page.get_by_role("button", name="取消").click()

    children.filter(has_text="张三").get_by_role("button", name="记一次联系").click()
    form = page.locator("#visit-form")
    expect(page.locator("#photo-field")).to_be_visible()
    form.locator("#kinds").get_by_text("家访", exact=True).click()
    form.locator("#with-buttons button").first.click()
    form.get_by_label("联系时间").fill("2026-11-29T09:30")
    form.locator("label[for='f-study-watch']").click()
    form.get_by_label("学习情况").fill("作业按时完成，数学要加强")
    form.locator("label[for='f-psych-watch']").click()
    form.get_by_label("心理情况").fill("想妈妈，晚上常哭")
    form.locator("label[for='f-safety-normal']").click()
    form.get_by_label("情况记录").fill("奶奶身体还好，家里有取暖")
    form.locator("#f-photo").set_input_files(
        files=[{"name": "家访.png", "mimeType": "image/png", "buffer": visit_photo()}]
    )
    # Resized on the phone: the long side at most 1600 px, a JPEG.
    expect(form.locator("#photo-list img")).to_have_count(1)
    expect(form.locator("#photo-list figcaption")).to_contain_text("1600×1200")
    assert_fits_phone(page, viewport)
    shoot(page, "form")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#form-panel")).to_be_hidden()
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    page.reload()  # still there after a reload without a signal
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")
    expect(page.locator("#outbox .outbox-item")).to_contain_text("张三 · 家访")
    expect(page.locator("#outbox .outbox-item")).to_contain_text("照片 1 张")

    # In IndexedDB the outbox is ciphertext: no name, no finding, no JPEG.
    (item,) = page.evaluate(READ_IDB)["outbox"]
    clear = json.dumps(item, ensure_ascii=False)
    for words in ("张三", "想妈妈", "作业", "奶奶", "祖母", "home_visit"):
        assert words not in clear, words
    assert item["status"] == "pending" and item["ct"] and "body" not in item
    (photo,) = item["photos"]
    assert not photo["data"]["head"].startswith("ffd8")  # not a JPEG in clear
    assert photo["data"]["length"] > 10_000

    # The tab is closed in the village; the browser's session cookie goes with the browser.
    context = close_the_browser(page)
    page = context.new_page()
    page.goto(app)  # still without a signal: from the service worker's cache
    locked = page.locator("#locked")
    expect(locked).to_contain_text("已上锁：请联网后重新打开")
    expect(page.locator("#locked-queue")).to_contain_text("还有 1 条记录没有上传")
    expect(page.locator("#outbox .outbox-item")).to_contain_text("已加密")
    expect(page.locator("#outbox")).not_to_contain_text("张三")
    assert_fits_phone(page, viewport)
    shoot(page, "locked", full_page=False)

    # Back in range, the app asks for a login; nothing is sent and nothing is lost.
    context.set_offline(False)
    expect(page.locator("#login-needed")).to_be_visible()
    expect(page.locator("#login-queue")).to_contain_text("还有 1 条记录没有上传")
    assert not Contact.objects.filter(child=kids["c31a"]).exists()
    (item,) = page.evaluate(READ_IDB)["outbox"]
    assert item["status"] == "pending"

    # After the login the outbox opens and the visit reaches the server once, with its photo.
    login(page, live_server.url, "zx_teacher31")
    page.goto(app)
    expect(page.locator("#outbox-count")).to_have_text("没有待同步的记录")
    line = page.locator("#outbox .outbox-item").filter(has_text="张三")
    expect(line).to_contain_text("已同步")
    # The author reads back only that a psychological finding was recorded.
    expect(line.locator(".psych-note")).to_have_text(
        "心理 已记录（仅心理辅导老师和学校领导可查看）"
    )
    shoot(page, "synced")
    answer = page.evaluate(
        "async (child) => (await fetch(`/api/v1/contacts?child=${child}`)).json()",
        kids["c31a"].pk,
    )
    assert answer["count"] == 1
    (sent,) = answer["items"]
    assert sent["findings"]["study"] == {"level": "watch", "text": "作业按时完成，数学要加强"}
    assert sent["findings"]["safety"]["level"] == "normal"
    assert "psych" not in sent["findings"]  # the class teacher does not read it back
    contact = Contact.objects.get(child=kids["c31a"])
    assert (contact.psych_level, contact.psych_text) == ("watch", "想妈妈，晚上常哭")
    stored = ContactPhoto.objects.get(contact=contact)
    with stored.file.open("rb") as f:
        assert Image.open(f).size == (1600, 1200)
    (item,) = page.evaluate(READ_IDB)["outbox"]
    assert item["photos"][0]["status"] == "sent" and item["photos"][0]["data"] is None

    # Opening the app again sends nothing twice.
    page.reload()
    expect(page.locator("#children li.child")).to_have_count(2)
    expect(page.locator("#status")).to_have_text("")  # the packet is in: nothing left to do
    expect(page.locator("#outbox-count")).to_have_text("没有待同步的记录")
    assert Contact.objects.filter(child=kids["c31a"]).count() == 1
    assert ContactPhoto.objects.count() == 1


def test_a_refused_photo_shows_its_reason_and_the_visit_still_counts(
    page: Page, live_server, cast, shoot
):
    from guanai.children.models import Child
    from guanai.contacts.models import Contact, ContactPhoto

    kids = cast["children"]
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    login(page, live_server.url, "zx_teacher31")
    page.goto(f"{live_server.url}/offline/app/")
    wait_for_control(page)
    page.locator("#children li.child").filter(has_text="张三").get_by_role(
        "button", name="记一次联系"
    ).click()
    page.context.set_offline(True)
    form = page.locator("#visit-form")
    # A file the phone cannot open as a photo is refused at once, in Chinese.
    form.locator("#f-photo").set_input_files(
        files=[{"name": "病历.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all"}]
    )
    expect(page.locator("#form-error")).to_contain_text("“病历.jpg”打不开，请换一张照片")
    expect(form.locator("#photo-list img")).to_have_count(0)
    form.locator("#f-photo").set_input_files(
        files=[{"name": "家访.png", "mimeType": "image/png", "buffer": visit_photo()}]
    )
    expect(form.locator("#photo-list img")).to_have_count(1)
    form.locator("#with-buttons button").first.click()
    form.get_by_label("联系时间").fill("2026-11-29T09:30")
    normal = form.locator("label[for='f-life-normal']")
    normal.click()
    normal.click()  # tapped again: not recorded after all
    expect(form.locator("#f-life-normal")).not_to_be_checked()
    normal.click()
    expect(form.locator("#f-life-normal")).to_be_checked()
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#outbox-count")).to_have_text("待同步 1 条")

    # Meanwhile the guardian withdraws the photo consent on the card.
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=False)
    page.context.set_offline(False)
    item = page.locator("#outbox .outbox-item").filter(has_text="张三")
    expect(item).to_contain_text("未被接受")
    expect(item).to_contain_text("联系记录已上传")
    expect(item.locator(".reason")).to_have_text(
        "照片未被接受：档卡上没有监护人同意使用照片的记录，不能上传照片"
    )
    shoot(page, "refused")
    contact = Contact.objects.get(child=kids["c31a"])
    assert contact.life_level == "normal"
    assert not ContactPhoto.objects.exists()

    # The photo is dropped by hand: nothing disappears silently.
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="删除未被接受的照片").click()
    expect(item).to_contain_text("已同步")
    expect(item.locator(".reason")).to_have_count(0)
    assert Contact.objects.filter(child=kids["c31a"]).count() == 1
