// Security-key ceremonies with the browser's own JSON helpers. The page carries the URLs and the
// translated messages in data attributes; the server decides everything.
(function () {
  "use strict";

  function csrfToken(form) {
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function show(form, text) {
    var box = form.querySelector("[role=alert]");
    box.textContent = text;
    box.hidden = false;
  }

  async function post(form, url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
      body: JSON.stringify(body || {}),
    });
    var data = {};
    try { data = await response.json(); } catch (e) { /* an error page, not JSON */ }
    if (data.redirect && (response.ok || response.status === 403)) {
      window.location.assign(data.redirect);
      return null;
    }
    if (!response.ok) {
      throw new Error(data.error || form.dataset.msgFailed);
    }
    return data;
  }

  function supported() {
    return window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  }

  async function ceremony(form, register) {
    if (!supported()) { show(form, form.dataset.msgUnsupported); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      var options = await post(form, form.dataset.optionsUrl);
      if (!options) return;
      var credential;
      try {
        credential = register
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) });
      } catch (e) {
        show(form, form.dataset.msgCancelled);
        return;
      }
      var body = { credential: credential.toJSON() };
      if (register) {
        body.name = form.querySelector("[name=name]").value;
        body.use_for_public_administration = form.querySelector("[name=use_for_public_administration]").checked;
      }
      await post(form, form.dataset.verifyUrl, body);
    } catch (e) {
      show(form, e.message || form.dataset.msgFailed);
    } finally {
      button.disabled = false;
    }
  }

  [["webauthn-register", true], ["webauthn-login", false]].forEach(function (pair) {
    var form = document.getElementById(pair[0]);
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        ceremony(form, pair[1]);
      });
    }
  });
})();
