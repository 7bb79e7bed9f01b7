/* 关爱 offline service worker (served by guanai/offline/views.py, scope "/").
   The app shell is cached at install under a versioned name; the API is never cached (the
   packet lives encrypted in IndexedDB); a page that needs the server shows a notice offline. */
"use strict";
var VERSION = "{{ version }}";
var CACHE = "guanai-offline-" + VERSION;
var SHELL = {{ shell|safe }};
var APP = "{{ app_url }}";
var NOTICE = "{{ notice_url }}";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // Without cookies: the shell is the same for everyone and touches no session.
      return cache.addAll(SHELL.map(function (url) { return new Request(url, { credentials: "omit" }); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("guanai-offline-") === 0 && k !== CACHE; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (url.pathname === APP) {
    // The shell: the network when there is one (a new version), else the cached copy.
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(APP, copy); });
        }
        return response;
      }).catch(function () { return caches.match(APP, { ignoreSearch: true, ignoreVary: true }); })
    );
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname, { ignoreVary: true }).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode === "navigate") {
    // Any other page needs the server: offline, a notice instead of the browser's error.
    event.respondWith(fetch(request).catch(function () { return caches.match(NOTICE, { ignoreVary: true }); }));
  }
});
