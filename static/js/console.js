/* The console's small client side: running timers, the live-connection badge, and forms that disable while sent.
   The live panels arrive over /ws/console/ as HTML fragments that htmx's ws extension swaps in by id. */
(function () {
  "use strict";

  // Server and browser clocks differ; each timer counts from the server's "now" it was rendered with.
  var offsets = new WeakMap();

  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (isNaN(since)) return;
      if (!offsets.has(el)) {
        var serverNow = Date.parse(el.dataset.now || "");
        offsets.set(el, isNaN(serverNow) ? 0 : serverNow - now);
      }
      var elapsed = (now + offsets.get(el) - since) / 1000;
      el.textContent = format(elapsed);
      // Away longer than the reason allows (data-limit, seconds): the timer, and its wallboard row, turn red.
      var limit = Number(el.dataset.limit || 0);
      if (limit) {
        el.classList.toggle("over-limit", elapsed > limit);
        var scope = el.closest("[data-limit-scope]");
        if (scope) scope.classList.toggle("over-limit", elapsed > limit);
      }
    });
  }

  // A panel that shows something the clock changes (a queue opening or closing at its business hours) carries
  // data-refresh-in (seconds from when it was rendered); nothing is pushed for it, so when that moment comes the
  // panel is read again from the page. Counted on the browser's clock from first sight: the two clocks may differ.
  var deadlines = new WeakMap();

  function refreshDue() {
    var now = Date.now();
    document.querySelectorAll("[data-refresh-in]").forEach(function (el) {
      if (!deadlines.has(el)) deadlines.set(el, now + 1000 * Number(el.dataset.refreshIn || 0));
      if (now < deadlines.get(el) || el.dataset.refreshing) return;
      el.dataset.refreshing = "1";
      var panel = el.closest("section[id]");
      if (!panel || !window.htmx) { window.location.reload(); return; }
      window.htmx.ajax("GET", window.location.href, {target: "#" + panel.id, select: "#" + panel.id, swap: "outerHTML"});
    });
  }

  // The wallboard's state counts follow the agent rows, which arrive one by one over the socket.
  function countStates() {
    var boxes = document.querySelectorAll("[data-count-state]");
    if (!boxes.length) return;
    var counts = {};
    document.querySelectorAll("#wallboard-agents tr[id^=agent-] [data-state]").forEach(function (el) {
      counts[el.dataset.state] = (counts[el.dataset.state] || 0) + 1;
    });
    boxes.forEach(function (el) {
      var n = counts[el.dataset.countState] || 0;
      el.textContent = String(n);
      el.parentElement.classList.toggle("zero", n === 0);
    });
  }

  function setLive(on) {
    document.querySelectorAll("[data-live-status]").forEach(function (el) {
      el.classList.toggle("is-live", on);
    });
    document.body.dataset.live = on ? "on" : "off";
  }

  document.addEventListener("htmx:wsOpen", function () { setLive(true); });
  document.addEventListener("htmx:wsClose", function (e) {
    setLive(false);
    // 4401 signed out, 4403 no longer allowed this page: the server closed the socket on purpose, and a reload
    // shows what the user may see now (the sign-in page, or their new company's page).
    var code = e.detail && e.detail.event && e.detail.event.code;
    if (code === 4401 || code === 4403) { window.location.reload(); }
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    document.body.dataset.pushes = String(Number(document.body.dataset.pushes || 0) + 1);
    tick();
    countStates();
  });
  document.addEventListener("htmx:afterSwap", function () { tick(); countStates(); });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    countStates();
    window.setInterval(function () { tick(); refreshDue(); }, 1000);
  });
})();
