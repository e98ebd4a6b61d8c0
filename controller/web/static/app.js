// Small behaviours that used to be inline handlers; the CSP allows no inline script.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // form[data-confirm] is asked once, by forms.js, before it keeps a copy of the form.
  document.querySelectorAll("button[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });
})();
