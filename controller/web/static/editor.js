// Live duration estimate and spoken text while the officer types (POST /api/bulletins/estimate).
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form) return;
  var out = document.getElementById("estimate");
  var inline = document.getElementById("estimate-inline");
  var spoken = document.getElementById("spoken");
  var problems = document.getElementById("problems");
  var pinsEl = document.getElementById("pinned-readings");
  var pins = pinsEl ? JSON.parse(pinsEl.textContent) : [];
  var timer = null;
  var seq = 0;

  function field(name) { var el = form.elements[name]; return el ? el.value : ""; }
  function mmss(s) { s = Math.round(s); var m = Math.floor(s / 60), r = s % 60; return m + ":" + (r < 10 ? "0" : "") + r; }

  function update() {
    var voice = field("voice").split("|");
    var body = { title: field("title"), body: field("body"), priority: field("priority") || "normal",
                 voice: { engine: voice[0] || "espeak-ng", name: voice[1] || "vi" }, pinned_readings: pins };
    var mine = ++seq;
    fetch("/api/bulletins/estimate", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data || mine !== seq) return;
      out.textContent = mmss(data.estimated_s) + " phút";
      out.classList.toggle("out", data.problems.length > 0);
      if (inline) {
        inline.textContent = out.textContent + (data.problems.length ? " — " + data.problems[0] : "");
        inline.classList.toggle("out", data.problems.length > 0);
      }
      spoken.textContent = data.spoken_text;
      problems.textContent = "";
      data.problems.forEach(function (p) { var li = document.createElement("li"); li.className = "bad"; li.textContent = p; problems.appendChild(li); });
    }).catch(function () { out.textContent = "không ước tính được"; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(update, 350); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  if (field("body")) update();
})();
