// MojeID Klíč in the browser: the page asks the server, the phone app approves, and the page
// goes on by itself. Three widgets, each an element with its URLs and texts in data attributes:
// #klic-setup (waits for the app to pair), #klic-login (the second sign-in step) and
// #klic-reauth (re-authentication: the approval rides along with the password form). While the
// app is asked, the page shows the number the user must pick in it ([data-role=number]).
(function () {
  "use strict";

  var POLL_MS = 1500;

  function csrfToken(box) {
    var input = (box.closest("form") || box).querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(box, role, text) {
    var line = box.querySelector("[role=" + role + "]");
    if (!line) return;
    line.textContent = text;
    line.hidden = !text;
  }

  // The number to pick in the app, shown while its request waits; null hides it.
  function showNumber(box, number) {
    var holder = box.querySelector("[data-role=number-box]");
    if (!holder) return;
    var known = typeof number === "number";
    holder.querySelector("[data-role=number]").textContent = known ? String(number) : "";
    holder.hidden = !known;
  }

  async function getJSON(url, options) {
    var response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    var data = {};
    try { data = await response.json(); } catch (e) { /* not JSON: an error page */ }
    data.ok = response.ok;
    return data;
  }

  function start(box) {
    return getJSON(box.dataset.startUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(box), "Content-Type": "application/json" },
      body: "{}",
    });
  }

  // Poll the status URL until the request is decided; resolves with the final answer.
  function waitForDecision(box) {
    return new Promise(function (resolve) {
      async function poll() {
        var answer;
        try { answer = await getJSON(box.dataset.statusUrl); } catch (e) { answer = { status: "pending" }; }
        if (answer.status === "pending") { window.setTimeout(poll, POLL_MS); return; }
        resolve(answer);
      }
      window.setTimeout(poll, POLL_MS);
    });
  }

  async function ask(box, onApproved) {
    say(box, "alert", "");
    showNumber(box, null);
    var retry = box.querySelector("[data-action=retry]");
    if (retry) retry.hidden = true;
    var started = await start(box).catch(function () { return { ok: false }; });
    if (!started.ok) {
      say(box, "alert", started.error || box.dataset.msgFailed);
      if (retry) retry.hidden = false;
      return false;
    }
    showNumber(box, started.number);
    if (box.dataset.msgWaiting) say(box, "status", box.dataset.msgWaiting);
    var answer = await waitForDecision(box);
    if (answer.status === "approved") { onApproved(answer); return true; }
    showNumber(box, null);  // that request is over: its number means nothing now
    say(box, "status", "");
    say(box, "alert", answer.message || box.dataset.msgFailed);
    if (retry) retry.hidden = false;
    return false;
  }

  var setup = document.getElementById("klic-setup");
  if (setup) {
    var expires = Number(setup.dataset.expires || 0) * 1000;
    (async function poll() {
      if (expires && Date.now() > expires) {  // the code is dead: stop asking
        setup.textContent = setup.dataset.msgExpired;
        return;
      }
      try {
        var answer = await getJSON(setup.dataset.statusUrl);
        if (answer.paired && answer.redirect) { window.location.assign(answer.redirect); return; }
      } catch (e) { /* the next poll tries again */ }
      window.setTimeout(poll, POLL_MS);
    })();
  }

  var login = document.getElementById("klic-login");
  if (login) {
    var go = function () { ask(login, function (answer) { window.location.assign(answer.redirect); }); };
    var retryButton = login.querySelector("[data-action=retry]");
    if (retryButton) retryButton.addEventListener("click", go);
    go();
  }

  var reauth = document.getElementById("klic-reauth");
  if (reauth) {
    var form = reauth.closest("form");
    var approved = false;
    form.addEventListener("submit", function (event) {
      if (approved) return;
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      ask(reauth, function () { approved = true; form.submit(); })
        .finally(function () { button.disabled = false; });
    });
  }
})();
