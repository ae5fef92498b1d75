/* Kiosk mode: warn after a quiet spell, then clear the tablet for the next person.
   The server keeps the same idle limit for browsers without JavaScript (intake/kiosk/patient_side.py). */
(function () {
  "use strict";

  function keepOnStart(body) {
    /* The start screen: Back stays here, so it never walks into a previous patient's pages
       (and the server shows nothing of them anyway once the kiosk was cleared). */
    history.replaceState(null, "", body.getAttribute("data-kiosk-home"));
    history.pushState(null, "", body.getAttribute("data-kiosk-home"));
    window.addEventListener("popstate", function () { history.pushState(null, "", location.href); });
  }

  function idleTimer(body) {
    var idle = Number(body.getAttribute("data-kiosk-idle")) * 1000;
    var warnFor = Number(body.getAttribute("data-kiosk-warning")) * 1000;
    var resetUrl = body.getAttribute("data-kiosk-reset"), pingUrl = body.getAttribute("data-kiosk-ping");
    var token = document.querySelector("meta[name=csrf-token]");
    var dialog = document.getElementById("kiosk-warning"), countdown = document.getElementById("kiosk-countdown");
    var button = dialog ? dialog.querySelector("[data-kiosk-still-here]") : null;
    var last = Date.now(), lastPing = Date.now(), warned = false, leaving = false;
    var pingEvery = Math.min(30000, idle / 3);  /* often enough that the server's clock never runs out first */

    function reset() {
      if (leaving) { return; }
      leaving = true;
      window.location.replace(resetUrl);  /* replace: the cleared page does not stay in history */
    }
    function ping() {
      /* Tell the server the patient is still here, so its own idle limit agrees with this page. */
      lastPing = Date.now();
      window.fetch(pingUrl, { method: "POST", credentials: "same-origin",
                              headers: { "X-CSRFToken": token ? token.content : "" } })
        /* 409: the server already cleared this patient; 400: their session (and its form token) is gone. */
        .then(function (response) { if (response.status === 409 || response.status === 400) { reset(); } })
        .catch(function () { /* offline for a moment: the next activity tries again */ });
    }
    function hide() {
      warned = false;
      if (dialog) { dialog.hidden = true; }
    }
    function show() {
      warned = true;
      if (dialog) { dialog.hidden = false; }
      if (button) { button.focus(); }
    }
    function activity() {
      last = Date.now();
      if (warned) { hide(); }
      if (Date.now() - lastPing > pingEvery) { ping(); }
    }
    ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (name) {
      document.addEventListener(name, activity, { capture: true, passive: true });
    });
    if (button) {
      button.addEventListener("click", function () { last = Date.now(); hide(); ping(); });
    }
    window.setInterval(function () {
      var quiet = Date.now() - last;
      if (quiet >= idle) { reset(); return; }
      if (quiet >= idle - warnFor) {
        if (!warned) { show(); }
        if (countdown) { countdown.textContent = String(Math.ceil((idle - quiet) / 1000)); }
      }
    }, 250);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    if (body.hasAttribute("data-kiosk-idle")) { idleTimer(body); }
    if (body.hasAttribute("data-kiosk-home")) { keepOnStart(body); }
  });
}());
