// Count one listen when the citizen first presses play. No cookie, no identifier: the server hashes and forgets.
(function () {
  var player = document.getElementById("player");
  if (!player) return;
  var sent = false;
  player.addEventListener("play", function () {
    if (sent) return;
    sent = true;
    var url = player.getAttribute("data-listen");
    if (navigator.sendBeacon) { navigator.sendBeacon(url); } else { fetch(url, { method: "POST", keepalive: true }); }
  });
})();
