/* Registers the offline service worker (scope "/") on any page that loads this script, and on
   logout wipes what the offline app stored on this phone: the packet, both keys and the items
   already sent (items not yet sent stay, encrypted under the outbox key, to be sent after the
   next login — nothing is lost). */
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/offline/sw.js", { scope: "/" }).catch(function () { /* no offline use */ });
  }
  window.guanaiOfflineWipe = function () {
    // The key goes last: a page left half-way still knows it has something to wipe.
    function forgetKey() {
      try {
        sessionStorage.removeItem("guanai-offline-outbox-key");  // unsent items stay, locked
        sessionStorage.removeItem("guanai-offline-key");
      } catch (e) { /* private mode */ }
    }
    return new Promise(function (resolve) {
      if (!window.indexedDB) { forgetKey(); return resolve(); }
      var open = indexedDB.open("guanai-offline", 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore("kv");
        open.result.createObjectStore("outbox", { keyPath: "key" });
      };
      open.onerror = function () { forgetKey(); resolve(); };
      open.onsuccess = function () {
        var db = open.result;
        var tx = db.transaction(["kv", "outbox"], "readwrite");
        tx.objectStore("kv").delete("packet");
        var req = tx.objectStore("outbox").openCursor();
        req.onsuccess = function () {
          var cur = req.result;
          if (!cur) return;
          if (cur.value.status === "sent") cur.delete();
          cur.continue();
        };
        tx.oncomplete = function () { db.close(); forgetKey(); resolve(); };
        tx.onerror = tx.onabort = function () { db.close(); forgetKey(); resolve(); };
      };
    });
  };
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.action || !/\/accounts\/logout\/?$/.test(new URL(form.action, location.href).pathname)) return;
    if (form.dataset.wiped) return;
    event.preventDefault();
    window.guanaiOfflineWipe().then(function () { form.dataset.wiped = "1"; form.submit(); });
  }, true);
})();
