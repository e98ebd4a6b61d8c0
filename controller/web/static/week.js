// The week on a phone: one day at a time, opening on today (or the day in the address), paged by day.
(function () {
  "use strict";
  var box = document.querySelector(".weekdays");
  if (!box) return;
  var days = Array.prototype.slice.call(box.querySelectorAll(".weekday"));
  if (!days.length) return;

  function pick() {
    var hash = decodeURIComponent(location.hash.replace(/^#day-/, ""));
    if (hash === "first") return days[0];
    if (hash === "last") return days[days.length - 1];
    for (var i = 0; i < days.length; i++) if (days[i].getAttribute("data-day") === hash) return days[i];
    for (var j = 0; j < days.length; j++) if (days[j].getAttribute("data-today") === "yes") return days[j];
    return days[0];
  }
  function show(day) {
    days.forEach(function (d) { d.classList.toggle("shown", d === day); });
  }
  box.classList.add("paged");
  show(pick());
  box.addEventListener("click", function (ev) {
    var link = ev.target.closest("a[data-page]");
    if (!link) return;
    ev.preventDefault();
    var target = document.getElementById("day-" + link.getAttribute("data-page"));
    if (target) {
      show(target);
      history.replaceState(null, "", "#day-" + link.getAttribute("data-page"));
      target.querySelector("h3").scrollIntoView({ block: "nearest" });
    }
  });
  window.addEventListener("hashchange", function () { show(pick()); });
})();
