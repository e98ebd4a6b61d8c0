// Live pages: every few seconds, fetch this page again and swap in the parts marked data-live (by id).
// Light polling, no library. A part holding the focus is left alone, so nothing being typed is lost.
(function () {
  "use strict";
  if (!document.querySelector("[data-live]")) return;
  var PERIOD_MS = 3000;
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var next = fresh.getElementById(el.id);
      if (!next) return;
      var focus = document.activeElement;
      if (focus && focus !== document.body && el.contains(focus)) return;
      if (el.innerHTML !== next.innerHTML) el.innerHTML = next.innerHTML;
      if (el.className !== next.className) el.className = next.className;
    });
  }

  function tick() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(location.href, { credentials: "same-origin", cache: "no-store", headers: { "X-Loa-Live": "1" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) { if (html) swap(html); })
      .catch(function () { /* offline for a moment: the next tick tries again */ })
      .then(function () { busy = false; });
  }

  setInterval(tick, PERIOD_MS);
  document.addEventListener("visibilitychange", tick);
})();
