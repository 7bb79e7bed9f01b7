/* 离线家访: the phone app for visits without a signal (docs/offline.md).

   - The packet (the user's own children, GET /api/v1/offline/packet) is stored in IndexedDB
     encrypted with AES-GCM under a key held by the login session (GET /api/v1/offline/key),
     kept on the phone only in sessionStorage: after logout or the session's idle limit the
     server forgets the key and the app, seeing a 401, wipes the packet.
   - A visit is saved at once to the outbox (IndexedDB) with an Idempotency-Key, then sent
     through POST /api/v1/contacts when there is a connection; a resend never duplicates.
     A refused item (4xx) stays with the server's Chinese reason until it is dropped. */
(function () {
  "use strict";
  var DB = "guanai-offline", KEY = "guanai-offline-key";
  var body = document.body;
  var $ = function (id) { return document.getElementById(id); };
  var state = { packet: null, user: null, current: null, fixing: null, syncing: false };

  // ---- IndexedDB -------------------------------------------------------------------------
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB, 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore("kv");
        open.result.createObjectStore("outbox", { keyPath: "key" });
      };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function run(store, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(store, mode), result;
        var req = fn(tx.objectStore(store));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { d.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { d.close(); reject(tx.error); };
      });
    });
  }
  var kvGet = function (k) { return run("kv", "readonly", function (s) { return s.get(k); }); };
  var kvPut = function (k, v) { return run("kv", "readwrite", function (s) { return s.put(v, k); }); };
  var kvDel = function (k) { return run("kv", "readwrite", function (s) { return s.delete(k); }); };
  var outboxAll = function () { return run("outbox", "readonly", function (s) { return s.getAll(); }); };
  var outboxPut = function (item) { return run("outbox", "readwrite", function (s) { return s.put(item); }); };
  var outboxDel = function (key) { return run("outbox", "readwrite", function (s) { return s.delete(key); }); };

  // ---- the session key and encryption ----------------------------------------------------
  function b64ToBytes(b64) { return Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); }); }
  function bytesToB64(bytes) {
    var s = "";
    new Uint8Array(bytes).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s);
  }
  function storedKey() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function cryptoKey(raw) {
    return crypto.subtle.importKey("raw", b64ToBytes(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  }
  function encrypt(raw, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var plain = new TextEncoder().encode(JSON.stringify(value));
    return cryptoKey(raw).then(function (k) { return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, k, plain); })
      .then(function (ct) { return { iv: bytesToB64(iv), ct: bytesToB64(ct) }; });
  }
  function decrypt(raw, box) {
    return cryptoKey(raw).then(function (k) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: b64ToBytes(box.iv) }, k, b64ToBytes(box.ct));
    }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  // ---- the server ------------------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) throw { status: 401 };
        if (!r.ok) throw { status: r.status };
        return r.json();
      });
  }
  function reason(status, data) {
    var d = data && data.detail;
    if (Array.isArray(d)) return d.map(function (x) { return x.msg || String(x); }).join("；");
    if (status === 404) return "服务器上找不到这名学生：可能已转班、转学，或不再由您负责";
    if (typeof d === "string" && d) return d;
    return "服务器拒绝了这条记录（" + status + "）";
  }

  // ---- showing ---------------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function ago(iso) {
    var mins = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    if (mins < 1) return "刚刚";
    if (mins < 60) return mins + " 分钟前";
    if (mins < 60 * 24) return Math.round(mins / 60) + " 小时前";
    return Math.round(mins / 1440) + " 天前";
  }
  function localText(iso) { return iso.replace("T", " ").slice(0, 16); }
  function kindName(value) {
    var kinds = (state.packet && state.packet.kinds) || [];
    for (var i = 0; i < kinds.length; i++) if (kinds[i].value === value) return kinds[i].label;
    return value;
  }
  function setStatus(text) { $("status").textContent = text; }
  function showNet() {
    var net = $("net");
    net.textContent = navigator.onLine ? "在线" : "离线";
    net.className = "badge " + (navigator.onLine ? "bg-light text-success" : "bg-warning text-dark");
  }

  function showPacket() {
    var list = $("children");
    list.textContent = "";
    var p = state.packet;
    if (!p) {
      $("packet-age").textContent = "还没有离线资料：请在有信号的地方打开本页。";
      $("children-empty").hidden = true;
      return;
    }
    $("packet-age").textContent = "离线资料更新于 " + ago(p.generated_at) + "（" + localText(p.generated_at) + "）";
    $("children-empty").hidden = p.children.length > 0;
    p.children.forEach(function (c) {
      var li = el("li", "card mb-2 child");
      li.dataset.child = c.id;
      var b = el("div", "card-body");
      var head = el("div", "d-flex align-items-start gap-2");
      var title = el("div", "flex-grow-1");
      title.appendChild(el("h3", "h6 mb-1", c.name));
      title.appendChild(el("div", "small text-muted", c.class_name + " · " + [c.village, c.group, c.address].filter(Boolean).join(" ")));
      head.appendChild(title);
      var log = el("button", "btn btn-success", "记一次联系");
      log.type = "button";
      log.addEventListener("click", function () { openForm(c); });
      head.appendChild(log);
      b.appendChild(head);
      var people = el("ul", "list-unstyled small mb-1 mt-2");
      var g = c.guardian;
      if (g.name || g.phone) people.appendChild(phoneLine("监护人 " + [g.relation, g.name].filter(Boolean).join(" "), g.phone));
      c.parents.forEach(function (p) { people.appendChild(phoneLine(p.relation + " " + p.name, p.phone)); });
      b.appendChild(people);
      c.due.forEach(function (d) {
        b.appendChild(el("div", "small text-danger", "该做了：" + d.rule_name + (d.days_overdue > 0 ? "（已超期 " + d.days_overdue + " 天）" : "")));
      });
      c.follow_ups.forEach(function (f) {
        var row = el("div", "small mt-1 follow-up " + (f.overdue ? "text-danger" : "text-warning-emphasis"),
          "待跟进（" + f.by_date + " 前）：" + f.from + (f.notes ? " — " + f.notes : ""));
        var done = el("button", "btn btn-outline-success btn-sm ms-2", "记跟进结果");
        done.type = "button";
        done.addEventListener("click", function () { doneForm(row, c, f); });
        row.appendChild(done);
        b.appendChild(row);
      });
      if (c.last_contacts.length) {
        var last = el("div", "small text-muted mt-1", "最近联系：");
        last.textContent += c.last_contacts.map(function (x) {
          return localText(x.at).slice(0, 10) + " " + x.kind_name + (x.notes ? "（" + x.notes.slice(0, 40) + "）" : "");
        }).join("；");
        b.appendChild(last);
      } else {
        b.appendChild(el("div", "small text-muted mt-1", "还没有联系记录"));
      }
      li.appendChild(b);
      list.appendChild(li);
    });
  }
  function phoneLine(label, phone) {
    var li = el("li", "", label + (phone ? " " : ""));
    if (phone) {
      var a = el("a", "", phone);
      a.href = "tel:" + phone;
      li.appendChild(a);
    }
    return li;
  }

  var STATUS = { pending: "待同步", sending: "正在上传", sent: "已同步", rejected: "未被接受", other: "属于其他账号" };
  function showOutbox() {
    return outboxAll().then(function (items) {
      items.sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      var waiting = items.filter(function (i) { return i.status === "pending" || i.status === "sending"; }).length;
      $("outbox-count").textContent = waiting ? "待同步 " + waiting + " 条" : "没有待同步的记录";
      $("sync").hidden = !waiting;
      var list = $("outbox");
      list.textContent = "";
      items.forEach(function (i) {
        var li = el("li", "border-top py-2 outbox-item");
        li.dataset.status = i.status;
        var mine = !state.user || i.user === state.user;
        var st = mine ? i.status : "other";
        var badge = { sent: "bg-success", rejected: "bg-danger", other: "bg-secondary" }[st] || "bg-warning text-dark";
        var line = el("div", "d-flex gap-2 align-items-center");
        line.appendChild(el("span", "badge " + badge, STATUS[st]));
        line.appendChild(el("span", "", i.type === "done" ? i.child_name + " · " + i.label
          : i.child_name + " · " + kindName(i.body.kind) + " · " + localText(i.body.at)));
        li.appendChild(line);
        if (i.status === "rejected") {
          li.appendChild(el("div", "small text-danger mt-1 reason", i.reason));
          var drop = el("button", "btn btn-outline-danger btn-sm mt-1", "删除这条");
          drop.type = "button";
          drop.addEventListener("click", function () {
            if (confirm("删除后这条记录不会上传，确定吗？")) outboxDel(i.key).then(showOutbox);
          });
          li.appendChild(drop);
          var child = findChild(i.body.child);
          if (child && mine && i.type !== "done") {
            var fix = el("button", "btn btn-outline-secondary btn-sm mt-1 ms-2", "修改后重发");
            fix.type = "button";
            fix.addEventListener("click", function () { openForm(child, i); });
            li.appendChild(fix);
          }
        }
        list.appendChild(li);
      });
    });
  }

  // ---- the form --------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function nowLocal() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function findChild(id) {
    var list = (state.packet && state.packet.children) || [];
    for (var n = 0; n < list.length; n++) if (list[n].id === id) return list[n];
    return null;
  }
  function openForm(child, fixing) {
    state.current = child;
    state.fixing = fixing || null;
    $("form-title").textContent = "记一次联系：" + child.name;
    var kinds = $("kinds");
    kinds.textContent = "";
    state.packet.kinds.forEach(function (k, n) {
      var wrap = el("div", "form-check form-check-inline m-0");
      var input = el("input", "btn-check");
      input.type = "radio"; input.name = "kind"; input.value = k.value; input.id = "kind-" + k.value;
      input.checked = n === 0;
      var label = el("label", "btn btn-outline-success", k.label);
      label.htmlFor = input.id;
      wrap.appendChild(input); wrap.appendChild(label);
      kinds.appendChild(wrap);
    });
    $("f-at").value = nowLocal();
    $("f-with").value = "";
    $("f-notes").value = "";
    $("f-follow").value = "";
    $("form-error").hidden = true;
    if (fixing) {  // a refused item, to correct: its values and the server's reason
      var b = fixing.body;
      kinds.querySelectorAll("input").forEach(function (x) { x.checked = x.value === b.kind; });
      $("f-at").value = b.at.slice(0, 16);
      $("f-with").value = b.with_whom;
      $("f-notes").value = b.notes;
      $("f-follow").value = b.follow_up_by || "";
      $("form-error").textContent = fixing.reason;
      $("form-error").hidden = false;
    }
    var wb = $("with-buttons");
    wb.textContent = "";
    var g = child.guardian;
    [g.name ? [g.relation, g.name].filter(Boolean).join(" ") : ""].concat(child.parents.map(function (p) { return p.relation + " " + p.name; }))
      .filter(Boolean).forEach(function (who) {
        var btn = el("button", "btn btn-outline-secondary btn-sm", who);
        btn.type = "button";
        btn.addEventListener("click", function () { $("f-with").value = who; });
        wb.appendChild(btn);
      });
    $("form-panel").hidden = false;
    $("form-panel").scrollIntoView();
  }
  function doneForm(row, child, f) {
    if (row.querySelector("form")) return;
    var form = el("form", "mt-2 text-body");
    var id = "done-" + f.contact;
    var label = el("label", "form-label", "做了什么（必填）");
    label.htmlFor = id;
    var note = el("textarea", "form-control");
    note.id = id; note.rows = 2; note.maxLength = 500;
    var err = el("div", "text-danger small");
    var save = el("button", "btn btn-success mt-2", "保存跟进结果");
    save.type = "submit";
    form.appendChild(label); form.appendChild(note); form.appendChild(err); form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!note.value.trim()) { err.textContent = "请简要写下做了什么，如“已电话联系母亲，周末回家”"; return; }
      var item = { key: uuid(), type: "done", contact: f.contact, user: state.user, child_name: child.name,
        body: { note: note.value.trim() }, label: "跟进完成（" + f.from + "）", status: "pending", reason: "", saved_at: new Date().toISOString() };
      outboxPut(item).then(function () { form.remove(); return showOutbox(); }).then(sync);
    });
    row.appendChild(form);
    note.focus();
  }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  $("visit-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target, child = state.current;
    var kind = form.querySelector('input[name="kind"]:checked');
    var errors = [];
    if (!kind) errors.push("请选择联系方式");
    if (!$("f-at").value) errors.push("请填写联系时间");
    else if (new Date($("f-at").value) > new Date(Date.now() + 10 * 60000)) errors.push("联系时间不能晚于现在");
    if (errors.length) {
      $("form-error").textContent = errors.join("；");
      $("form-error").hidden = false;
      return;
    }
    var body = { child: child.id, kind: kind.value, at: $("f-at").value + ":00", with_whom: $("f-with").value.trim(), notes: $("f-notes").value.trim() };
    if ($("f-follow").value) body.follow_up_by = $("f-follow").value;
    var item = { key: uuid(), user: state.user || (state.packet && state.packet.user), child_name: child.name, body: body, status: "pending", reason: "", saved_at: new Date().toISOString() };
    var replaced = state.fixing;
    state.fixing = null;
    // A corrected item is a new request: a new key (the old one belongs to the refused body).
    outboxPut(item).then(function () { return replaced ? outboxDel(replaced.key) : null; }).then(function () {
      $("form-panel").hidden = true;
      setStatus("已保存在这台手机上" + (navigator.onLine ? "，正在上传" : "，有信号后自动上传"));
      return showOutbox();
    }).then(sync);
  });
  $("form-cancel").addEventListener("click", function () { state.fixing = null; $("form-panel").hidden = true; });

  // ---- sync ------------------------------------------------------------------------------
  function sendUrl(item) {
    // Marking a follow-up done is idempotent on the server: a second time changes nothing.
    return item.type === "done" ? "/api/v1/contacts/" + item.contact + "/follow-up-done" : "/api/v1/contacts";
  }
  function sendOne(item) {
    item.status = "sending";
    return outboxPut(item).then(function () {
      var url = sendUrl(item);
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": item.key },
        body: JSON.stringify(item.body),
      });
    }).then(function (r) {
      if (r.ok) {
        item.status = "sent"; item.reason = ""; item.body.notes = ""; item.body.with_whom = ""; item.body.note = "";  // nothing more than needed stays
        return outboxPut(item);
      }
      if (r.status === 401) { item.status = "pending"; return outboxPut(item).then(function () { throw { status: 401 }; }); }
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        return r.json().catch(function () { return null; }).then(function (data) {
          item.status = "rejected"; item.reason = reason(r.status, data);
          return outboxPut(item);
        });
      }
      item.status = "pending";  // the server is busy or down: try again later
      return outboxPut(item);
    }, function (err) {
      if (err && err.status === 401) throw err;
      item.status = "pending";  // no connection: it stays
      return outboxPut(item);
    });
  }
  function sync() {
    if (state.syncing || !navigator.onLine || !state.user) return Promise.resolve();
    state.syncing = true;
    var todo = [];
    return outboxAll().then(function (items) {
      todo = items.filter(function (i) { return (i.status === "pending" || i.status === "sending") && i.user === state.user; });
      return todo.reduce(function (p, i) { return p.then(function () { return sendOne(i); }); }, Promise.resolve());
    }).then(function () {
      state.syncing = false;
      var k = storedKey();
      var sent = todo.some(function (i) { return i.status === "sent"; });
      // What was sent is now on the server: the packet shows it as the last contact.
      if (sent && k) return fetchPacket(k.key).then(showPacket, function () { /* later */ }).then(showOutbox);
      return showOutbox();
    }, function (err) {
      state.syncing = false;
      if (err && err.status === 401) return loggedOut();
      return showOutbox();
    });
  }
  $("sync").addEventListener("click", function () { sync(); });

  // ---- the packet ------------------------------------------------------------------------
  function loggedOut() {
    state.user = null; state.packet = null;
    return window.guanaiOfflineWipe().then(function () {
      $("login-needed").hidden = false;
      $("locked").hidden = true;
      setStatus("");
      showPacket();
      return showOutbox();
    });
  }
  function fetchPacket(raw) {
    return getJSON("/api/v1/offline/packet").then(function (packet) {
      state.packet = packet;
      return encrypt(raw, packet).then(function (box) {
        box.generated_at = packet.generated_at; box.user = packet.user;
        return kvPut("packet", box);
      });
    });
  }
  function online() {
    // The session says who we are and gives the key; a 401 means logged out: wipe.
    return getJSON("/api/v1/offline/key").then(function (k) {
      var before = storedKey();
      sessionStorage.setItem(KEY, JSON.stringify(k));
      state.user = k.user;
      $("locked").hidden = true;
      setStatus("正在更新离线资料…");
      return (before && before.user !== k.user ? kvDel("packet") : Promise.resolve())
        .then(function () { return fetchPacket(k.key); })
        .then(function () { setStatus(""); showPacket(); return showOutbox(); })
        .then(sync);
    }, function (err) {
      if (err && err.status === 401) return loggedOut();
      if (err && err.status === 403) { setStatus("您的账号不能登记联系记录，无需离线资料。"); return kvDel("packet"); }
      return offline();
    });
  }
  function offline() {
    var k = storedKey();
    return kvGet("packet").then(function (box) {
      if (!box) { setStatus("没有网络，也还没有离线资料。"); showPacket(); return showOutbox(); }
      if (!k || k.user !== box.user) { $("locked").hidden = false; setStatus(""); return showOutbox(); }
      state.user = k.user;
      return decrypt(k.key, box).then(function (packet) {
        state.packet = packet;
        setStatus(navigator.onLine ? "连不上服务器，先用存在手机上的资料。" : "没有网络，先用存在手机上的资料；记录会在有信号后上传。");
        showPacket();
        return showOutbox();
      }, function () { $("locked").hidden = false; setStatus(""); return showOutbox(); });
    });
  }
  // ---- the idle limit: a phone left alone as long as the session's idle limit locks ----------
  var SEEN = "guanai-offline-seen";
  function touch() { try { sessionStorage.setItem(SEEN, String(Date.now())); } catch (e) { /* private mode */ } }
  function idleTooLong() {
    var k = storedKey(), seen = Number(sessionStorage.getItem(SEEN) || 0);
    return !!(k && k.idle_minutes && seen && Date.now() - seen > k.idle_minutes * 60000);
  }
  function lockIfIdle() {
    if (!idleTooLong()) return Promise.resolve(false);
    // The packet goes with the key; the outbox stays (nothing typed is lost).
    state.packet = null;
    return window.guanaiOfflineWipe().then(function () {
      $("locked").hidden = false;
      $("form-panel").hidden = true;
      showPacket();
      return showOutbox();
    }).then(function () { return true; });
  }
  ["click", "input", "keydown"].forEach(function (t) { document.addEventListener(t, touch, true); });

  function start() {
    showNet();
    $("login-link").href = body.dataset.login;
    return lockIfIdle().then(function () {
      var go = navigator.onLine ? online() : offline();
      touch();
      return go;
    }).catch(function () { setStatus("读取离线资料时出错，请刷新本页。"); });
  }
  $("refresh").addEventListener("click", function () { start(); });
  window.addEventListener("online", function () { showNet(); start(); });
  window.addEventListener("offline", showNet);
  setInterval(function () { lockIfIdle(); }, 60000);
  setInterval(function () { if (state.packet) $("packet-age").textContent = "离线资料更新于 " + ago(state.packet.generated_at) + "（" + localText(state.packet.generated_at) + "）"; }, 60000);
  start();
})();
