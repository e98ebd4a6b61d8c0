// Forms that keep work: destructive actions ask first; after a refusal the page moves to the first error;
// what was typed is kept in this tab so an expired form can be filled in again (never passwords or files).
(function () {
  "use strict";
  var PREFIX = "loa-form:";
  var SKIP = { csrf_token: true, password: true };

  function key(form) { return PREFIX + (form.getAttribute("action") || location.pathname); }

  function save(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "password" || el.type === "file" || el.type === "hidden") return;
      if (el.type === "submit" || el.type === "button") return;
      if ((el.type === "checkbox" || el.type === "radio")) {
        fields.push([el.name, el.value, el.checked]);
      } else if (el.multiple) {
        fields.push([el.name, Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; }), null]);
      } else {
        fields.push([el.name, el.value, null]);
      }
    });
    try { sessionStorage.setItem(key(form), JSON.stringify(fields)); } catch (e) { /* private mode: no draft */ }
  }

  function restore(form) {
    var raw = null;
    try { raw = sessionStorage.getItem(key(form)); } catch (e) { return; }
    if (!raw) return;
    var fields = JSON.parse(raw);
    var seen = {};
    fields.forEach(function (f) {
      var els = form.querySelectorAll("[name='" + f[0].replace(/'/g, "\\'") + "']");
      Array.prototype.forEach.call(els, function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === f[1]) el.checked = f[2];
        } else if (!seen[f[0]]) {
          el.value = f[1];
          seen[f[0]] = true;
        }
      });
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      ev.preventDefault();
      return;
    }
    if (form.method.toLowerCase() === "post") save(form);
  }, true);

  var flash = document.querySelector("main .flash-error, main [data-first-error]");
  if (document.querySelector("[data-restore-forms]")) {
    Array.prototype.forEach.call(document.querySelectorAll("main form[method='post']"), restore);
  }
  if (flash) {
    if (!flash.hasAttribute("tabindex")) flash.setAttribute("tabindex", "-1");
    flash.scrollIntoView({ block: "center" });
    flash.focus({ preventScroll: true });
  }
})();
