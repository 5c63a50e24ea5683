"""MojeID Klíč through the real pages and the real app API, with a software app (softklic)."""

import json
import os
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import AuditEvent
from conftest import PASSWORD
from twofactor.klic import services
from twofactor.models import KlicDevice, KlicLoginRequest

from .softkey import SoftKey
from .softklic import SoftKlic, b64url, pin_verifier
from .test_ceremonies import CERTIFIED, ROOT, add_key, key_step

pytestmark = pytest.mark.django_db

CODE = re.compile(r'id="activation-code">([A-Z0-9-]+)<')
QR = re.compile(r'id="qr-content">([^<]+)<')


def confirm(client, app: SoftKlic, password: str = PASSWORD):
    """Post the confirmation form for the paired `app`, as the page shows it."""
    return client.post("/settings/klic/confirm/", {"password": password, "device": app.device_id})


def activation_page(client) -> str:
    """Ask for a code as the settings button does; returns the set-up page it leads to."""
    page = client.post("/settings/klic/set/", follow=True)
    assert page.status_code == 200, page.status_code
    assert page.redirect_chain == [("/settings/klic/set/", 302)], page.redirect_chain
    return page.content.decode()


def paired_app(client, *, pin="2580") -> SoftKlic:
    """Set up the app on the signed-in `client`'s account: code, pairing, confirmation."""
    app = SoftKlic(Client(), pin=pin)
    code = CODE.search(activation_page(client)).group(1)
    assert app.pair(code).status_code == 201
    confirmed = confirm(client, app)
    assert confirmed.status_code == 302, confirmed.content
    return app


@pytest.fixture
def app(signed_in):
    return paired_app(signed_in)


def password_step(client, user):
    return client.post("/login/", {"login": user.username, "password": PASSWORD})


def klic_step(client, user) -> int:
    """Password, then the app is asked; returns the number the browser page shows."""
    assert password_step(client, user)["Location"] == "/login/klic/"
    started = client.post("/login/klic/start/")
    assert started.status_code == 200, started.content
    return started.json()["number"]


def reauth_step(client) -> int:
    """Ask the app to confirm a re-authentication; returns the number the page shows."""
    started = client.post("/account/reauthenticate/klic/start/")
    assert started.status_code == 200, started.content
    return started.json()["number"]


def poll(client):
    return client.get("/login/klic/status/").json()


# --- pairing --------------------------------------------------------------------------------------


def test_pairing_by_the_typed_code_needs_a_fresh_sign_in_then_the_app_is_active(
    signed_in, user, deliver
):
    app = SoftKlic(Client())
    code = CODE.search(activation_page(signed_in)).group(1)

    paired = app.pair(code.lower().replace("-", " "))  # as retyped from the screen

    assert paired.status_code == 201 and paired.json()["status"] == "pending"
    assert app.status().json()["status"] == "pending"
    assert (
        signed_in.get("/settings/klic/set/status/").json()["redirect"] == "/settings/klic/confirm/"
    )
    assert "Pixel v kapse" in signed_in.get("/settings/klic/confirm/").content.decode()
    wrong = confirm(signed_in, app, "not the password")
    assert wrong.status_code == 200 and app.status().json()["status"] == "pending"

    confirm(signed_in, app)

    assert app.status().json() == {"status": "active", "pin_attempts_left": 5}
    device = KlicDevice.objects.get(user=user)
    verifier = pin_verifier(app.pin, app.salt)
    assert device.confirmed
    assert verifier.hex() not in device.pin_verifier and b64url(verifier) not in device.pin_verifier
    kinds = set(AuditEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"klic_paired", "klic_confirmed"} <= kinds
    assert "MojeID Klíč was set up" in deliver()[0][-1].subject
    assert "Pixel v kapse" in signed_in.get("/settings/").content.decode()


def test_pairing_by_the_qr_content(signed_in, user):
    content = QR.search(activation_page(signed_in)).group(1).replace("&amp;", "&")
    assert content.startswith("mojeidklic:activate?")
    query = parse_qs(urlsplit(content).query)
    assert query["portal"] == ["http://testserver"]

    app = SoftKlic(Client())
    assert app.pair(query["code"][0]).status_code == 201
    confirm(signed_in, app)

    assert app.status().json()["status"] == "active"


def test_an_activation_code_is_single_use_and_expires(signed_in):
    code = CODE.search(activation_page(signed_in)).group(1)
    assert SoftKlic(Client()).pair(code).status_code == 201

    second = SoftKlic(Client()).pair(code)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_code")

    later_code = CODE.search(activation_page(signed_in)).group(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        late = SoftKlic(Client()).pair(later_code)
    assert (late.status_code, late.json()["error"]) == (400, "invalid_code")


def test_a_new_activation_code_voids_the_previous_one(signed_in):
    first = CODE.search(activation_page(signed_in)).group(1)
    activation_page(signed_in)

    assert SoftKlic(Client()).pair(first).json()["error"] == "invalid_code"


def test_setting_up_needs_a_recent_password(signed_in, user):
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = signed_in.post("/settings/klic/set/")
    assert response["Location"] == "/account/reauthenticate/"
    shown = signed_in.get("/settings/klic/set/")
    assert shown["Location"] == "/settings/#two-factor", "a GET makes no code"
    assert not user.klic_activations.exists()


def test_the_set_up_page_survives_a_refresh_and_the_way_back_from_re_authentication(
    signed_in, user
):
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        assert signed_in.post("/settings/klic/set/")["Location"] == "/account/reauthenticate/"
        reason = signed_in.get("/account/reauthenticate/").content.decode()
        assert "You are setting up MojeID Klíč." in reason

        back = signed_in.post("/account/reauthenticate/", {"password": PASSWORD})

        assert back["Location"] == "/settings/klic/set/", "not the set-up page at the re-auth URL"
        first = CODE.search(signed_in.get("/settings/klic/set/").content.decode()).group(1)
        refreshed = CODE.search(signed_in.get("/settings/klic/set/").content.decode()).group(1)
    assert first == refreshed, "a refresh shows the same code, it makes no new one"
    assert user.klic_activations.count() == 1
    assert SoftKlic(Client()).pair(first).status_code == 201


def test_the_set_up_page_goes_on_once_the_code_is_used_or_expired(signed_in):
    code = CODE.search(activation_page(signed_in)).group(1)
    SoftKlic(Client()).pair(code)

    assert signed_in.get("/settings/klic/set/")["Location"] == "/settings/klic/confirm/"

    activation_page(signed_in)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        expired = signed_in.get("/settings/klic/set/", follow=True)
    assert expired.redirect_chain[-1][0] == "/settings/#two-factor"
    assert "no longer valid" in expired.content.decode()


def test_the_qr_code_has_a_text_alternative(signed_in):
    page = activation_page(signed_in)

    qr = re.search(r'<div class="qr" role="img" aria-label="([^"]+)"><svg', page)
    assert qr and "QR code for activating MojeID Klíč" in qr.group(1)


def test_only_the_app_of_the_code_this_page_showed_can_be_confirmed(signed_in, user):
    # Someone pairs with the code shown in another browser of the user (glimpsed, say) …
    other_browser = Client()
    other_browser.post("/login/", {"login": user.username, "password": PASSWORD})
    stranger = SoftKlic(Client())
    assert stranger.pair(CODE.search(activation_page(other_browser)).group(1)).status_code == 201

    # … this page shows its own code: the stranger's app is not what it waits for.
    activation_page(signed_in)
    assert signed_in.get("/settings/klic/set/status/").json() == {"paired": False}
    refused = confirm(signed_in, stranger)

    assert refused.status_code == 302 and not KlicDevice.objects.filter(confirmed=True).exists()


def test_the_confirmation_names_the_app_it_confirms(signed_in, user):
    first = SoftKlic(Client())
    first.pair(CODE.search(activation_page(signed_in)).group(1))
    second = SoftKlic(Client())
    second.pair(CODE.search(activation_page(signed_in)).group(1))  # a new code replaced the first

    assert confirm(signed_in, first).status_code == 302
    assert first.status().json()["error"] == "unknown_device", "the unfinished pairing is gone"
    assert second.status().json()["status"] == "pending", "not confirmed by the stale form"


# --- signing in -----------------------------------------------------------------------------------


def test_a_sign_in_approved_in_the_app_completes_in_the_browser_once(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    assert poll(client)["status"] == "pending"
    assert client.get("/settings/")["Location"].startswith("/login/"), "not signed in yet"

    (request,) = app.requests()
    assert request["service"] and request["browser"] is not None and request["challenge"]
    assert app.approve(request, number=shown).json() == {"status": "approved"}

    answer = poll(client)
    assert answer == {"status": "approved", "redirect": "/settings/"}
    page = client.get("/settings/")
    assert page.status_code == 200 and page.wsgi_request.user.is_verified()
    assert poll(client)["status"] == "gone", "an approval is used once"
    assert AuditEvent.objects.filter(user=user, kind="klic_login_approved").exists()


def test_a_denied_sign_in_stays_signed_out(client, user, app):
    client.post("/logout/")
    klic_step(client, user)
    (request,) = app.requests()

    assert app.deny(request).json() == {"status": "denied"}

    answer = poll(client)
    assert answer["status"] == "denied" and "denied" in answer["message"]
    assert client.get("/settings/")["Location"].startswith("/login/")


def test_an_expired_request_cannot_be_approved(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        late = app.approve(request, number=shown)
        assert poll(client)["status"] == "expired"

    assert (late.status_code, late.json()["error"]) == (410, "expired")
    assert KlicLoginRequest.objects.get().status == "pending"


def test_a_replayed_approval_is_refused(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()
    assert app.approve(request, number=shown).status_code == 200
    body, headers = app.last_body, app.last_headers

    replay = app.send("approve", body, headers)
    again = app.approve(request, number=shown)  # freshly signed, but decided already

    assert (replay.status_code, replay.json()["error"]) == (401, "replayed")
    assert (again.status_code, again.json()["error"]) == (409, "not_pending")


def test_an_approval_for_another_request_is_refused(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    other = Client()
    klic_step(other, user)
    first, second = app.requests()

    mixed = app.approve({"id": second["id"], "challenge": first["challenge"]}, number=shown)

    assert (mixed.status_code, mixed.json()["error"]) == (400, "wrong_challenge")
    assert poll(client)["status"] == poll(other)["status"] == "pending"


def test_an_approval_signed_by_another_key_or_device_is_refused(client, user, app, make_user):
    from cryptography.hazmat.primitives.asymmetric import ec

    make_user("petr", email="petr@example.cz")
    petr_browser = Client()
    petr_browser.post("/login/", {"login": "petr", "password": PASSWORD})
    petr_app = paired_app(petr_browser)
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()

    forged = app.call(
        "approve",
        {"request": request["id"], "challenge": request["challenge"], "pin_proof": "A" * 43},
        key=ec.generate_private_key(ec.SECP256R1()),
    )
    other_device = petr_app.approve(request, number=shown)

    assert (forged.status_code, forged.json()["error"]) == (401, "bad_signature")
    assert (other_device.status_code, other_device.json()["error"]) == (404, "unknown_request")
    assert poll(client)["status"] == "pending"


def test_the_approval_belongs_to_the_browser_session_that_asked(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()
    app.approve(request, number=shown)

    thief = Client()
    password_step(thief, user)  # even with the password, another session cannot take it
    assert poll(thief)["status"] == "gone"
    assert thief.get("/settings/")["Location"].startswith("/login/")
    assert poll(client)["status"] == "approved"


def test_five_wrong_pins_block_the_app_exactly_at_the_fifth(client, user, app, deliver):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()

    for left in (4, 3, 2, 1):
        wrong = app.approve(request, number=shown, pin="0000")
        assert (wrong.status_code, wrong.json()["error"]) == (403, "wrong_pin")
        assert wrong.json()["pin_attempts_left"] == left
    fifth = app.approve(request, number=shown, pin="0000")
    right_too_late = app.approve(request, number=shown)

    assert (fifth.status_code, fifth.json()["error"]) == (423, "blocked")
    assert right_too_late.json()["error"] == "blocked"
    assert app.status().json()["status"] == "blocked"
    assert poll(client)["status"] == "pending", "never approved"
    assert "MojeID Klíč is blocked" in deliver()[0][-1].subject
    assert AuditEvent.objects.filter(user=user, kind="klic_wrong_pin").count() == 5


def test_a_right_pin_after_four_wrong_ones_resets_the_count(client, user, app):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()
    for _ in range(4):
        app.approve(request, number=shown, pin="0000")

    assert app.approve(request, number=shown).status_code == 200
    assert app.status().json()["pin_attempts_left"] == 5


# --- number matching: the user picks in the app the number the browser shows ---------------------


def test_the_browser_shows_a_number_that_the_app_offers_among_three(client, user, app):
    client.post("/logout/")
    password_step(client, user)
    page = client.get("/login/klic/").content.decode()
    assert "Pick this number in MojeID Klíč" in page and 'data-role="number"' in page

    shown = klic_step(client, user)

    (request,) = app.requests()
    numbers = request["numbers"]
    assert len(set(numbers)) == 3 and all(type(n) is int and 10 <= n <= 99 for n in numbers)
    assert shown in numbers
    assert app.requests()[0]["numbers"] == numbers, "every poll offers the same three, in order"
    assert app.approve(request, number=shown).json() == {"status": "approved"}
    assert poll(client)["status"] == "approved"


def test_the_numbers_are_random_and_so_is_the_place_of_the_right_one(signed_in, user, app):
    device = KlicDevice.objects.get(user=user)
    asking = RequestFactory().post("/login/klic/start/")
    made = [
        services.create_login_request(device, service="MojeID", http_request=asking)[0]
        for _ in range(60)
    ]

    assert len({login.number for login in made}) > 10
    assert len({login.number_choices.index(login.number) for login in made}) == 3


def test_a_re_authentication_shows_its_number_too(signed_in, app):
    shown = reauth_step(signed_in)

    (request,) = app.requests()
    assert shown in request["numbers"]
    assert app.approve(request, number=shown).status_code == 200
    assert signed_in.get("/account/reauthenticate/klic/status/").json()["status"] == "approved"


def test_approving_without_a_number_is_refused_and_changes_nothing(client, user, app):
    client.post("/logout/")
    klic_step(client, user)
    (request,) = app.requests()

    response = app.approve(request, number=None)

    assert (response.status_code, response.json()["error"]) == (400, "bad_request")
    assert poll(client)["status"] == "pending"
    assert app.status().json()["pin_attempts_left"] == 5


@pytest.mark.parametrize("number", ["42", 42.0, True, None, [42], {"n": 42}], ids=repr)
def test_a_number_that_is_not_a_json_integer_is_400(client, user, app, number):
    client.post("/logout/")
    klic_step(client, user)
    (request,) = app.requests()

    response = app.call(
        "approve",
        {
            "request": request["id"],
            "challenge": request["challenge"],
            "pin_proof": b64url(pin_verifier(app.pin, app.salt)),
            "number": number,
        },
    )

    assert (response.status_code, response.json()["error"]) == (400, "bad_request")
    assert poll(client)["status"] == "pending", "a malformed call decides nothing"


def test_a_wrong_pick_denies_the_sign_in_at_once_without_costing_a_pin_try(
    client, user, app, deliver
):
    client.post("/logout/")
    shown = klic_step(client, user)
    (request,) = app.requests()

    wrong = app.approve(request, number=SoftKlic.decoy(request, shown), pin="0000")
    right_too_late = app.approve(request, number=shown)

    assert wrong.status_code == 403
    assert wrong.json()["error"] == "wrong_number" and wrong.json()["message"]
    assert (right_too_late.status_code, right_too_late.json()["error"]) == (409, "not_pending")
    answer = poll(client)
    assert answer["status"] == "denied" and "denied" in answer["message"]
    assert client.get("/settings/")["Location"].startswith("/login/")
    assert app.status().json() == {"status": "active", "pin_attempts_left": 5}
    assert app.requests() == []
    event = AuditEvent.objects.get(user=user, kind="klic_login_denied")
    assert event.details["reason"] == "wrong_number" and event.actor == user
    assert not AuditEvent.objects.filter(
        kind__in=["klic_wrong_pin", "klic_login_approved"]
    ).exists()


def test_a_number_never_offered_denies_too(client, user, app):
    client.post("/logout/")
    klic_step(client, user)
    (request,) = app.requests()
    never_offered = next(n for n in range(10, 100) if n not in request["numbers"])

    response = app.approve(request, number=never_offered)

    assert (response.status_code, response.json()["error"]) == (403, "wrong_number")
    assert poll(client)["status"] == "denied"


@pytest.mark.parametrize("endpoint", ["pair", "status", "requests", "approve", "deny", "other"])
def test_the_first_api_version_answers_upgrade_required(endpoint):
    response = Client().post(f"/api/klic/v1/{endpoint}", b"{}", content_type="application/json")

    assert response.status_code == 410
    assert response.json()["error"] == "upgrade_required" and response.json()["message"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_v1_approval_is_no_way_around_the_number(client, user, app):
    client.post("/logout/")
    klic_step(client, user)
    (request,) = app.requests()
    proof = b64url(pin_verifier(app.pin, app.salt))
    body = json.dumps(
        {
            "request": request["id"],
            "challenge": request["challenge"],
            "pin_proof": proof,
            "timestamp": int(time.time()),
            "nonce": b64url(os.urandom(16)),
        }
    ).encode()

    response = app.client.post(
        "/api/klic/v1/approve",
        body,
        content_type="application/json",
        headers={"X-Klic-Signature": app.sign(body), "X-Klic-Device": app.device_id},
    )

    assert (response.status_code, response.json()["error"]) == (410, "upgrade_required")
    assert poll(client)["status"] == "pending"


# --- unblocking -----------------------------------------------------------------------------------


def _block(device: KlicDevice) -> None:
    KlicDevice.objects.filter(pk=device.pk).update(blocked_at=timezone.now(), failed_pins=5)


def test_without_another_factor_only_the_helpdesk_unblocks(signed_in, user, app, make_user):
    device = KlicDevice.objects.get(user=user)
    _block(device)

    response = signed_in.post("/settings/klic/unblock/", follow=True)

    assert "only MojeID support can unblock" in response.content.decode()
    assert KlicDevice.objects.get(pk=device.pk).blocked
    staff = make_user("operator", email="operator@example.cz", is_staff=True)
    services.unblock_by_helpdesk(device, actor=staff)
    device.refresh_from_db()
    assert not device.blocked and device.failed_pins == 0
    event = AuditEvent.objects.get(kind="klic_unblocked")
    assert (event.user, event.actor) == (user, staff)


def sign_in_with_key(client, user, key) -> None:
    assert password_step(client, user)["Location"] == "/login/key/"
    assert key_step(client, key)[1].status_code == 200


@pytest.fixture
def backup_key(signed_in, app):
    """A security key added after the app; the browser is signed out afterwards."""
    key = SoftKey(CERTIFIED, authority=ROOT)
    assert add_key(signed_in, key).status_code == 200
    key.credential_id = next(iter(key.credentials))
    signed_in.post("/logout/")
    return key


def test_with_a_security_key_the_user_unblocks_once_a_day(client, user, app, backup_key):
    device = KlicDevice.objects.get(user=user)
    _block(device)
    sign_in_with_key(client, user, backup_key)

    first = client.post("/settings/klic/unblock/", follow=True)
    assert "is unblocked" in first.content.decode() and not KlicDevice.objects.get().blocked

    _block(device)
    second = client.post("/settings/klic/unblock/", follow=True)
    assert "once every 24 hours" in second.content.decode() and KlicDevice.objects.get().blocked

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        sign_in_with_key(client, user, backup_key)  # yesterday's session has long expired
        third = client.post("/settings/klic/unblock/", follow=True)
        assert "is unblocked" in third.content.decode()
    assert not KlicDevice.objects.get().blocked
    assert AuditEvent.objects.filter(user=user, kind="klic_unblocked").count() == 2


# --- re-authentication, removal -------------------------------------------------------------------


def test_removing_the_app_needs_the_password_and_the_apps_approval(signed_in, user, app, deliver):
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        response = signed_in.post("/settings/klic/remove/")
        assert response["Location"] == "/account/reauthenticate/"
        page = signed_in.get("/account/reauthenticate/").content.decode()
        assert "approve it in MojeID Klíč" in page

        refused = signed_in.post("/account/reauthenticate/", {"password": PASSWORD})
        assert refused.status_code == 200, "the password alone is not enough"

        shown = reauth_step(signed_in)
        (request,) = app.requests()
        app.approve(request, number=shown)
        assert signed_in.get("/account/reauthenticate/klic/status/").json()["status"] == "approved"
        done = signed_in.post("/account/reauthenticate/", {"password": PASSWORD})
        assert done.status_code == 302
        signed_in.post("/settings/klic/remove/")
        assert "removed" in deliver()[0][-1].subject

    assert not KlicDevice.objects.filter(user=user).exists()
    assert app.status().json()["error"] == "unknown_device"


# --- the API refuses bad input with 4xx, never 500 ------------------------------------------------


GARBAGE = [b"", b"not json", b"[1, 2]", b'{"timestamp": "now"}', b'{"timestamp": 1}', b"\xff\xfe"]


def test_garbage_gets_a_json_error_from_every_endpoint(app):
    # One paired app for all 30 combinations: setting one up costs several password hashes.
    for endpoint in ["pair", "status", "requests", "approve", "deny"]:
        for body in GARBAGE:
            headers = {"X-Klic-Signature": app.sign(body), "X-Klic-Device": app.device_id}
            if endpoint == "pair":
                headers.pop("X-Klic-Device")

            response = app.send(endpoint, body, headers)

            assert 400 <= response.status_code < 500, (endpoint, body, response.content)
            assert response.json()["error"] and response.json()["message"], (endpoint, body)


@pytest.mark.parametrize("device_id", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_device_is_404(device_id):
    app = SoftKlic(Client())
    response = app.call("status", {}, device_id=device_id or None)

    assert (response.status_code, response.json()["error"]) == (404, "unknown_device")


def test_a_get_is_405_json():
    response = Client().get("/api/klic/v2/status")
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    "overrides",
    [
        {"public_key": "bm90IGEga2V5"},
        {"pin_verifier": "c2hvcnQ"},
        {"biometrics": "yes"},
        {"device_name": "x" * 500},
        {"activation_code": 12345},
    ],
    ids=str,
)
def test_malformed_pairing_fields_are_400(signed_in, overrides):
    code = CODE.search(activation_page(signed_in)).group(1)

    response = SoftKlic(Client()).pair(code, **overrides)

    assert response.status_code in (400, 401), response.content
    assert not KlicDevice.objects.exists()


def test_approving_before_the_pairing_is_confirmed_is_refused(signed_in):
    app = SoftKlic(Client())
    app.pair(CODE.search(activation_page(signed_in)).group(1))

    response = app.call("requests", {})

    assert (response.status_code, response.json()["error"]) == (409, "not_active")


def test_the_api_answers_cross_origin_preflights_and_calls():
    preflight = Client().options(
        "/api/klic/v2/status",
        headers={"Origin": "http://localhost:8001", "Access-Control-Request-Method": "POST"},
    )
    call = SoftKlic(Client()).call("status", {}, device_id="00000000-0000-0000-0000-000000000000")

    assert preflight.status_code == 200
    assert "X-Klic-Signature" in preflight["Access-Control-Allow-Headers"]
    assert call["Access-Control-Allow-Origin"] == "*"


def test_a_session_that_skipped_the_second_factor_is_ended(client, user, app):
    """Any way in that skips the second step (here Django's force_login) does not last."""
    client.post("/logout/")
    client.force_login(user)

    response = client.get("/settings/")

    assert response["Location"] == "/login/?next=/settings/"
    assert client.get("/settings/")["Location"].startswith("/login/"), "signed out"
    assert AuditEvent.objects.filter(user=user, kind="session_expired").exists()


def test_adding_the_first_factor_keeps_the_session(signed_in, user):
    """The password-only session that sets the app up has just proved it: it stays."""
    paired_app(signed_in)

    page = signed_in.get("/settings/")

    assert page.status_code == 200 and page.wsgi_request.user.is_verified()


def test_an_approval_must_be_used_at_once(signed_in, user, app):
    """An approved re-authentication cannot be kept in the session and used an hour later."""
    shown = reauth_step(signed_in)
    (request,) = app.requests()
    app.approve(request, number=shown)

    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        state = signed_in.get("/account/reauthenticate/klic/status/").json()["status"]

    assert state == "expired"


@pytest.mark.parametrize(
    "endpoint, fields",
    [
        ("pair", {"timestamp": int("1" + "0" * 400)}),
        ("pair", {"public_key": "MA8wBQYDKgMEAwYAAQIDBAU"}),  # a key of an unknown algorithm
        ("pair", {"device_name": "Pixel\\u0000"}),
        ("pair", {"device_name": "\\ud800"}),
        ("approve", {"challenge": "\\ud800"}),
        ("deny", {"challenge": "\\ud800"}),
    ],
    ids=str,
)
def test_odd_values_are_refused_with_a_json_error(signed_in, app, endpoint, fields):
    code = CODE.search(activation_page(signed_in)).group(1)
    data = {"activation_code": code, "public_key": app.public_key, "pin_verifier": "A" * 43}
    data.update({"request": "00000000-0000-0000-0000-000000000000", "pin_proof": "A" * 43})
    body = json.dumps({"timestamp": int(time.time()), "nonce": "A" * 22, **data})
    for name, value in fields.items():  # raw JSON text, so lone surrogates survive
        body = (
            body[:-1]
            + f', "{name}": '
            + (str(value) if isinstance(value, int) else f'"{value}"')
            + "}"
        )
    headers = {"X-Klic-Signature": app.sign(body.encode())}
    if endpoint != "pair":
        headers["X-Klic-Device"] = app.device_id

    response = app.send(endpoint, body.encode(), headers)

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]


def test_unblocking_needs_the_key_proved_in_this_session(client, user, app, backup_key):
    device = KlicDevice.objects.get(user=user)
    # Signed in with the app (just before it got blocked): the key was not used.
    assert password_step(client, user)["Location"] == "/login/key/"
    client.get("/login/klic/")
    shown = client.post("/login/klic/start/").json()["number"]
    (request,) = app.requests()
    app.approve(request, number=shown)
    assert poll(client)["status"] == "approved"
    _block(device)

    response = client.post("/settings/klic/unblock/")

    assert response["Location"] == "/account/reauthenticate/"
    assert KlicDevice.objects.get().blocked


def test_at_most_ten_activation_codes_an_hour(signed_in, user):
    from accounts.ratelimit import RateLimited

    for _ in range(10):
        services.start_activation(user)

    with pytest.raises(RateLimited):
        services.start_activation(user)
    page = signed_in.post("/settings/klic/set/", follow=True).content.decode()
    assert "Too many activation codes" in page


# --- the rules live in the flows and services, not in the views ----------------------------------


def bare_request(user, *, reauthenticated_minutes_ago: float | None, key_proved: bool = False):
    """A POST as a view would pass it to a flow: the user, a session, no middleware around it."""
    from importlib import import_module

    from django.conf import settings

    from accounts.reauth import REAUTH_AT
    from twofactor.flows import KEY_PROVED_AT

    request = RequestFactory().post("/settings/klic/")
    request.user = user
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    if reauthenticated_minutes_ago is not None:
        request.session[REAUTH_AT] = time.time() - reauthenticated_minutes_ago * 60
    if key_proved:
        request.session[KEY_PROVED_AT] = time.time()
    return request


@pytest.mark.parametrize("minutes_ago", [None, 6])
def test_each_klic_flow_asks_for_a_fresh_re_authentication_itself(user, app, minutes_ago):
    from accounts.reauth import ReauthenticationRequired
    from twofactor.klic import flows

    device = KlicDevice.objects.get(user=user)
    _block(device)
    activations = user.klic_activations.count()

    for flow in (flows.start_set_up, flows.remove, flows.unblock):
        with pytest.raises(ReauthenticationRequired):
            flow(bare_request(user, reauthenticated_minutes_ago=minutes_ago))

    assert user.klic_activations.count() == activations, "no new activation code"
    assert KlicDevice.objects.get(pk=device.pk).blocked, "neither removed nor unblocked"
    assert not AuditEvent.objects.filter(kind__in=["klic_removed", "klic_unblocked"]).exists()


def test_the_flows_act_once_re_authenticated(user, app):
    from twofactor.klic import flows

    code, activation = flows.start_set_up(bare_request(user, reauthenticated_minutes_ago=1))
    assert code and activation.user == user

    assert flows.remove(bare_request(user, reauthenticated_minutes_ago=1)) is True
    assert not KlicDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.get(kind="klic_removed").actor == user


def test_the_unblock_refusals_are_typed_and_pick_their_message(user, app, backup_key):
    from accounts.reauth import ReauthenticationRequired
    from twofactor.exceptions import NoOtherFactor, UnblockedRecently
    from twofactor.klic import flows

    device = KlicDevice.objects.get(user=user)
    _block(device)
    # The window was opened by the app itself (say, a sign-in with it): the key must prove itself.
    with pytest.raises(ReauthenticationRequired):
        flows.unblock(bare_request(user, reauthenticated_minutes_ago=1))

    assert flows.unblock(bare_request(user, reauthenticated_minutes_ago=1, key_proved=True))
    _block(device)
    with pytest.raises(UnblockedRecently) as recently:
        flows.unblock(bare_request(user, reauthenticated_minutes_ago=1, key_proved=True))
    assert recently.value.code == "unblocked_recently"

    user.security_keys.all().delete()
    with pytest.raises(NoOtherFactor) as no_other:
        flows.unblock(bare_request(user, reauthenticated_minutes_ago=1, key_proved=True))
    assert no_other.value.code == "no_other_factor"
    assert KlicDevice.objects.get(pk=device.pk).blocked


def test_a_staff_removal_is_audited_with_the_staff_member_and_told_by_e_mail(
    user, app, make_user, deliver
):
    staff = make_user("operator", email="operator@example.cz", is_staff=True)
    device = KlicDevice.objects.get(user=user)

    services.remove_device(device, actor=staff)

    event = AuditEvent.objects.get(kind="klic_removed")
    assert (event.user, event.actor) == (user, staff)
    assert not KlicDevice.objects.filter(user=user).exists()
    emails = deliver()[0]
    assert emails[-1].to == ["jana@example.cz"] and "removed" in emails[-1].subject


def test_a_staff_unblock_is_audited_with_the_staff_member_and_told_by_e_mail(
    user, app, make_user, deliver
):
    staff = make_user("operator", email="operator@example.cz", is_staff=True)
    device = KlicDevice.objects.get(user=user)
    _block(device)

    services.unblock_by_helpdesk(device, actor=staff)

    event = AuditEvent.objects.get(kind="klic_unblocked")
    assert (event.user, event.actor) == (user, staff)
    emails = deliver()[0]
    assert emails[-1].to == ["jana@example.cz"] and "unblocked" in emails[-1].subject


def test_a_stored_activation_code_and_browser_secret_are_keyed_digests(signed_in, user, app):
    from mojeid.crypto import digest_matches

    code = CODE.search(activation_page(signed_in)).group(1)
    activation = user.klic_activations.get(used_at=None)
    assert digest_matches(activation.code_hash, "klic-activation", code.replace("-", ""))

    shown = reauth_step(signed_in)
    login = KlicLoginRequest.objects.get(number=shown)
    secret = signed_in.session["mojeid_klic_reauthenticate"]["secret"]
    assert secret not in login.browser_secret_hash
    assert digest_matches(login.browser_secret_hash, "klic-browser-secret", secret)
