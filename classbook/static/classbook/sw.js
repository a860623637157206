/* The diary's service worker (docs/diary.md, "The diary offline"). Served from /sw.js (scope "/") by
 * classbook/diary/pwa.py, which fills in STATIC_URL below.
 *
 * What it keeps, and for whom:
 * - diary pages and the teacher's own journal grid (docs/offline.md): a page is kept only when the server marked
 *   it with the X-Offline-Key header, which it sends to a student reading their own diary, a parent reading their
 *   child's, or a teacher opening the grid of their own journal (never another teacher's, never a preview).
 *   Every other request goes to the network untouched and is never stored.
 * - a grid page no longer than the school's offline window (its X-Offline-Window header, in hours): an older
 *   copy is deleted instead of shown.
 * - per user: pages are kept in the cache "classbook-diary-<key>", the key an HMAC of the user. Storing a page
 *   for one key deletes every other user's cache first, so another person on the same browser never sees them.
 * - until logout: the logout answer carries Clear-Site-Data ("cache", "storage": the browser drops this worker
 *   and its caches), and every page of a signed-out browser tells the worker to forget ("forget" message;
 *   pwa.js also deletes the caches itself).
 * - static files (CSS, scripts, icons) in "classbook-static": they hold nothing personal.
 *
 * The network always comes first; a kept page is shown only when the network fails, with its "as of" banner
 * (the server rendered it hidden; the worker unhides it).
 */
"use strict";

var STATIC_URL = "__STATIC_URL__";
var DIARY_PREFIX = "classbook-diary-";
var STATIC_CACHE = "classbook-static";
var DIARY_PAGE = /^\/s\/[^/]+\/diary\/\d+\/(week\/[^/]+\/|marks\/|letter\/)?$/;
var GRID_PAGE = /^\/s\/[^/]+\/journal\/\d+\/$/;
function keptPage(pathname) {
  return DIARY_PAGE.test(pathname) || GRID_PAGE.test(pathname);
}
var BANNER_HIDDEN = "data-offline-banner hidden";
// The installed app starts at "/" (the manifest's start_url): offline, it opens the page read last.
var LATEST = "/offline-latest";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function diaryCaches() {
  return caches.keys().then(function (names) {
    return names.filter(function (name) {
      return name.indexOf(DIARY_PREFIX) === 0;
    });
  });
}

function forgetAll() {
  return caches.keys().then(function (names) {
    return Promise.all(
      names
        .filter(function (name) {
          return name.indexOf("classbook-") === 0;
        })
        .map(function (name) {
          return caches.delete(name);
        })
    );
  });
}

function keep(key, url, response) {
  var mine = DIARY_PREFIX + key;
  return diaryCaches()
    .then(function (names) {
      return Promise.all(
        names
          .filter(function (name) {
            return name !== mine;
          })
          .map(function (name) {
            return caches.delete(name);
          })
      );
    })
    .then(function () {
      return caches.open(mine);
    })
    .then(function (cache) {
      return stamped(response).then(function (copy) {
        return Promise.all([cache.put(url, copy.clone()), cache.put(LATEST, copy)]);
      });
    });
}

// The copy carries the time it was kept: a page with an offline window is not shown after it.
function stamped(response) {
  return response.blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Kept-At", String(Date.now()));
    return new Response(body, { status: response.status, headers: headers });
  });
}

function fresh(cache, key, copy) {
  var hours = parseFloat(copy.headers.get("X-Offline-Window") || "");
  var keptAt = parseFloat(copy.headers.get("X-Kept-At") || "0");
  if (!hours || Date.now() - keptAt <= hours * 3600 * 1000) return copy;
  return cache.delete(key).then(function () {
    return undefined;
  });
}

function kept(url) {
  return diaryCaches().then(function (names) {
    if (names.length !== 1) return undefined; // none, or a state we do not trust: show nothing
    return caches.open(names[0]).then(function (cache) {
      return cache
        .match(url, { ignoreVary: true })
        .then(function (copy) {
          // The grid opened with another period or column in its address: the copy of the journal kept last.
          return copy || cache.match(url, { ignoreVary: true, ignoreSearch: true });
        })
        .then(function (copy) {
          return copy ? fresh(cache, url, copy) : copy;
        });
    });
  });
}

function offlineCopy(response) {
  return response.text().then(function (html) {
    return new Response(html.replace(BANNER_HIDDEN, "data-offline-banner"), {
      status: 200,
      headers: { "Content-Type": response.headers.get("Content-Type") || "text/html; charset=utf-8" },
    });
  });
}

function diaryPage(request) {
  return fetch(request).then(
    function (response) {
      var key = response.headers.get("X-Offline-Key");
      if (response.ok && key) {
        return keep(key, request.url, response.clone()).then(
          function () {
            return response;
          },
          function () {
            return response; // storage full or refused: the page still shows
          }
        );
      }
      return response;
    },
    function (error) {
      return kept(request.url).then(function (copy) {
        if (copy) return offlineCopy(copy);
        throw error;
      });
    }
  );
}

function staticFile(request) {
  return fetch(request).then(
    function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) {
          cache.put(request, copy);
        });
      }
      return response;
    },
    function (error) {
      return caches.match(request, { cacheName: STATIC_CACHE }).then(function (copy) {
        if (copy) return copy;
        throw error;
      });
    }
  );
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && keptPage(url.pathname)) {
    event.respondWith(diaryPage(request));
  } else if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(
      fetch(request).catch(function (error) {
        return kept(LATEST).then(function (copy) {
          if (copy) return offlineCopy(copy);
          throw error;
        });
      })
    );
  } else if (url.pathname.indexOf(STATIC_URL) === 0) {
    event.respondWith(staticFile(request));
  }
  // Anything else: not handled here, so the browser asks the network and nothing is stored.
});

/* Messages from pwa.js:
 *   {type: "store", url, assets: [...]}  the page this worker did not yet control: fetch and keep it (the
 *                                        server decides again whether it may be kept) and its static files
 *   {type: "forget"}                     the browser is signed out: delete every cache
 */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "forget") {
    event.waitUntil(forgetAll());
  } else if (data.type === "store" && typeof data.url === "string") {
    var url = new URL(data.url, self.location.origin);
    if (url.origin !== self.location.origin || !keptPage(url.pathname)) return;
    var assets = (data.assets || []).filter(function (asset) {
      var a = new URL(asset, self.location.origin);
      return a.origin === self.location.origin && a.pathname.indexOf(STATIC_URL) === 0;
    });
    event.waitUntil(
      Promise.all(
        [diaryPage(new Request(url.href, { credentials: "same-origin" }))].concat(
          assets.map(function (asset) {
            return staticFile(new Request(asset));
          })
        )
      ).catch(function () {})
    );
  }
});
