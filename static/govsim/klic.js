// MojeID Klíč, the phone app, simulated in one page. It uses nothing but the portal's app API
// (README, "MojeID Klíč app API"): JSON bodies signed with the app's own ECDSA P-256 key, which
// WebCrypto makes non-extractable and IndexedDB keeps. The PIN never leaves the app: the portal
// gets PBKDF2(PIN, salt) once at pairing and again with every approval. Number matching: each
// request offers three numbers; the user picks the one the browser shows, then gives the PIN (or
// fingerprint), and the approval carries the pick. All texts come from the page (#klic-texts and
// the markup), so this file has no language of its own.
(function () {
  "use strict";

  var API_PATH = "/api/klic/v2/";
  var POLL_MS = 2000;
  var RETRY_MS = 5000;
  var RATE_LIMITED_MS = 10000;
  var PBKDF2_ITERATIONS = 200000;
  var DB_NAME = "mojeid-klic-simulator";
  var STORE = "device";
  var RECORD = "device";

  var texts = {};
  var el = {};
  var device = null; // {keyPair, deviceId, portal, salt, biometrics, verifier, deviceName}
  var timer = null;
  var generation = 0; // bumped whenever the device changes: stale answers are ignored
  var shown = new Map(); // request id -> {request, item}
  var current = null; // the request in the approve panel
  var picked = null; // the number the user picked for it
  var busy = false;
  var errorFrom = null; // "poll" or "action": a successful poll clears only its own errors

  // --- Texts and screen -------------------------------------------------------------------

  function t(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function setStatus(state) {
    el.status.dataset.state = state;
    el.status.textContent = t("status_" + state);
  }

  function showScreen(name) {
    ["pair", "waiting", "requests", "blocked", "gone"].forEach(function (screen) {
      el["screen-" + screen].hidden = screen !== name;
    });
    el["device-footer"].hidden = !device;
    if (device) {
      el["device-id"].textContent = device.deviceId;
      el["device-portal"].textContent = device.portal;
    }
    if (name !== "requests") closeApprove();
  }

  function showError(text, from) {
    el.error.textContent = text;
    el.error.hidden = false;
    errorFrom = from || "action";
  }

  function clearError(from) {
    if (from && errorFrom !== from) return;
    el.error.textContent = "";
    el.error.hidden = true;
    errorFrom = null;
  }

  function notify(text) {
    el.notice.textContent = text;
    el.notice.hidden = !text;
  }

  // --- Encoding ---------------------------------------------------------------------------

  function toBase64url(bytes) {
    var binary = "";
    new Uint8Array(bytes).forEach(function (byte) { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    return Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
  }

  function randomBytes(length) {
    return crypto.getRandomValues(new Uint8Array(length));
  }

  // --- IndexedDB: the key pair (as CryptoKey objects) and the device's state -------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function transact(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function loadDevice() { return transact("readonly", function (s) { return s.get(RECORD); }); }
  function saveDevice(record) { return transact("readwrite", function (s) { return s.put(record, RECORD); }); }
  function deleteDevice() { return transact("readwrite", function (s) { return s.delete(RECORD); }); }

  // --- Cryptography -----------------------------------------------------------------------

  async function pinVerifier(pin, salt) {
    var material = await crypto.subtle.importKey(
      "raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
    var bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: PBKDF2_ITERATIONS }, material, 256);
    return toBase64url(bits);
  }

  async function signature(privateKey, body) {
    var signed = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(body));
    return toBase64url(signed); // WebCrypto gives the raw 64-byte r‖s form
  }

  // --- The portal's app API ---------------------------------------------------------------

  function ApiError(code, message, data) {
    this.code = code;
    this.message = message;
    this.data = data || {};
  }

  async function call(portal, endpoint, fields, keyPair, deviceId) {
    var body = JSON.stringify(Object.assign({}, fields, {
      timestamp: Math.floor(Date.now() / 1000),
      nonce: toBase64url(randomBytes(16)),
    }));
    var headers = {
      "Content-Type": "application/json",
      "X-Klic-Signature": await signature(keyPair.privateKey, body),
    };
    if (deviceId) headers["X-Klic-Device"] = deviceId;
    var response;
    try {
      response = await fetch(portal + API_PATH + endpoint, {
        method: "POST", headers: headers, body: body, credentials: "omit", cache: "no-store",
      });
    } catch (e) {
      throw new ApiError("network", t("error_network"));
    }
    var data = null;
    try { data = await response.json(); } catch (e) { /* not JSON: an error page */ }
    if (!response.ok) {
      if (data && typeof data.error === "string") {
        throw new ApiError(data.error, data.message || t("error_http", { status: response.status }), data);
      }
      throw new ApiError("http", t("error_http", { status: response.status }));
    }
    if (!data || typeof data !== "object") throw new ApiError("answer", t("error_answer"));
    return data;
  }

  function deviceCall(endpoint, fields) {
    return call(device.portal, endpoint, fields || {}, device.keyPair, device.deviceId);
  }

  // --- Pairing ----------------------------------------------------------------------------

  function portalOrigin(text) {
    var url;
    try { url = new URL(text.trim()); } catch (e) { return null; }
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  }

  // The QR content "mojeidklic:activate?code=…&portal=…", or a typed code (portal: the field).
  function readPairInput(raw, typedPortal) {
    var text = raw.trim();
    var code = text;
    var portal = typedPortal;
    if (/^mojeidklic:/i.test(text)) {
      var rest = text.slice("mojeidklic:".length).replace(/^\/\//, "");
      var query = rest.indexOf("?");
      var params = new URLSearchParams(query < 0 ? "" : rest.slice(query + 1));
      if ((query < 0 ? rest : rest.slice(0, query)).toLowerCase() !== "activate" ||
          !params.get("code") || !params.get("portal")) {
        throw new Error(t("error_qr"));
      }
      code = params.get("code");
      portal = params.get("portal");
    }
    code = code.replace(/[\s-]+/g, "").toUpperCase();
    if (!/^[A-Z0-9]{12}$/.test(code)) throw new Error(t("error_code"));
    var origin = portalOrigin(portal || "");
    if (!origin) throw new Error(t("error_portal"));
    return { code: code.match(/.{4}/g).join("-"), portal: origin };
  }

  async function pair(event) {
    event.preventDefault();
    clearError();
    notify("");
    var input;
    try {
      input = readPairInput(el["pair-input"].value, el["portal-origin"].value);
    } catch (e) {
      showError(e.message);
      el["pair-input"].focus();
      return;
    }
    var pin = el.pin.value;
    if (!/^[0-9]{4,8}$/.test(pin)) { showError(t("error_pin_format")); el.pin.focus(); return; }
    if (pin !== el["pin-again"].value) {
      showError(t("error_pin_mismatch"));
      el["pin-again"].focus();
      return;
    }
    var biometrics = el.biometrics.checked;
    var deviceName = el["device-name"].value.trim() || el["device-name"].defaultValue;
    el["pair-button"].disabled = true;
    setStatus("pairing");
    try {
      var keyPair = await crypto.subtle.generateKey(
        { name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      var publicKey = toBase64url(await crypto.subtle.exportKey("spki", keyPair.publicKey));
      var salt = randomBytes(16);
      var verifier = await pinVerifier(pin, salt);
      var answer = await call(input.portal, "pair", {
        activation_code: input.code,
        public_key: publicKey,
        pin_verifier: verifier,
        biometrics: biometrics,
        device_name: deviceName,
      }, keyPair, null);
      if (typeof answer.device_id !== "string" || !answer.device_id) {
        throw new ApiError("answer", t("error_answer"));
      }
      var record = {
        keyPair: { publicKey: keyPair.publicKey, privateKey: keyPair.privateKey },
        deviceId: answer.device_id,
        portal: input.portal,
        salt: toBase64url(salt),
        biometrics: biometrics,
        verifier: biometrics ? verifier : null, // behind the "fingerprint"; never otherwise
        deviceName: deviceName,
        pairedAt: new Date().toISOString(),
      };
      await saveDevice(record);
      el["pair-form"].reset();
      el["portal-origin"].value = window.location.origin;
      start(record, answer.status);
    } catch (e) {
      setStatus("unpaired");
      showError(e.message);
    } finally {
      el["pair-button"].disabled = false;
    }
  }

  // --- Polling ----------------------------------------------------------------------------

  function start(record, status) {
    device = record;
    generation += 1;
    closeApprove();
    shown.forEach(function (entry) { entry.item.remove(); });
    shown.clear();
    if (status === "active") enterActive(); else enterPending(status === "blocked");
  }

  function later(work, ms) {
    var mine = generation;
    clearTimeout(timer);
    timer = setTimeout(function () { if (mine === generation) work(); }, ms);
  }

  function enterPending(blocked) {
    setStatus(blocked ? "blocked" : "pending");
    showScreen(blocked ? "blocked" : "waiting");
    later(pollStatus, POLL_MS);
  }

  function enterActive() {
    setStatus("active");
    showScreen("requests");
    pollRequests();
  }

  async function pollStatus() {
    var mine = generation;
    try {
      var answer = await deviceCall("status");
      if (mine !== generation) return;
      // A new state makes the last error (say, the one that blocked the app) old news.
      clearError(answer.status === el.status.dataset.state ? "poll" : null);
      if (answer.status === "active") { enterActive(); return; }
      enterPending(answer.status === "blocked");
    } catch (e) {
      if (mine === generation) pollFailed(e, pollStatus);
    }
  }

  async function pollRequests() {
    var mine = generation;
    try {
      var answer = await deviceCall("requests");
      if (mine !== generation) return;
      clearError("poll");
      showRequests(Array.isArray(answer.requests) ? answer.requests : []);
      later(pollRequests, POLL_MS);
    } catch (e) {
      if (mine === generation) pollFailed(e, pollRequests);
    }
  }

  // What every answer of the portal means for the app as a whole.
  function deviceStateFrom(error) {
    if (error.code === "blocked") { enterPending(true); return true; }
    if (error.code === "not_active") { enterPending(false); return true; }
    if (error.code === "unknown_device") {
      generation += 1;
      clearTimeout(timer);
      setStatus("gone");
      showScreen("gone");
      return true;
    }
    return false;
  }

  function pollFailed(error, again) {
    if (deviceStateFrom(error)) return;
    showError(error.message, "poll");
    later(again, error.code === "rate_limited" ? RATE_LIMITED_MS : RETRY_MS);
  }

  // --- Requests ---------------------------------------------------------------------------

  // In the page's language and the portal's time zone (the page's data-time-zone, Prague), not
  // the phone's: the times must match what the portal's page in the browser shows.
  function when(iso) {
    var date = new Date(iso);
    if (!iso || isNaN(date.getTime())) return t("unknown");
    var root = document.documentElement;
    return new Intl.DateTimeFormat(root.lang || undefined, {
      dateStyle: "medium", timeStyle: "medium", timeZone: root.dataset.timeZone || undefined,
    }).format(date);
  }

  function showRequests(requests) {
    var ids = new Set();
    requests.forEach(function (request) {
      if (!request || typeof request.id !== "string") return;
      ids.add(request.id);
      if (!shown.has(request.id)) shown.set(request.id, { request: request, item: addItem(request) });
    });
    shown.forEach(function (entry, id) {
      if (ids.has(id)) return;
      if (current && current.id === id) notify(t("request_gone"));
      forget(id);
    });
    el["no-requests"].hidden = shown.size > 0;
  }

  function addItem(request) {
    var item = el["request-template"].content.firstElementChild.cloneNode(true);
    var heading = item.querySelector(".service");
    heading.id = "request-" + request.id;
    heading.textContent = request.service || t("unknown");
    item.dataset.requestId = request.id;
    item.querySelector(".browser").textContent = request.browser || t("unknown");
    item.querySelector(".ip").textContent = request.ip_address || t("unknown");
    item.querySelector(".time").textContent = when(request.created_at);
    item.querySelector(".expires").textContent = when(request.expires_at);
    var numbers = item.querySelector(".numbers");
    (Array.isArray(request.numbers) ? request.numbers : []).forEach(function (number) {
      if (typeof number !== "number" || !Number.isInteger(number)) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "number";
      button.dataset.number = String(number);
      button.setAttribute("aria-pressed", "false");
      button.textContent = String(number);
      button.addEventListener("click", function () { openApprove(request, number); });
      numbers.appendChild(button);
    });
    item.querySelectorAll("button").forEach(function (button) {
      button.setAttribute("aria-describedby", heading.id);
    });
    item.querySelector(".deny").addEventListener("click", function () {
      decide("deny", request, { request: request.id, challenge: request.challenge });
    });
    el.requests.appendChild(item);
    return item;
  }

  function forget(id) {
    if (current && current.id === id) closeApprove();
    var entry = shown.get(id);
    if (entry) entry.item.remove();
    shown.delete(id);
    el["no-requests"].hidden = shown.size > 0;
  }

  function openApprove(request, number) {
    current = request;
    picked = number;
    clearError();
    notify("");
    shown.get(request.id).item.querySelectorAll(".number").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.number === String(number)));
    });
    var fingerprint = Boolean(device.biometrics && device.verifier);
    el["approve-number"].textContent = t(fingerprint ? "picked_biometrics" : "picked", { number: number });
    el["approve-service"].textContent = request.service || t("unknown");
    el["approve-details"].textContent = [request.browser, request.ip_address, when(request.created_at)]
      .filter(Boolean).join(" · ");
    el["approve-pin"].value = "";
    el["pin-attempts"].hidden = true;
    el["approve-fingerprint"].hidden = !fingerprint;
    shown.get(request.id).item.appendChild(el["approve-panel"]); // right below what it approves
    el["approve-panel"].hidden = false;
    el["approve-pin"].focus();
  }

  function closeApprove() {
    if (current && shown.has(current.id)) {
      shown.get(current.id).item.querySelectorAll(".number").forEach(function (button) {
        button.setAttribute("aria-pressed", "false");
      });
    }
    current = null;
    picked = null;
    el["approve-panel"].hidden = true;
    el["screen-requests"].appendChild(el["approve-panel"]); // home, out of any list item
  }

  async function approveWithPin(event) {
    event.preventDefault();
    if (!current || busy) return;
    var pin = el["approve-pin"].value;
    if (!/^[0-9]{4,8}$/.test(pin)) {
      showError(t("error_pin_format"));
      el["approve-pin"].focus();
      return;
    }
    var request = current;
    var number = picked;
    busy = true; // deriving takes a moment; no second click meanwhile
    var proof;
    try { proof = await pinVerifier(pin, fromBase64url(device.salt)); } finally { busy = false; }
    decide("approve", request, {
      request: request.id, challenge: request.challenge, number: number, pin_proof: proof,
      method: "pin",
    });
  }

  function approveWithFingerprint() {
    if (!current || !device.verifier) return;
    decide("approve", current, {
      request: current.id, challenge: current.challenge, number: picked,
      pin_proof: device.verifier, method: "biometrics",
    });
  }

  async function decide(endpoint, request, fields) {
    if (busy) return;
    busy = true;
    var mine = generation;
    var buttons = document.querySelectorAll("#screen-requests button");
    buttons.forEach(function (button) { button.disabled = true; });
    clearError();
    notify("");
    try {
      await deviceCall(endpoint, fields);
      if (mine !== generation) return;
      forget(request.id);
      closeApprove();
      notify(t(endpoint === "approve" ? "approved" : "denied", { service: request.service || t("unknown") }));
    } catch (e) {
      if (mine !== generation) return;
      showError(e.message);
      if (e.code === "wrong_pin") {
        var left = e.data.pin_attempts_left;
        if (typeof left === "number") {
          el["pin-attempts"].textContent = t("attempts_left", { n: left });
          el["pin-attempts"].hidden = false;
        }
        el["approve-pin"].value = "";
        if (left === 0) later(pollStatus, 0); else el["approve-pin"].focus();
      } else if (["expired", "not_pending", "unknown_request", "wrong_challenge", "wrong_number"]
        .indexOf(e.code) >= 0) {  // that request is over (a wrong number denied it)
        forget(request.id);
        closeApprove();
      } else {
        deviceStateFrom(e);
      }
    } finally {
      busy = false;
      buttons.forEach(function (button) { button.disabled = false; });
    }
  }

  // --- Forgetting -------------------------------------------------------------------------

  async function forgetDevice() {
    generation += 1;
    clearTimeout(timer);
    try { await deleteDevice(); } catch (e) { showError(e.message); return; }
    device = null;
    closeApprove();
    shown.forEach(function (entry) { entry.item.remove(); });
    shown.clear();
    clearError();
    setStatus("unpaired");
    showScreen("pair");
    notify(t("forgotten"));
  }

  // --- Start ------------------------------------------------------------------------------

  async function init() {
    document.querySelectorAll("#klic-texts [data-text]").forEach(function (span) {
      texts[span.dataset.text] = span.textContent;
    });
    document.querySelectorAll("#klic-app [id], #request-template").forEach(function (node) {
      el[node.id] = node;
    });
    el["portal-origin"].value = window.location.origin;
    el["pair-form"].addEventListener("submit", pair);
    el["approve-form"].addEventListener("submit", approveWithPin);
    el["approve-fingerprint"].addEventListener("click", approveWithFingerprint);
    el["approve-cancel"].addEventListener("click", function () { closeApprove(); clearError(); });
    el.forget.addEventListener("click", forgetDevice);

    if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
      setStatus("unpaired");
      showScreen("pair");
      el["pair-button"].disabled = true;
      showError(t("error_insecure"));
      return;
    }
    var record;
    try {
      record = await loadDevice();
    } catch (e) {
      setStatus("unpaired");
      showScreen("pair");
      el["pair-button"].disabled = true;
      showError(t("error_storage"));
      return;
    }
    if (record) {
      device = record;
      showScreen("waiting");
      pollStatus();
    } else {
      setStatus("unpaired");
      showScreen("pair");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
