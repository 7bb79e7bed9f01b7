/* 离线家访: the phone app for visits without a signal (docs/offline.md).

   - The packet (the user's own children, GET /api/v1/offline/packet) is stored in IndexedDB
     encrypted with AES-GCM under a key held by the login session (GET /api/v1/offline/key),
     kept on the phone only in sessionStorage: after logout or the session's idle limit the
     server forgets the key and the app, seeing a 401, wipes the packet.
   - A visit (with its findings and photos, resized here) is saved at once to the outbox
     (IndexedDB), encrypted under the user's outbox key (GET /api/v1/offline/outbox-key, kept in
     sessionStorage only): after the tab is closed it stays there, locked, until the app is
     opened online with a login. It is sent through POST /api/v1/contacts with an
     Idempotency-Key, then its photos, each with its own key: a resend never duplicates.
     A refused item (4xx) stays with the server's Chinese reason until it is dropped. */
(function () {
  "use strict";
  var DB = "guanai-offline", KEY = "guanai-offline-key", OKEY = "guanai-offline-outbox-key";
  var MAX_SIDE = 1600, MAX_PHOTOS = 3;
  var LEVELS = [["normal", "正常", "btn-outline-success"], ["watch", "关注", "btn-outline-warning"], ["follow_up", "重点关注", "btn-outline-danger"]];
  var PSYCH_WITHHELD = "已记录（仅心理辅导老师和学校领导可查看）";
  var body = document.body;
  var $ = function (id) { return document.getElementById(id); };
  var state = { packet: null, user: null, okey: null, current: null, fixing: null, syncing: false, photos: [], idleLocked: false };

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

  // ---- keys and encryption ----------------------------------------------------------------
  function b64ToBytes(b64) { return Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); }); }
  function bytesToB64(bytes) {
    var s = "";
    new Uint8Array(bytes).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s);
  }
  function fromSession(name) {
    try { return JSON.parse(sessionStorage.getItem(name) || "null"); } catch (e) { return null; }
  }
  function storedKey() { return fromSession(KEY); }
  function storedOutboxKey() { return fromSession(OKEY); }
  function cryptoKey(raw) {
    return crypto.subtle.importKey("raw", b64ToBytes(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  }
  function encryptBytes(raw, plain) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return cryptoKey(raw).then(function (k) { return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, k, plain); })
      .then(function (ct) { return { iv: bytesToB64(iv), data: ct }; });
  }
  function decryptBytes(raw, box) {
    return cryptoKey(raw).then(function (k) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: b64ToBytes(box.iv) }, k, box.data);
    });
  }
  function encrypt(raw, value) {
    return encryptBytes(raw, new TextEncoder().encode(JSON.stringify(value)))
      .then(function (box) { return { iv: box.iv, ct: bytesToB64(box.data) }; });
  }
  function decrypt(raw, box) {
    return decryptBytes(raw, { iv: box.iv, data: b64ToBytes(box.ct) })
      .then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  // ---- the outbox: each item's contents encrypted under the outbox key ----------------------
  // Stored in clear: key, user, type, status, saved_at, the created contact's id and each
  // photo's key and status — what the app needs to count and to send without reading the
  // contents. Everything about the child (name, notes, findings, reason) is in `ct`; each
  // photo's bytes are encrypted on their own (`photos[].data`).
  function seal(rec, secret) {
    return encrypt(state.okey, secret).then(function (box) {
      rec.iv = box.iv; rec.ct = box.ct;
      return outboxPut(rec);
    });
  }
  var LEGACY = ["child_name", "body", "label", "reason"];
  function unsealAll() {
    return outboxAll().then(function (items) {
      items.sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      return Promise.all(items.map(function (rec) {
        var entry = { rec: rec, secret: null };
        if (!state.okey || rec.user !== state.user) return entry;
        if (!rec.ct) {  // saved in clear by an earlier version of the app: encrypt it now
          var secret = { child_name: rec.child_name, body: rec.body, label: rec.label || "", reason: rec.reason || "" };
          if (rec.type === "done") { secret.contact = rec.contact; delete rec.contact; }
          else secret.child = rec.body && rec.body.child;
          LEGACY.forEach(function (f) { delete rec[f]; });
          entry.secret = secret;
          return seal(rec, secret).then(function () { return entry; });
        }
        return decrypt(state.okey, rec).then(function (secret) { entry.secret = secret; return entry; },
          function () { return entry; });
      }));
    });
  }
  function unsent(rec) { return rec.status !== "sent"; }
  function waiting(rec) { return rec.status === "pending" || rec.status === "sending"; }

  // ---- the server ------------------------------------------------------------------------
  var CSRF_FAILED = /CSRF/;  // a 403 for a lost CSRF cookie (guanai/api.py CSRF_FAILED)
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
  function reason(status, data, what) {
    var d = data && data.detail;
    if (Array.isArray(d)) return d.map(function (x) { return x.msg || String(x); }).join("；");
    if (status === 404) return what === "photo" ? "服务器上找不到这条联系记录或这名学生：可能已转班、转学，或不再由您负责"
      : "服务器上找不到这名学生：可能已转班、转学，或不再由您负责";
    if (typeof d === "string" && d) return d;
    return "服务器拒绝了这条记录（" + status + "）";
  }
  /* One POST with an Idempotency-Key: {ok, data} on 2xx, {refused, reason} on a 4xx that a
     resend would not change, {} to try again later (no network, the server busy); a 401
     is thrown (the login is gone). */
  function post(url, key, opts) {
    var headers = { Accept: "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": key };
    if (opts.json) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: opts.json ? JSON.stringify(opts.json) : opts.form })
      .then(function (r) {
        if (r.status === 401) throw { status: 401 };
        if (r.ok) return r.json().catch(function () { return {}; }).then(function (data) { return { ok: true, data: data }; });
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          return r.json().catch(function () { return null; }).then(function (data) {
            // The browser lost its CSRF cookie, not the record its content: the next opening
            // online fetches the key, which sets the cookie again, and sends it then.
            if (r.status === 403 && data && CSRF_FAILED.test(String(data.detail))) return {};
            return { refused: true, reason: reason(r.status, data, opts.what) };
          });
        }
        return {};
      }, function () { return {}; });
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
  function savedText(iso) {
    var d = new Date(iso);
    return (d.getMonth() + 1) + " 月 " + d.getDate() + " 日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
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
  function showLocked(locked) {
    $("locked").hidden = !locked;
    if (locked) { $("form-panel").hidden = true; }
  }

  function showPacket() {
    var list = $("children");
    list.textContent = "";
    var p = state.packet;
    if (!p) {
      $("packet-age").textContent = $("locked").hidden ? "还没有离线资料：请在有信号的地方打开本页。"
        : "离线资料已上锁：联网后重新打开本页即可解锁。";
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
    return unsealAll().then(function (entries) {
      var count = entries.filter(function (e) { return waiting(e.rec); }).length;
      $("outbox-count").textContent = count ? "待同步 " + count + " 条" : "没有待同步的记录";
      $("sync").hidden = !count || !state.okey;
      // What is still on the phone, said where the app asks for a login or an online opening.
      var kept = entries.filter(function (e) { return unsent(e.rec); }).length;
      var queued = kept ? "还有 " + kept + " 条记录没有上传，已加密保存在这台手机上：联网并登录后自动上传。" : "";
      $("locked-queue").textContent = queued;
      $("login-queue").textContent = queued;
      var list = $("outbox");
      list.textContent = "";
      entries.forEach(function (e) { list.appendChild(outboxLine(e)); });
    });
  }
  function outboxLine(e) {
    var i = e.rec, s = e.secret;
    var li = el("li", "border-top py-2 outbox-item");
    li.dataset.status = i.status;
    var mine = !state.user || i.user === state.user;
    var st = mine ? i.status : "other";
    var badge = { sent: "bg-success", rejected: "bg-danger", other: "bg-secondary" }[st] || "bg-warning text-dark";
    var line = el("div", "d-flex gap-2 align-items-center flex-wrap");
    line.appendChild(el("span", "badge " + badge, STATUS[st]));
    var photos = i.photos || [];
    if (!s) {
      line.appendChild(el("span", "text-muted", savedText(i.saved_at) + " 保存的一条记录（已加密，解锁后显示）"));
      li.appendChild(line);
      return li;
    }
    line.appendChild(el("span", "", i.type === "done" ? s.child_name + " · " + s.label
      : s.child_name + " · " + (s.kind_name || kindName(s.body.kind)) + " · " + localText(s.body.at)
        + (photos.length ? " · 照片 " + photos.length + " 张" : "")));
    li.appendChild(line);
    if (i.status === "sent" && s.psych) li.appendChild(el("div", "small text-muted psych-note", "心理 " + PSYCH_WITHHELD));
    if (i.status === "rejected" && i.contact) {  // the visit is on the server; a photo was refused
      li.appendChild(el("div", "small mt-1", "联系记录已上传。"));
      photos.filter(function (p) { return p.status === "rejected"; }).forEach(function (p) {
        li.appendChild(el("div", "small text-danger mt-1 reason", "照片未被接受：" + ((s.photo_reasons || {})[p.key] || "").replace(/^照片：/, "")));
      });
      var dropPhotos = el("button", "btn btn-outline-danger btn-sm mt-1", "删除未被接受的照片");
      dropPhotos.type = "button";
      dropPhotos.addEventListener("click", function () {
        if (!confirm("删除后这些照片不会上传，确定吗？")) return;
        i.photos = photos.filter(function (p) { return p.status !== "rejected"; });
        i.status = i.photos.some(function (p) { return p.status === "pending"; }) ? "pending" : "sent";
        s.photo_reasons = {};
        seal(i, s).then(showOutbox);
      });
      li.appendChild(dropPhotos);
    } else if (i.status === "rejected") {
      li.appendChild(el("div", "small text-danger mt-1 reason", s.reason));
      var drop = el("button", "btn btn-outline-danger btn-sm mt-1", "删除这条");
      drop.type = "button";
      drop.addEventListener("click", function () {
        if (confirm("删除后这条记录不会上传，确定吗？")) outboxDel(i.key).then(showOutbox);
      });
      li.appendChild(drop);
      var child = findChild(s.child);
      if (child && mine && i.type !== "done") {
        var fix = el("button", "btn btn-outline-secondary btn-sm mt-1 ms-2", "修改后重发");
        fix.type = "button";
        fix.addEventListener("click", function () { openForm(child, e); });
        li.appendChild(fix);
      }
    }
    return li;
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
  function buildFindings(findings) {
    var box = $("findings");
    box.textContent = "";
    (state.packet.finding_areas || []).forEach(function (a) {
      var area = el("div", "finding-area");
      area.dataset.area = a.value;
      var group = el("div", "level-picker mb-1");
      group.setAttribute("role", "radiogroup");
      group.setAttribute("aria-label", a.label);
      area.appendChild(el("div", "fw-bold mb-1", a.label));
      var found = (findings && findings[a.value]) || {};
      LEVELS.forEach(function (lv) {
        var input = el("input", "btn-check");
        input.type = "radio"; input.name = "level-" + a.value; input.value = lv[0];
        input.id = "f-" + a.value + "-" + lv[0];
        input.checked = found.level === lv[0];
        var label = el("label", "btn btn-sm " + lv[2], lv[1]);
        label.htmlFor = input.id;
        label.setAttribute("aria-label", a.label + " " + lv[1]);
        // Tapping the chosen level again clears it (未记录), as nothing else could.
        label.addEventListener("pointerdown", function () { input.dataset.was = input.checked ? "1" : ""; });
        input.addEventListener("click", function () {
          if (input.dataset.was) { input.checked = false; input.dataset.was = ""; }
        });
        group.appendChild(input); group.appendChild(label);
      });
      area.appendChild(group);
      var text = el("input", "form-control form-control-sm");
      text.id = "f-" + a.value + "-text"; text.maxLength = 500;
      text.placeholder = a.label + "方面看到的情况（可不填）";
      text.setAttribute("aria-label", a.label + "情况");
      text.value = found.text || "";
      area.appendChild(text);
      if (a.value === "psych") {
        area.appendChild(el("div", "form-text", "心理方面只有心理辅导老师和学校领导能看；保存后您这里只显示“已记录”。"));
      }
      box.appendChild(area);
    });
  }
  function readFindings() {
    var out = {};
    (state.packet.finding_areas || []).forEach(function (a) {
      var level = document.querySelector('input[name="level-' + a.value + '"]:checked');
      var text = $("f-" + a.value + "-text").value.trim();
      if (level || text) out[a.value] = { level: level ? level.value : "", text: text };
    });
    return out;
  }
  function openForm(child, fixing) {
    state.current = child;
    state.fixing = fixing || null;
    state.photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
    state.photos = [];
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
    $("f-photo").value = "";
    $("form-error").hidden = true;
    $("photo-field").hidden = !child.photo_consent;
    $("no-photo").hidden = !!child.photo_consent;
    var kept = fixing ? (fixing.rec.photos || []).length : 0;
    $("photo-kept").textContent = kept ? "已有 " + kept + " 张照片，会随这条记录一起重发。" : "";
    buildFindings(fixing && fixing.secret.body.findings);
    showPhotos();
    if (fixing) {  // a refused item, to correct: its values and the server's reason
      var b = fixing.secret.body;
      kinds.querySelectorAll("input").forEach(function (x) { x.checked = x.value === b.kind; });
      $("f-at").value = b.at.slice(0, 16);
      $("f-with").value = b.with_whom;
      $("f-notes").value = b.notes;
      $("f-follow").value = b.follow_up_by || "";
      $("form-error").textContent = fixing.secret.reason;
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

  // ---- photos: resized on the phone (long side ≤ 1600 px, JPEG) before anything is stored ---
  function decode(file) {
    if (window.createImageBitmap) return createImageBitmap(file, { imageOrientation: "from-image" });
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }
  function resize(file) {
    return decode(file).then(function (img) {
      var w = img.width, h = img.height, scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";  // a transparent PNG becomes a JPEG on white, not on black
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) img.close();
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) resolve({ blob: blob, width: canvas.width, height: canvas.height });
          else reject(new Error("encode"));
        }, "image/jpeg", 0.85);
      });
    });
  }
  function showPhotos() {
    var list = $("photo-list");
    list.textContent = "";
    state.photos.forEach(function (p, n) {
      var fig = el("figure", "photo-item m-0");
      var img = el("img", "photo-thumb rounded border");
      img.src = p.url; img.alt = "第 " + (n + 1) + " 张照片";
      fig.appendChild(img);
      fig.appendChild(el("figcaption", "small text-muted", p.width + "×" + p.height + "，" + Math.round(p.blob.size / 1024) + " KB"));
      var remove = el("button", "btn btn-outline-danger btn-sm", "移除");
      remove.type = "button";
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(p.url);
        state.photos.splice(state.photos.indexOf(p), 1);
        showPhotos();
      });
      fig.appendChild(remove);
      list.appendChild(fig);
    });
  }
  $("f-photo").addEventListener("change", function (event) {
    var files = Array.prototype.slice.call(event.target.files || []);
    event.target.value = "";
    var problems = [];
    files.reduce(function (p, file) {
      return p.then(function () {
        if (state.photos.length >= MAX_PHOTOS) { problems.push("每条记录最多 " + MAX_PHOTOS + " 张照片"); return; }
        if (file.type && file.type.indexOf("image/") !== 0) { problems.push("“" + file.name + "”不是照片"); return; }
        return resize(file).then(function (out) {
          out.url = URL.createObjectURL(out.blob);
          state.photos.push(out);
        }, function () { problems.push("“" + file.name + "”打不开，请换一张照片"); });
      });
    }, Promise.resolve()).then(function () {
      showPhotos();
      $("form-error").textContent = problems.filter(function (x, n) { return problems.indexOf(x) === n; }).join("；");
      $("form-error").hidden = !problems.length;
    });
  });

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
      if (!state.okey) { err.textContent = "已上锁：请联网后重新打开本页"; return; }
      var rec = { key: uuid(), type: "done", user: state.user, status: "pending", saved_at: new Date().toISOString() };
      var secret = { contact: f.contact, child: child.id, child_name: child.name, body: { note: note.value.trim() },
        label: "跟进完成（" + f.from + "）", reason: "" };
      seal(rec, secret).then(function () { form.remove(); return showOutbox(); }).then(sync);
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
    if (!state.okey) errors.push("已上锁：请联网后重新打开本页");
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
    var findings = readFindings();
    if (Object.keys(findings).length) body.findings = findings;
    var fixing = state.fixing;
    state.fixing = null;
    // A corrected item is a new request: a new key (the old one belongs to the refused body).
    // Its photos were never sent (the visit was refused first): they go with the new one.
    var kept = fixing ? (fixing.rec.photos || []).map(function (p) { p.status = "pending"; return p; }) : [];
    var taken = state.photos.slice();
    Promise.all(taken.map(function (p) {
      return p.blob.arrayBuffer().then(function (buf) { return encryptBytes(state.okey, buf); }).then(function (box) {
        return { key: uuid(), iv: box.iv, data: box.data, status: "pending", bytes: p.blob.size };
      });
    })).then(function (photos) {
      var rec = { key: uuid(), type: "visit", user: state.user || (state.packet && state.packet.user), status: "pending",
        saved_at: new Date().toISOString(), contact: null, photos: kept.concat(photos) };
      var secret = { child: child.id, child_name: child.name, kind_name: kindName(kind.value), body: body, reason: "", photo_reasons: {} };
      return seal(rec, secret);
    }).then(function () { return fixing ? outboxDel(fixing.rec.key) : null; }).then(function () {
      taken.forEach(function (p) { URL.revokeObjectURL(p.url); });
      state.photos = [];
      $("form-panel").hidden = true;
      setStatus("已加密保存在这台手机上" + (navigator.onLine ? "，正在上传" : "，有信号后自动上传"));
      return showOutbox();
    }).then(sync, function () {
      $("form-error").textContent = "没能保存在这台手机上（存储空间不足？），请减少照片后再试";
      $("form-error").hidden = false;
    });
  });
  $("form-cancel").addEventListener("click", function () { state.fixing = null; $("form-panel").hidden = true; });

  // ---- sync ------------------------------------------------------------------------------
  function sendPhotos(rec, s) {
    var todo = (rec.photos || []).filter(function (p) { return p.status === "pending"; });
    return todo.reduce(function (chain, p) {
      return chain.then(function () {
        return decryptBytes(state.okey, p).then(function (bytes) {
          var form = new FormData();
          form.append("photo", new Blob([bytes], { type: "image/jpeg" }), "photo.jpg");
          return post("/api/v1/offline/contacts/" + rec.contact + "/photos", p.key, { form: form, what: "photo" });
        }).then(function (res) {
          if (res.ok) { p.status = "sent"; p.data = null; p.iv = ""; }  // the bytes leave the phone
          else if (res.refused) { p.status = "rejected"; s.photo_reasons = s.photo_reasons || {}; s.photo_reasons[p.key] = res.reason; }
        });
      });
    }, Promise.resolve()).then(function () {
      var photos = rec.photos || [];
      if (photos.some(function (p) { return p.status === "pending"; })) rec.status = "pending";
      else if (photos.some(function (p) { return p.status === "rejected"; })) rec.status = "rejected";
      else rec.status = "sent";
    });
  }
  function sendOne(e) {
    var rec = e.rec, s = e.secret;
    rec.status = "sending";
    return outboxPut(rec).then(function () {
      if (rec.type !== "done" && rec.contact) return true;  // the visit is on the server: its photos next
      // Marking a follow-up done is idempotent on the server: a second time changes nothing.
      var url = rec.type === "done" ? "/api/v1/contacts/" + s.contact + "/follow-up-done" : "/api/v1/contacts";
      return post(url, rec.key, { json: s.body }).then(function (res) {
        if (res.ok) {
          if (rec.type !== "done") rec.contact = res.data.id;
          var psych = s.body.findings && s.body.findings.psych;
          s.psych = !!(psych && (psych.level || psych.text));
          // Nothing more than needed stays: the notes and findings are on the server now.
          s.body = { child: s.body.child, kind: s.body.kind, at: s.body.at };
          s.reason = "";
          return true;
        }
        rec.status = res.refused ? "rejected" : "pending";
        if (res.refused) s.reason = res.reason;
        return false;
      });
    }).then(function (created) {
      return created ? sendPhotos(rec, s) : null;
    }).then(function () { return seal(rec, s); }, function (err) {
      if (rec.status === "sending") rec.status = "pending";
      return seal(rec, s).then(function () { throw err; });
    });
  }
  function sync() {
    if (state.syncing || !navigator.onLine || !state.user || !state.okey) return Promise.resolve();
    state.syncing = true;
    var todo = [];
    return unsealAll().then(function (entries) {
      todo = entries.filter(function (e) { return e.secret && e.rec.user === state.user && waiting(e.rec); });
      return todo.reduce(function (p, e) { return p.then(function () { return sendOne(e); }); }, Promise.resolve());
    }).then(function () {
      state.syncing = false;
      var k = storedKey();
      var sent = todo.some(function (e) { return e.rec.contact || e.rec.status === "sent"; });
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
  function forget() {
    state.user = null; state.packet = null; state.okey = null;
    return window.guanaiOfflineWipe();
  }
  function loggedOut() {
    return forget().then(function () {
      $("login-needed").hidden = false;
      showLocked(false);
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
    // The session says who we are and gives the keys; a 401 means logged out: wipe.
    return getJSON("/api/v1/offline/key").then(function (k) {
      var before = storedKey();
      return getJSON("/api/v1/offline/outbox-key").then(function (o) {
        sessionStorage.setItem(KEY, JSON.stringify(k));
        sessionStorage.setItem(OKEY, JSON.stringify(o));
        state.user = k.user; state.okey = o.key; state.idleLocked = false;
        $("login-needed").hidden = true;
        showLocked(false);
        setStatus("正在更新离线资料…");
        return (before && before.user !== k.user ? kvDel("packet") : Promise.resolve())
          .then(function () { return fetchPacket(k.key); })
          .then(function () { setStatus(""); showPacket(); return showOutbox(); })
          .then(sync);
      });
    }).catch(function (err) {
      if (err && err.status === 401) return loggedOut();
      if (err && err.status === 403) { setStatus("您的账号不能登记联系记录，无需离线资料。"); return kvDel("packet"); }
      return offline();
    });
  }
  function offline() {
    var k = storedKey(), o = storedOutboxKey();
    return kvGet("packet").then(function (box) {
      var unlocked = !!(k && o && k.user === o.user);
      if (!box) {
        state.user = unlocked ? o.user : null; state.okey = unlocked ? o.key : null;
        setStatus("没有网络，也还没有离线资料。");
        // Locked when the phone locked itself, or holds visits it cannot read without a login.
        return outboxAll().then(function (items) {
          showLocked(state.idleLocked || (!unlocked && items.some(unsent)));
          showPacket();
          return showOutbox();
        });
      }
      if (!unlocked || k.user !== box.user) { state.okey = null; showLocked(true); setStatus(""); showPacket(); return showOutbox(); }
      state.user = k.user; state.okey = o.key;
      return decrypt(k.key, box).then(function (packet) {
        state.packet = packet;
        showLocked(false);
        setStatus(navigator.onLine ? "连不上服务器，先用存在手机上的资料。" : "没有网络，先用存在手机上的资料；记录会在有信号后上传。");
        showPacket();
        return showOutbox();
      }, function () { state.okey = null; showLocked(true); setStatus(""); showPacket(); return showOutbox(); });
    });
  }
  // ---- the idle limit: a phone left alone longer than GUANAI_OFFLINE_IDLE_MINUTES locks ------
  var SEEN = "guanai-offline-seen";
  function touch() { try { sessionStorage.setItem(SEEN, String(Date.now())); } catch (e) { /* private mode */ } }
  function idleTooLong() {
    var k = storedKey(), seen = Number(sessionStorage.getItem(SEEN) || 0);
    return !!(k && k.idle_minutes && seen && Date.now() - seen > k.idle_minutes * 60000);
  }
  function lockIfIdle() {
    if (!idleTooLong()) return Promise.resolve(false);
    // The packet and both keys go; the outbox stays, encrypted (nothing typed is lost).
    return forget().then(function () {
      state.idleLocked = true;
      showLocked(true);
      showPacket();
      return showOutbox();
    }).then(function () { return true; });
  }
  ["click", "input", "keydown"].forEach(function (t) { document.addEventListener(t, touch, true); });

  // One start at a time: a signal that comes and goes fires "online" several times, and two runs
  // side by side would fetch the packet twice and could show an older one last. A start asked for
  // while one runs is done once more after it, so the last state of the network is the one shown.
  var starting = null, startAgain = false;
  function start() {
    if (starting) { startAgain = true; return starting; }
    showNet();
    $("login-link").href = body.dataset.login;
    starting = lockIfIdle().then(function () {
      var go = navigator.onLine ? online() : offline();
      touch();
      return go;
    }).catch(function () { setStatus("读取离线资料时出错，请刷新本页。"); }).then(function () {
      starting = null;
      if (startAgain) { startAgain = false; return start(); }
    });
    return starting;
  }
  $("refresh").addEventListener("click", function () { start(); });
  window.addEventListener("online", function () { showNet(); start(); });
  window.addEventListener("offline", showNet);
  setInterval(function () { lockIfIdle(); }, 60000);
  setInterval(function () { if (state.packet) $("packet-age").textContent = "离线资料更新于 " + ago(state.packet.generated_at) + "（" + localText(state.packet.generated_at) + "）"; }, 60000);
  start();
})();
