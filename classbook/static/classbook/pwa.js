/* The diary as an installable web app (docs/diary.md, "The diary offline"); loaded by every page.
 *
 *   <script src=".../pwa.js" data-signed-in="1|0" data-worker="/sw.js">
 *
 * - A diary page that may be kept offline (it carries the hidden [data-offline-banner]) registers the
 *   service worker; if the worker does not control this page yet (its first visit), it asks the worker to
 *   fetch and keep the page and its static files.
 * - Any page of a signed-out browser (the login page after logout, a session that ended) deletes every
 *   cache of ours and tells the worker to forget: no personal data stays in a signed-out browser.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator) || !window.caches) return;
  var signedIn = script.dataset.signedIn === "1";
  var workerUrl = script.dataset.worker;

  function forget() {
    window.caches.keys().then(function (names) {
      names.forEach(function (name) {
        if (name.indexOf("classbook-") === 0) window.caches.delete(name);
      });
    });
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        if (registration.active) registration.active.postMessage({ type: "forget" });
      });
    });
  }

  function assets() {
    var urls = [];
    document.querySelectorAll("link[rel=stylesheet][href], script[src], link[rel=icon][href]").forEach(function (el) {
      urls.push(el.href || el.src);
    });
    return urls;
  }

  function register() {
    var controlled = !!navigator.serviceWorker.controller;
    navigator.serviceWorker
      .register(workerUrl, { scope: "/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        if (!controlled && registration.active) {
          registration.active.postMessage({ type: "store", url: window.location.href, assets: assets() });
        }
      })
      .catch(function () {});
  }

  if (!signedIn) {
    forget();
  } else if (workerUrl && document.querySelector("[data-offline-banner]")) {
    register();
  }
})();
