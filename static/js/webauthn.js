// Security-key ceremonies with the browser's own JSON helpers. Each ceremony lives in an element
// that carries the URLs and the translated messages in data attributes; the server decides
// everything. Three ceremonies: adding a key, the second login step, and re-authentication, where
// the key's answer rides along with the password in the ordinary form post.
(function () {
  "use strict";

  function csrfToken(form) {
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function show(box, text) {
    var alert = box.querySelector("[role=alert]");
    alert.textContent = text;
    alert.hidden = false;
  }

  async function post(box, url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(box.closest("form") || box) },
      body: JSON.stringify(body || {}),
    });
    var data = {};
    try { data = await response.json(); } catch (e) { /* an error page, not JSON */ }
    if (data.redirect && (response.ok || response.status === 403)) {
      window.location.assign(data.redirect);
      return null;
    }
    if (!response.ok) {
      throw new Error(data.error || box.dataset.msgFailed);
    }
    return data;
  }

  // Browsers refuse security keys on a bare IP address (http://127.0.0.1:8000 …): say where
  // they work instead of "you cancelled". The page carries the message, "{url}" stands for the
  // same page at localhost.
  function onIpAddress() {
    var host = window.location.hostname;
    return host.indexOf(":") !== -1 || host.charAt(0) === "[" || /^[0-9.]+$/.test(host);
  }

  function refusedMessage(box, error) {
    var refused = error && (error.name === "SecurityError" || error.name === "NotAllowedError");
    if (refused && onIpAddress() && box.dataset.msgAddress) {
      var here = window.location;
      var url = here.protocol + "//localhost" + (here.port ? ":" + here.port : "") +
        here.pathname + here.search;
      return box.dataset.msgAddress.replace("{url}", url);
    }
    return box.dataset.msgCancelled;
  }

  function supported() {
    return window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  }

  // mode: "register" | "login" | "reauth"
  async function ceremony(box, mode) {
    if (!supported()) { show(box, box.dataset.msgUnsupported); return; }
    var form = box.closest("form") || box;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      var options = await post(box, box.dataset.optionsUrl);
      if (!options) return;
      var credential;
      try {
        credential = mode === "register"
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) });
      } catch (e) {
        show(box, refusedMessage(box, e));
        return;
      }
      if (mode === "reauth") {
        box.querySelector("[name=credential]").value = JSON.stringify(credential.toJSON());
        form.submit();  // does not fire "submit" again
        return;
      }
      var body = { credential: credential.toJSON() };
      if (mode === "register") {
        body.name = form.querySelector("[name=name]").value;
        body.use_for_public_administration = form.querySelector("[name=use_for_public_administration]").checked;
      }
      await post(box, box.dataset.verifyUrl, body);
    } catch (e) {
      show(box, e.message || box.dataset.msgFailed);
    } finally {
      button.disabled = false;
    }
  }

  [["webauthn-register", "register"], ["webauthn-login", "login"], ["webauthn-reauth", "reauth"]].forEach(function (pair) {
    var box = document.getElementById(pair[0]);
    if (!box) return;
    var form = box.closest("form") || box;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ceremony(box, pair[1]);
    });
  });
})();
