"""The MojeID Klíč phone-app simulator at /sim/klic/.

The page is served by Django, but the app itself is JavaScript that talks to the portal only
through the app API of the README ("The app API", version 2 with number matching). The browser
tests play the portal with Playwright's request interception: the fake portal below checks every
call as the real one must (signature against the key sent at pairing, fresh nonces, recent
timestamps, the number picked being the one the browser shows, the PIN proof equal to the verifier
sent at pairing) and answers per the contract, so the app is tested without the portal's side of
the API.
"""

import base64
import hashlib
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from django.db import connections

from tests.browser import ARGS, BROWSER_MARKS, CHROMIUM

URL = "/sim/klic/"
API = "/api/klic/v2/"
GOVSIM = Path(__file__).resolve().parents[1]

CODE = "ABCD-EFGH-JK23"
PIN = "2468"
WAIT = 10_000  # ms: the app polls every 2 s


# --- The page, served by Django -------------------------------------------------------------


@pytest.mark.django_db
def test_the_app_page_renders_with_its_script_and_the_pairing_form(client):
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en" data-time-zone="Europe/Prague">' in page
    assert 'src="/static/govsim/klic.js"' in page
    assert 'href="/static/govsim/klic.css"' in page
    for element in ('id="pair-form"', 'id="pair-input"', 'id="pin"', 'id="pin-again"'):
        assert element in page
    assert 'id="biometrics" name="biometrics" type="checkbox"' in page
    assert '<label for="pair-input">' in page
    assert 'id="klic-texts"' in page and 'data-text="attempts_left"' in page
    assert "Activate the app" in page


@pytest.mark.django_db
def test_the_page_is_read_only(client):
    assert client.post(URL).status_code == 405


def test_the_script_has_no_texts_of_its_own():
    """Every user-visible text comes from the page, translated there."""
    script = (GOVSIM.parent / "static" / "govsim" / "klic.js").read_text(encoding="utf-8")
    template = (GOVSIM.parent / "templates" / "govsim" / "klic.html").read_text(encoding="utf-8")

    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("//"))
    literals = re.findall(r""""([^"\\]*)"|'([^'\\]*)'""", code)
    prose = [
        text
        for pair in literals
        for text in pair
        if re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", text)
        and not text.startswith("#")
        and text != "use strict"
    ]
    assert prose == []
    for text in ("PIN attempts left", "Waiting for confirmation", "Blocked", "Not activated"):
        assert text not in code
    for key in (
        "status_unpaired",
        "status_pending",
        "status_active",
        "status_blocked",
        "status_gone",
        "attempts_left",
        "approved",
        "denied",
        "error_network",
        "picked",
    ):
        assert f'data-text="{key}"' in template, key


# --- A fake portal, played through Playwright's request interception ---------------------------


def b64url_decode(text: str) -> bytes:
    assert isinstance(text, str) and "=" not in text, f"not unpadded base64url: {text!r}"
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Refused(Exception):
    """The fake portal's error answer (status, JSON) per the contract."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(code)
        self.answer = status, {"error": code, "message": message, **extra}


@dataclass
class Call:
    endpoint: str
    headers: dict
    body: dict


@dataclass
class FakePortal:
    codes: set = field(default_factory=lambda: {CODE})
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "pending"
    pin_attempts_left: int = 5
    public_key: ec.EllipticCurvePublicKey | None = None
    pair_body: dict | None = None
    requests: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    nonces: set = field(default_factory=set)
    problems: list = field(default_factory=list)

    def handle(self, route):
        request = route.request
        endpoint = request.url.split(API, 1)[1]
        try:
            status, answer = self._answer(endpoint, request)
        except Refused as refused:
            status, answer = refused.answer
        except Exception as error:  # never leave the page hanging; the test reports it
            self.problems.append(f"{endpoint}: {error!r}")
            status, answer = 400, {"error": "bad_request", "message": f"Fake portal: {error}"}
        route.fulfill(status=status, content_type="application/json", body=json.dumps(answer))

    def calls_to(self, endpoint: str) -> list[Call]:
        return [call for call in self.calls if call.endpoint == endpoint]

    def add_request(self, service="Daňový portál", browser="Firefox on Windows", **fields):
        """A sign-in waiting for the app; its "shown" number is what the browser would show."""
        now = time.time()
        numbers = random.sample(range(10, 100), 3)
        request = {
            "id": str(uuid.uuid4()),
            "challenge": b64url(os.urandom(32)),
            "numbers": numbers,
            "shown": random.choice(numbers),
            "service": service,
            "browser": browser,
            "ip_address": "198.51.100.7",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 120)),
            "state": "pending",
        }
        request.update(fields)
        self.requests.append(request)
        return request

    # What the real portal must check in every call.
    def _checked(self, endpoint, request) -> dict:
        headers = request.all_headers()
        if request.method != "POST":
            raise AssertionError(f"{request.method}, not POST")
        if headers.get("content-type") != "application/json":
            raise AssertionError(f"Content-Type {headers.get('content-type')!r}")
        raw = request.post_data_buffer
        body = json.loads(raw.decode("utf-8"))
        signature = b64url_decode(headers["x-klic-signature"])
        if len(signature) != 64:
            raise AssertionError(f"a signature of {len(signature)} bytes")
        if endpoint == "pair":
            if "x-klic-device" in headers:
                raise AssertionError("X-Klic-Device sent with pair")
            key = serialization.load_der_public_key(b64url_decode(body["public_key"]))
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise AssertionError(f"not a P-256 key: {key!r}")
        else:
            if headers.get("x-klic-device") != self.device_id:
                raise AssertionError(f"X-Klic-Device {headers.get('x-klic-device')!r}")
            key = self.public_key
        der = utils.encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            key.verify(der, raw, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            self.problems.append(f"{endpoint}: bad signature")
            raise Refused(401, "bad_signature", "The signature does not match.") from None
        if not isinstance(body.get("timestamp"), int) or abs(body["timestamp"] - time.time()) > 300:
            raise AssertionError(f"timestamp {body.get('timestamp')!r}")
        if len(b64url_decode(body["nonce"])) < 16:
            raise AssertionError("a nonce shorter than 16 bytes")
        if body["nonce"] in self.nonces:
            self.problems.append(f"{endpoint}: nonce replayed")
            raise Refused(401, "replayed", "This call was made before.")
        self.nonces.add(body["nonce"])
        self.calls.append(Call(endpoint, headers, body))
        return body

    def _answer(self, endpoint, request):
        body = self._checked(endpoint, request)
        if endpoint == "pair":
            if body["activation_code"] not in self.codes:
                raise Refused(400, "invalid_code", "The activation code is not valid (portal).")
            if len(b64url_decode(body["pin_verifier"])) != 32:
                raise AssertionError("a PIN verifier that is not 32 bytes")
            if not isinstance(body["biometrics"], bool) or not body["device_name"]:
                raise AssertionError("biometrics or device_name missing")
            self.codes.discard(body["activation_code"])
            self.public_key = serialization.load_der_public_key(b64url_decode(body["public_key"]))
            self.pair_body = body
            return 201, {"device_id": self.device_id, "status": "pending"}
        if endpoint == "status":
            return 200, {"status": self.status, "pin_attempts_left": self.pin_attempts_left}
        if self.status == "blocked":
            raise Refused(423, "blocked", "MojeID Klíč is blocked (portal).")
        if self.status != "active":
            raise Refused(409, "not_active", "The pairing is not confirmed yet (portal).")
        if endpoint == "requests":
            shown = [r for r in self.requests if r["state"] == "pending"]
            hidden = ("state", "shown")  # the portal's own: never sent to the app
            return 200, {
                "requests": [{k: v for k, v in r.items() if k not in hidden} for r in shown]
            }
        wanted = next((r for r in self.requests if r["id"] == body["request"]), None)
        if wanted is None:
            raise Refused(404, "unknown_request", "No such request (portal).")
        if body["challenge"] != wanted["challenge"]:
            raise Refused(400, "wrong_challenge", "The challenge does not match (portal).")
        if wanted["state"] == "expired":
            raise Refused(410, "expired", "The sign-in request has expired (portal).")
        if wanted["state"] != "pending":
            raise Refused(409, "not_pending", "This sign-in was decided already (portal).")
        if endpoint == "deny":
            wanted["state"] = "denied"
            return 200, {"status": "denied"}
        if body["method"] not in ("pin", "biometrics"):
            raise AssertionError(f"method {body['method']!r}")
        if type(body.get("number")) is not int:
            raise AssertionError(f"number {body.get('number')!r} is not a JSON integer")
        if body["number"] != wanted["shown"]:
            wanted["state"] = "denied"
            raise Refused(403, "wrong_number", "Not the number your browser shows (portal).")
        if body["pin_proof"] != self.pair_body["pin_verifier"]:
            self.pin_attempts_left -= 1
            if self.pin_attempts_left == 0:
                self.status = "blocked"
                raise Refused(423, "blocked", "Too many wrong PINs: MojeID Klíč is blocked.")
            raise Refused(
                403,
                "wrong_pin",
                "Wrong PIN (portal).",
                pin_attempts_left=self.pin_attempts_left,
            )
        self.pin_attempts_left = 5
        wanted["state"] = "approved"
        return 200, {"status": "approved"}


# --- The browser ----------------------------------------------------------------------------


def browser_test(test):
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@pytest.fixture
def app(live_server):
    """(page, origin, portal): the simulator open in Chromium, its API calls going to a fake."""
    from playwright.sync_api import sync_playwright

    # WebCrypto needs a secure context: http://localhost is one, http://127.0.0.1 may not be.
    origin = live_server.url.replace("127.0.0.1", "localhost")
    portal = FakePortal()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            # A phone abroad: the app still shows Prague time, as the portal does.
            context = browser.new_context(locale="en-GB", timezone_id="America/New_York")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.route(f"**{API}**", portal.handle)
            page.goto(f"{origin}{URL}")
            yield page, origin, portal
            browser.close()
        assert portal.problems == [], "the fake portal found faults in the app's calls"
    finally:
        # Playwright's sync API runs the test on a greenlet, where Django keeps a database
        # connection of its own; close it here, or it keeps the test database busy at teardown.
        connections.close_all()


def qr_content(code: str, portal: str) -> str:
    return f"mojeidklic:activate?code={code}&portal={quote(portal, safe='')}"


def stored_device(page) -> dict | None:
    """What the app keeps in IndexedDB (the private key only as its extractable flag)."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("mojeid-klic-simulator");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                const get = db.transaction("device").objectStore("device").get("device");
                get.onsuccess = () => {
                    const r = get.result;
                    db.close();
                    resolve(r ? {
                        deviceId: r.deviceId, portal: r.portal, salt: r.salt,
                        biometrics: r.biometrics, verifier: r.verifier,
                        privateType: r.keyPair.privateKey.type,
                        privateExtractable: r.keyPair.privateKey.extractable,
                        algorithm: r.keyPair.privateKey.algorithm.namedCurve,
                    } : null);
                };
            };
        })"""
    )


def pair(page, text, pin=PIN, *, biometrics=False):
    page.fill("#pair-input", text)
    page.fill("#pin", pin)
    page.fill("#pin-again", pin)
    if biometrics:
        page.check("#biometrics")
    page.click("#pair-button")


def pair_and_activate(page, origin, portal, *, biometrics=False):
    from playwright.sync_api import expect

    pair(page, qr_content(CODE, origin), biometrics=biometrics)
    expect(page.locator("#status")).to_contain_text("Waiting for confirmation")
    portal.status = "active"
    expect(page.locator("#status")).to_have_text("Active", timeout=WAIT)


def pick(page, number: int) -> None:
    """Tap `number` among those the request offers."""
    page.locator(f'.request .number[data-number="{number}"]').click()


def verifier_of(pin: str, salt: str) -> str:
    return b64url(hashlib.pbkdf2_hmac("sha256", pin.encode(), b64url_decode(salt), 200_000, 32))


# --- Pairing --------------------------------------------------------------------------------


@browser_test
def test_pairing_by_pasted_qr_content_waits_for_confirmation_then_becomes_active(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    expect(page.locator("#status")).to_have_text("Not activated")

    pair(page, qr_content(CODE, origin))

    expect(page.locator("#status")).to_contain_text(
        "Waiting for confirmation: sign in to MojeID again in your browser."
    )
    expect(page.locator("#screen-waiting")).to_be_visible()
    [call] = portal.calls_to("pair")
    body = call.body
    assert set(body) == {
        "activation_code",
        "public_key",
        "pin_verifier",
        "biometrics",
        "device_name",
        "timestamp",
        "nonce",
    }
    assert body["activation_code"] == CODE
    assert body["biometrics"] is False
    assert body["device_name"] == "MojeID Klíč simulator"
    assert "x-klic-device" not in call.headers

    stored = stored_device(page)
    assert stored["deviceId"] == portal.device_id
    assert stored["portal"] == origin
    assert stored["privateType"] == "private" and stored["privateExtractable"] is False
    assert stored["algorithm"] == "P-256"
    assert stored["biometrics"] is False and stored["verifier"] is None, "no PIN verifier kept"
    assert body["pin_verifier"] == verifier_of(PIN, stored["salt"])
    assert len(b64url_decode(stored["salt"])) == 16

    expect(page.locator("#device-id")).to_have_text(portal.device_id)
    page.wait_for_timeout(2500)  # a status poll or two
    assert portal.calls_to("status"), "the app asks for its status while pending"
    assert portal.calls_to("requests") == [], "no requests asked for before confirmation"

    portal.status = "active"

    expect(page.locator("#status")).to_have_text("Active", timeout=WAIT)
    expect(page.locator("#screen-requests")).to_be_visible()
    expect(page.locator("#no-requests")).to_be_visible()
    for call in portal.calls_to("status") + portal.calls_to("requests"):
        assert call.headers["x-klic-device"] == portal.device_id
        assert set(call.body) == {"timestamp", "nonce"}


@browser_test
def test_pairing_by_a_typed_code_uses_this_page_as_the_portal(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    assert page.input_value("#portal-origin") == origin

    pair(page, " abcd efgh-jk23 ")

    expect(page.locator("#status")).to_contain_text("Waiting for confirmation")
    [call] = portal.calls_to("pair")
    assert call.body["activation_code"] == CODE
    assert stored_device(page)["portal"] == origin


@browser_test
def test_the_portals_refusal_and_bad_input_are_shown(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    alert = page.locator("[role=alert]")

    pair(page, "mojeidklic:something-else?x=1")
    expect(alert).to_have_text("This is not the content of a MojeID Klíč QR code.")

    pair(page, "ABCD-EFGH")
    expect(alert).to_contain_text("An activation code has 12 letters and digits")

    pair(page, CODE, pin="12")
    expect(alert).to_have_text("The PIN must have 4 to 8 digits.")

    page.fill("#pair-input", CODE)
    page.fill("#pin", "1234")
    page.fill("#pin-again", "1243")
    page.click("#pair-button")
    expect(alert).to_have_text("The two PINs are not the same.")
    assert portal.calls == [], "nothing sent while the form is wrong"

    pair(page, qr_content("WXYZ-WXYZ-WXYZ", origin))
    expect(alert).to_have_text("The activation code is not valid (portal).")
    expect(page.locator("#status")).to_have_text("Not activated")
    assert stored_device(page) is None


# --- Requests -------------------------------------------------------------------------------


@browser_test
def test_a_request_is_listed_and_approved_with_the_pin(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)

    wanted = portal.add_request(service="Portál občana", browser="Chrome on Android")

    item = page.locator(".request")
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item).to_contain_text("Portál občana")
    expect(item).to_contain_text("Chrome on Android")
    expect(item).to_contain_text("198.51.100.7")
    assert item.get_attribute("data-request-id") == wanted["id"]
    offered = item.locator(".numbers .number")
    expect(offered).to_have_text([str(n) for n in wanted["numbers"]])
    assert item.locator(".approve").count() == 0, "no way to approve but by a number"

    pick(page, wanted["shown"])
    expect(page.locator("#approve-panel")).to_be_visible()
    expect(page.locator("#approve-number")).to_have_text(
        f"You picked {wanted['shown']}. Approve with your PIN."
    )
    expect(page.locator("#approve-fingerprint")).to_be_hidden()
    page.fill("#approve-pin", PIN)
    page.click("#approve-confirm")

    expect(page.locator("#notice")).to_have_text("Approved: “Portál občana”")
    expect(page.locator(".request")).to_have_count(0)
    [call] = portal.calls_to("approve")
    assert call.body["request"] == wanted["id"]
    assert call.body["challenge"] == wanted["challenge"]
    assert call.body["number"] == wanted["shown"]
    assert call.body["method"] == "pin"
    assert call.body["pin_proof"] == portal.pair_body["pin_verifier"]
    assert call.headers["x-klic-device"] == portal.device_id
    assert wanted["state"] == "approved"


@browser_test
def test_the_portals_own_sign_in_reads_as_one_approval(app):
    """The portal names its own sign-in "MojeID sign-in": the notice quotes it, never "Sign-in
    to MojeID sign-in approved."."""
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)
    wanted = portal.add_request(service="MojeID sign-in")
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)

    pick(page, wanted["shown"])
    page.fill("#approve-pin", PIN)
    page.click("#approve-confirm")

    expect(page.locator("#notice")).to_have_text("Approved: “MojeID sign-in”")
    assert "Sign-in to" not in page.locator("#notice").inner_text()


@browser_test
def test_times_are_shown_in_prague_time_whatever_the_phones_clock(app):
    """The browser runs in New York; the request's times are Prague's, as on the portal."""
    from playwright.sync_api import expect

    page, origin, portal = app
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    pair_and_activate(page, origin, portal)
    # 12:00 UTC in January is 13:00 in Prague (07:00 in New York); in July 14:00 (CEST).
    portal.add_request(created_at="2026-01-15T12:00:00Z", expires_at="2026-07-15T12:02:00Z")

    item = page.locator(".request")
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item.locator(".time")).to_have_text("Jan 15, 2026, 1:00:00 PM")
    expect(item.locator(".expires")).to_have_text("Jul 15, 2026, 2:02:00 PM")


@browser_test
def test_a_wrong_pick_is_denied_by_the_portal_and_the_request_is_dropped(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)
    wanted = portal.add_request(service="Portál občana")
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)
    wrong = next(n for n in wanted["numbers"] if n != wanted["shown"])

    pick(page, wrong)
    expect(page.locator(f'.number[data-number="{wrong}"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    page.fill("#approve-pin", PIN)
    page.click("#approve-confirm")

    expect(page.locator("[role=alert]")).to_have_text("Not the number your browser shows (portal).")
    expect(page.locator(".request")).to_have_count(0)
    expect(page.locator("#approve-panel")).to_be_hidden()
    [call] = portal.calls_to("approve")
    assert call.body["number"] == wrong
    assert wanted["state"] == "denied"
    assert portal.pin_attempts_left == 5, "a wrong pick is not a wrong PIN"


@browser_test
def test_a_request_is_denied(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)
    wanted = portal.add_request(service="ePrescription")
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)

    page.locator(".request .deny").click()

    expect(page.locator("#notice")).to_have_text("Denied: “ePrescription”")
    expect(page.locator(".request")).to_have_count(0)
    [call] = portal.calls_to("deny")
    assert set(call.body) == {"request", "challenge", "timestamp", "nonce"}
    assert call.body["request"] == wanted["id"]
    assert call.body["challenge"] == wanted["challenge"]
    assert wanted["state"] == "denied"


@browser_test
def test_a_wrong_pin_shows_the_attempts_left_and_the_last_one_blocks_the_app(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)
    portal.pin_attempts_left = 2
    wanted = portal.add_request()
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)
    pick(page, wanted["shown"])

    page.fill("#approve-pin", "1357")
    page.click("#approve-confirm")

    expect(page.locator("[role=alert]")).to_have_text("Wrong PIN (portal).")
    expect(page.locator("#pin-attempts")).to_have_text("PIN attempts left: 1")
    expect(page.locator("#approve-panel")).to_be_visible()
    [wrong] = portal.calls_to("approve")
    assert wrong.body["pin_proof"] != portal.pair_body["pin_verifier"]
    assert wrong.body["method"] == "pin"
    assert wanted["state"] == "pending"

    page.fill("#approve-pin", "9999")
    page.click("#approve-confirm")

    expect(page.locator("#status")).to_have_text("Blocked")
    expect(page.locator("#screen-blocked")).to_be_visible()
    expect(page.locator("[role=alert]")).to_have_text(
        "Too many wrong PINs: MojeID Klíč is blocked."
    )
    expect(page.locator("#screen-requests")).to_be_hidden()
    assert len({call.body["pin_proof"] for call in portal.calls_to("approve")}) == 2

    # Unblocked by the helpdesk: the app notices and is active again.
    portal.status = "active"
    expect(page.locator("#status")).to_have_text("Active", timeout=WAIT)
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)
    expect(page.locator("[role=alert]")).to_be_hidden()


@browser_test
def test_an_expired_request_is_explained_and_dropped(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)
    wanted = portal.add_request()
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)
    wanted["state"] = "expired"  # the portal still lists it, but refuses a decision

    page.locator(".request .deny").click()

    expect(page.locator("[role=alert]")).to_have_text("The sign-in request has expired (portal).")
    expect(page.locator("#approve-panel")).to_be_hidden()


@browser_test
def test_with_biometrics_the_fingerprint_approves(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal, biometrics=True)
    assert portal.pair_body["biometrics"] is True
    stored = stored_device(page)
    assert stored["biometrics"] is True
    assert (
        stored["verifier"] == portal.pair_body["pin_verifier"] == verifier_of(PIN, stored["salt"])
    )
    wanted = portal.add_request(service="Datové schránky")
    expect(page.locator(".request")).to_have_count(1, timeout=WAIT)

    pick(page, wanted["shown"])
    page.click("#approve-fingerprint")

    expect(page.locator("#notice")).to_have_text("Approved: “Datové schránky”")
    [call] = portal.calls_to("approve")
    assert call.body["method"] == "biometrics"
    assert call.body["number"] == wanted["shown"]
    assert call.body["pin_proof"] == portal.pair_body["pin_verifier"]
    assert call.body["challenge"] == wanted["challenge"]


@browser_test
def test_the_device_survives_a_reload_and_can_be_forgotten(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair(page, qr_content(CODE, origin))
    expect(page.locator("#status")).to_contain_text("Waiting for confirmation")

    page.reload()

    expect(page.locator("#screen-waiting")).to_be_visible(timeout=WAIT)
    portal.status = "active"
    expect(page.locator("#status")).to_have_text("Active", timeout=WAIT)
    assert stored_device(page)["deviceId"] == portal.device_id

    page.click("#forget")

    expect(page.locator("#status")).to_have_text("Not activated")
    expect(page.locator("#screen-pair")).to_be_visible()
    expect(page.locator("#device-footer")).to_be_hidden()
    assert stored_device(page) is None
    calls = len(portal.calls)
    page.wait_for_timeout(2500)
    assert len(portal.calls) == calls, "a forgotten device polls no more"


@browser_test
def test_a_device_removed_in_the_portal_says_so(app):
    from playwright.sync_api import expect

    page, origin, portal = app
    pair_and_activate(page, origin, portal)

    portal.device_id = str(uuid.uuid4())  # the portal no longer knows the app's device id
    original = portal.handle

    def unknown(route):
        if route.request.all_headers().get("x-klic-device") != portal.device_id:
            route.fulfill(
                status=404,
                content_type="application/json",
                body=json.dumps({"error": "unknown_device", "message": "No such device."}),
            )
            return
        original(route)

    page.unroute(f"**{API}**")
    page.route(f"**{API}**", unknown)

    expect(page.locator("#status")).to_have_text("Removed from MojeID", timeout=WAIT)
    expect(page.locator("#screen-gone")).to_be_visible()
    expect(page.locator("#forget")).to_be_visible()
