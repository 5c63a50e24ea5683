"""Adding a security key and signing in with it, through the real views, with a software key."""

import base64
import json
import uuid

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import AuditEvent
from conftest import PASSWORD
from twofactor.metadata import load_payload
from twofactor.models import MetadataSource, SecurityKey

from .softkey import CertificateAuthority, SoftKey, b64url

pytestmark = pytest.mark.django_db

ROOT = CertificateAuthority("Ceremony Root")
CERTIFIED = uuid.UUID("c0c0c0c0-0000-4000-8000-000000000001")
ORIGIN = settings.WEBAUTHN_ORIGINS[0]
RP_ID = settings.WEBAUTHN_RP_ID
FAILED = "Registration failed, incorrect data from security key."


@pytest.fixture(autouse=True)
def metadata(db):
    entry = {
        "aaguid": str(CERTIFIED),
        "metadataStatement": {
            "description": "Ceremony Key",
            "protocolFamily": "fido2",
            "attestationRootCertificates": [ROOT.b64],
            "attachmentHint": ["external"],
        },
        "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
    }
    load_payload({"no": 1, "entries": [entry]}, source=MetadataSource.BLOB)


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def challenge_of(response) -> bytes:
    value = response.json()["publicKey"]["challenge"]
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def add_key(client, key: SoftKey, *, name="Klíč v šuplíku", tamper=None, origin=ORIGIN):
    options = post_json(client, "/settings/keys/add/options/")
    assert options.status_code == 200, options.content
    credential = key.register(challenge=challenge_of(options), origin=origin, rp_id=RP_ID)
    if tamper:
        tamper(credential)
    return post_json(
        client,
        "/settings/keys/add/verify/",
        {"credential": credential, "name": name, "use_for_public_administration": True},
    )


def test_a_certified_key_is_added_listed_and_available(signed_in, user, deliver):
    key = SoftKey(CERTIFIED, authority=ROOT)

    response = add_key(signed_in, key)

    assert response.status_code == 200, response.content
    stored = SecurityKey.objects.get(user=user)
    assert (stored.name, stored.description, stored.nia_eligible) == (
        "Klíč v šuplíku",
        "Ceremony Key",
        True,
    )
    assert stored.attestation_format == "packed" and stored.attestation_certificate_sha256
    page = signed_in.get("/settings/").content.decode()
    assert "Klíč v šuplíku" in page and "Ceremony Key" in page and ">Get</a>" in page
    assert AuditEvent.objects.filter(user=user, kind="security_key_added").exists()
    assert "security key was added" in deliver()[0][-1].subject


def test_a_key_without_attestation_is_added_as_unknown_and_not_available(signed_in, user):
    response = add_key(signed_in, SoftKey(uuid.UUID(int=0), fmt="none"))

    assert response.status_code == 200
    stored = SecurityKey.objects.get(user=user)
    assert stored.description == "" and not stored.nia_eligible
    detail = signed_in.get(f"/settings/keys/{stored.pk}/").content.decode()
    assert "Unknown" in detail and "Not available" in detail and "no attestation" in detail


def _corrupt_attestation(credential):
    credential["response"]["attestationObject"] = "%%%not-base64%%%"


def _truncate_attestation(credential):
    raw = base64.urlsafe_b64decode(credential["response"]["attestationObject"] + "==")
    credential["response"]["attestationObject"] = b64url(raw[:40])


def _other_challenge(credential):
    data = json.loads(base64.urlsafe_b64decode(credential["response"]["clientDataJSON"] + "=="))
    data["challenge"] = b64url(b"x" * 32)
    credential["response"]["clientDataJSON"] = b64url(json.dumps(data).encode())


@pytest.mark.parametrize(
    "tamper", [_corrupt_attestation, _truncate_attestation, _other_challenge], ids=str
)
def test_malformed_registrations_store_nothing_and_say_so(signed_in, user, tamper):
    response = add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT), tamper=tamper)

    assert response.status_code == 400
    assert response.json()["error"] == FAILED
    assert not SecurityKey.objects.filter(user=user).exists()


def test_a_registration_from_another_origin_is_refused(signed_in, user):
    response = add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT), origin="https://evil.example")
    assert response.status_code == 400
    assert not SecurityKey.objects.exists()


def test_a_registration_cannot_be_replayed(signed_in, user):
    key = SoftKey(CERTIFIED, authority=ROOT)
    options = post_json(signed_in, "/settings/keys/add/options/")
    credential = key.register(challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID)
    body = {"credential": credential, "name": "A"}

    assert post_json(signed_in, "/settings/keys/add/verify/", body).status_code == 200
    assert post_json(signed_in, "/settings/keys/add/verify/", body).status_code == 400
    assert SecurityKey.objects.count() == 1


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"credential": 5, "name": "A"}'])
def test_garbage_bodies_get_a_json_error(signed_in, body):
    post_json(signed_in, "/settings/keys/add/options/")
    response = signed_in.post("/settings/keys/add/verify/", body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


def test_a_name_is_required(signed_in):
    response = add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT), name="  ")
    assert response.status_code == 400
    assert "name" in response.json()["error"]


# --- signing in -----------------------------------------------------------------------------------


@pytest.fixture
def with_key(signed_in, user):
    key = SoftKey(CERTIFIED, authority=ROOT)
    assert add_key(signed_in, key).status_code == 200
    key.credential_id = next(iter(key.credentials))
    signed_in.post("/logout/")
    return key


def password_step(client, user):
    return client.post("/login/", {"login": user.username, "password": PASSWORD})


def key_step(client, key, **kwargs):
    options = post_json(client, "/login/key/options/")
    assertion = key.authenticate(
        key.credential_id, challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID, **kwargs
    )
    return assertion, post_json(client, "/login/key/verify/", {"credential": assertion})


def test_with_a_key_signing_in_needs_password_and_key(client, user, with_key):
    response = password_step(client, user)
    assert response["Location"] == "/login/key/"
    assert client.get("/settings/")["Location"].startswith("/login/"), "not signed in yet"

    _, verified = key_step(client, with_key)

    assert verified.status_code == 200 and verified.json()["redirect"] == "/settings/"
    settings_page = client.get("/settings/")
    assert settings_page.status_code == 200
    assert settings_page.wsgi_request.user.is_verified(), "django-otp: verified by the key"
    assert SecurityKey.objects.get().last_used_at is not None


def test_the_key_step_without_a_password_is_refused(client, with_key):
    assert client.get("/login/key/")["Location"] == "/login/"
    assert post_json(client, "/login/key/options/").status_code == 403


def test_a_replayed_assertion_is_refused(client, user, with_key):
    password_step(client, user)
    assertion, first = key_step(client, with_key)
    assert first.status_code == 200
    client.post("/logout/")

    password_step(client, user)
    post_json(client, "/login/key/options/")
    replay = post_json(client, "/login/key/verify/", {"credential": assertion})

    assert replay.status_code == 400
    assert client.get("/settings/")["Location"].startswith("/login/")


def test_another_users_credential_is_refused(client, user, make_user, with_key):
    petr = make_user("petr", email="petr@example.cz")
    other = SoftKey(CERTIFIED, authority=ROOT)
    other.register(challenge=b"c" * 32, origin=ORIGIN, rp_id=RP_ID)
    SecurityKey.objects.create(
        user=petr,
        name="P",
        credential_id=b64url(b"petr-key"),
        public_key=b"x",
        aaguid=CERTIFIED,
        attestation_format="none",
        attestation_object=b"",
        key_type="unknown",
    )
    password_step(client, user)
    options = post_json(client, "/login/key/options/")
    assertion = other.authenticate(
        next(iter(other.credentials)), challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )
    assertion["id"] = assertion["rawId"] = b64url(b"petr-key")

    response = post_json(client, "/login/key/verify/", {"credential": assertion})

    assert response.status_code == 400
    assert client.get("/settings/")["Location"].startswith("/login/")


def test_a_sign_count_going_backwards_blocks_the_key(client, user, with_key):
    password_step(client, user)
    key_step(client, with_key, sign_count=10)
    client.post("/logout/")

    password_step(client, user)
    _, cloned = key_step(client, with_key, sign_count=5)

    assert cloned.status_code == 400
    stored = SecurityKey.objects.get()
    assert stored.possibly_cloned
    assert AuditEvent.objects.filter(user=user, kind="security_key_rejected").exists()


def reauthenticate(client, key, *, password=PASSWORD, **kwargs):
    """Post the re-authentication form with the password and `key`'s answer to a fresh challenge."""
    options = post_json(client, "/account/reauthenticate/key/options/")
    assert options.status_code == 200, options.content
    assertion = key.authenticate(
        key.credential_id, challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID, **kwargs
    )
    response = client.post(
        "/account/reauthenticate/", {"password": password, "credential": json.dumps(assertion)}
    )
    return assertion, response


@pytest.fixture
def later():
    """Six minutes on: the re-authentication window of the sign-in has closed."""
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6), tick=False):
        yield


@pytest.fixture
def key_user(client, user, with_key):
    """`client` signed in with password and key; returns the key."""
    password_step(client, user)
    assert key_step(client, with_key)[1].status_code == 200
    return with_key


def opens_sudo_window(client) -> bool:
    return client.get("/settings/password/").status_code == 200


def test_removing_a_key_needs_a_fresh_password_and_the_key(client, user, key_user, later):
    stored = SecurityKey.objects.get()

    response = client.post(f"/settings/keys/{stored.pk}/remove/")
    assert response["Location"] == "/account/reauthenticate/"
    page = client.get("/account/reauthenticate/").content.decode()
    assert "confirm with your security key" in page
    assert SecurityKey.objects.filter(pk=stored.pk).exists()

    _, confirmed = reauthenticate(client, key_user)
    assert confirmed.status_code == 302
    client.post(f"/settings/keys/{stored.pk}/remove/")

    assert not SecurityKey.objects.filter(pk=stored.pk).exists()
    assert AuditEvent.objects.filter(user=user, kind="security_key_removed").exists()


def test_with_a_key_the_password_alone_does_not_reauthenticate(client, key_user, later):
    response = client.post("/account/reauthenticate/", {"password": PASSWORD})

    assert response.status_code == 200
    assert "Wrong password or security key" in response.content.decode()
    assert not opens_sudo_window(client)


def test_the_key_alone_does_not_reauthenticate(client, key_user, later):
    _, response = reauthenticate(client, key_user, password="not-the-password")

    assert response.status_code == 200
    assert "Wrong password or security key" in response.content.decode()
    assert not opens_sudo_window(client)


def test_password_and_key_reauthenticate_and_the_answer_is_spent(client, user, key_user, later):
    assertion, response = reauthenticate(client, key_user)
    assert response.status_code == 302 and opens_sudo_window(client)
    assert AuditEvent.objects.filter(user=user, kind="reauthenticated").exists()

    post_json(client, "/account/reauthenticate/key/options/")  # a new challenge
    replay = client.post(
        "/account/reauthenticate/", {"password": PASSWORD, "credential": json.dumps(assertion)}
    )
    assert "Wrong password or security key" in replay.content.decode()


def test_an_answer_to_another_challenge_is_refused(client, key_user, later):
    assert post_json(client, "/account/reauthenticate/key/options/").status_code == 200
    assertion = key_user.authenticate(
        key_user.credential_id, challenge=b"another-ceremony-challenge", origin=ORIGIN, rp_id=RP_ID
    )
    response = client.post(
        "/account/reauthenticate/", {"password": PASSWORD, "credential": json.dumps(assertion)}
    )
    assert "Wrong password or security key" in response.content.decode()
    assert not opens_sudo_window(client)


@pytest.mark.parametrize("credential", ["", "{not json", "[1, 2]", '{"id": "x"}', "x" * 70000])
def test_garbage_in_the_reauthentication_form_is_a_form_error(client, key_user, later, credential):
    post_json(client, "/account/reauthenticate/key/options/")

    response = client.post(
        "/account/reauthenticate/", {"password": PASSWORD, "credential": credential}
    )

    assert response.status_code == 200
    assert "Wrong password or security key" in response.content.decode()


def test_without_a_key_reauthentication_stays_password_only(signed_in, later):
    page = signed_in.get("/account/reauthenticate/").content.decode()
    assert "security key" not in page

    signed_in.post("/account/reauthenticate/", {"password": PASSWORD})

    assert opens_sudo_window(signed_in)


def test_a_blocked_key_blocks_reauthentication_too(client, key_user, later):
    SecurityKey.objects.update(possibly_cloned=True)

    options = post_json(client, "/account/reauthenticate/key/options/")
    response = client.post("/account/reauthenticate/", {"password": PASSWORD})

    assert "Wrong password or security key" in response.content.decode()
    assert options.status_code == 403
    assert "Every security key of this account is blocked" in options.json()["error"]
    assert not opens_sudo_window(client)


def test_renaming_and_another_users_key_page(signed_in, user, make_user):
    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT))
    stored = SecurityKey.objects.get()
    signed_in.post(f"/settings/keys/{stored.pk}/", {"name": "Yubi v práci"})
    assert SecurityKey.objects.get().name == "Yubi v práci"

    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    make_user("petr", email="petr@example.cz")
    stranger.post("/login/", {"login": "petr", "password": PASSWORD})
    assert stranger.get(f"/settings/keys/{stored.pk}/").status_code == 404
    assert stranger.post(f"/settings/keys/{stored.pk}/remove/").status_code == 404


def test_a_challenge_serves_one_ceremony_only(signed_in, user):
    options = post_json(signed_in, "/settings/keys/add/options/")
    challenge = challenge_of(options)
    first, second = SoftKey(CERTIFIED, authority=ROOT), SoftKey(CERTIFIED, authority=ROOT)

    for key, expected in ((first, 200), (second, 400)):
        credential = key.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
        response = post_json(
            signed_in, "/settings/keys/add/verify/", {"credential": credential, "name": "K"}
        )
        assert response.status_code == expected
    assert SecurityKey.objects.filter(user=user).count() == 1


def test_a_blocked_key_does_not_turn_into_a_password_only_login(client, user, with_key):
    SecurityKey.objects.update(possibly_cloned=True)

    response = password_step(client, user)

    assert response["Location"] == "/login/key/"
    page = client.get("/login/key/").content.decode()
    assert "Every security key of this account is blocked" in page
    assert post_json(client, "/login/key/options/").status_code == 403
    assert client.get("/settings/")["Location"].startswith("/login/"), "must not be signed in"


def test_a_stored_key_is_judged_again_when_its_model_is_revoked(signed_in, user):
    from twofactor.services import apply_verdict

    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT))
    key = SecurityKey.objects.get(user=user)
    assert key.nia_eligible
    revoked = {
        "aaguid": str(CERTIFIED),
        "metadataStatement": {
            "description": "Ceremony Key",
            "protocolFamily": "fido2",
            "attestationRootCertificates": [ROOT.b64],
        },
        "statusReports": [
            {"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"},
            {"status": "REVOKED", "effectiveDate": "2025-01-01"},
        ],
    }
    load_payload({"no": 2, "entries": [revoked]}, source=MetadataSource.BLOB)

    apply_verdict(key)  # from what is stored: no browser, no registration JSON

    assert key.attestation_trusted and not key.nia_eligible
    assert any("revoked" in reason for reason in key.verdict["reasons"])


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Klíč\u202e", None, 42])
def test_the_service_refuses_a_name_that_cannot_be_one(signed_in, user, name):
    """The rule is in the service, so no page, command or admin can walk around it."""
    from twofactor.services import rename_key

    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT), name="Klíč")
    key = SecurityKey.objects.get(user=user)

    with pytest.raises(ValueError):
        rename_key(key, name)

    assert SecurityKey.objects.get().name == "Klíč"


# --- renaming, removing, and the most keys an account holds -------------------------------------


def test_renaming_a_key_needs_a_fresh_proof_and_is_resumed(client, user, key_user, later):
    stored = SecurityKey.objects.get()

    response = client.post(f"/settings/keys/{stored.pk}/", {"name": "Přejmenovaný"})

    assert response["Location"] == "/account/reauthenticate/"
    assert SecurityKey.objects.get().name == stored.name, "nothing changed yet"
    _, resumed = reauthenticate(client, key_user)
    assert resumed.status_code == 302
    assert SecurityKey.objects.get().name == "Přejmenovaný"
    event = AuditEvent.objects.get(kind="security_key_renamed")
    assert (event.user, event.actor) == (user, user)


@pytest.mark.parametrize("flow", ["rename", "remove"])
def test_the_key_flows_themselves_refuse_without_a_fresh_proof(rf, user, signed_in, flow):
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.reauth import ReauthenticationRequired
    from twofactor import flows

    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT), name="Klíč")
    key = SecurityKey.objects.get()
    request = rf.post("/")
    request.user = user
    request.session = SessionStore()

    with pytest.raises(ReauthenticationRequired):
        if flow == "rename":
            flows.rename(request, key, "Jiný")
        else:
            flows.remove(request, key)
    assert SecurityKey.objects.get().name == "Klíč"


def test_a_key_removed_by_staff_is_audited_with_the_staff_member(signed_in, user, make_user):
    from twofactor.services import remove_key

    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT))
    staff = make_user("operator", email="operator@example.cz", is_staff=True)

    remove_key(SecurityKey.objects.get(), actor=staff)

    event = AuditEvent.objects.get(kind="security_key_removed")
    assert (event.user, event.actor) == (user, staff)


def _copy_key(key: SecurityKey, number: int) -> None:
    """Another stored key of the same user (the ceremony is tested above; only the count counts)."""
    SecurityKey.objects.create(
        user=key.user,
        name=f"Kopie {number}",
        credential_id=b64url(f"copy-{number}".encode()),
        public_key=bytes(key.public_key),
        aaguid=key.aaguid,
        attestation_format=key.attestation_format,
        attestation_object=bytes(key.attestation_object),
        key_type=key.key_type,
    )


def test_an_account_holds_at_most_ten_keys(signed_in, user):
    from twofactor.services import MAX_KEYS

    add_key(signed_in, SoftKey(CERTIFIED, authority=ROOT))
    first = SecurityKey.objects.get()
    for number in range(MAX_KEYS - 2):
        _copy_key(first, number)
    # The tenth: its ceremony starts while there is room, and another key fills the last place.
    options = post_json(signed_in, "/settings/keys/add/options/")
    assert options.status_code == 200
    _copy_key(first, 99)
    credential = SoftKey(CERTIFIED, authority=ROOT).register(
        challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )

    late = post_json(
        signed_in, "/settings/keys/add/verify/", {"credential": credential, "name": "Jedenáctý"}
    )

    assert late.status_code == 409 and "most security keys" in late.json()["error"]
    assert SecurityKey.objects.filter(user=user).count() == MAX_KEYS
    assert post_json(signed_in, "/settings/keys/add/options/").status_code == 409
    page = signed_in.get("/settings/keys/add/").content.decode()
    assert "most security keys it can hold (10)" in page and "webauthn-register" not in page


# --- what the JSON endpoints accept ---------------------------------------------------------------


def csrf_client(session_of: Client | None = None) -> Client:
    """A browser-like client that enforces CSRF, as production does (CSRF reads form bodies),
    in the session of `session_of` if given."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    client.raise_request_exception = False
    client.get("/login/")  # sets the CSRF cookie
    if session_of is not None:
        name = settings.SESSION_COOKIE_NAME
        client.cookies[name] = session_of.cookies[name].value
    return client


@pytest.mark.parametrize("path", ["/settings/keys/add/verify/", "/login/key/verify/"])
@pytest.mark.parametrize("content_type", ["multipart", "form", "text/plain"])
def test_a_body_that_is_not_json_is_refused_with_a_json_error(
    request, settings, user, path, content_type
):
    """CSRF reads a multipart body before the view: the view must not try to read it again."""
    settings.DEBUG = False
    if path.startswith("/login/"):
        request.getfixturevalue("with_key")
        client = csrf_client()
        token = client.cookies["csrftoken"].value
        client.post(
            "/login/", {"login": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        assert client.get("/login/key/").status_code == 200, "a key login is pending"
    else:
        client = csrf_client(request.getfixturevalue("signed_in"))
        token = client.cookies["csrftoken"].value
    fields = {"csrfmiddlewaretoken": token, "credential": "{}"}
    if content_type == "multipart":
        response = client.post(path, fields)
    elif content_type == "form":
        form = f"csrfmiddlewaretoken={token}&credential=%7B%7D"
        response = client.post(path, form, content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(
            path, "{}", content_type="text/plain", headers={"X-CSRFToken": token}
        )

    assert response.status_code == 415, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def _registration_variants():
    """(id, change to a well-formed request body): each a wrong JSON type somewhere."""

    def at(*where, value):
        def change(body):
            target = body
            for step in where[:-1]:
                target = target[step]
            target[where[-1]] = value

        return change

    for value in (None, 1, "x", [], True):
        yield f"response={value!r}", at("credential", "response", value=value)
        yield f"credential={value!r}", at("credential", value=value)
    for field_name in ("id", "rawId", "type"):
        for value in (5, [], {}, None, True):
            yield f"{field_name}={value!r}", at("credential", field_name, value=value)
    for field_name in ("clientDataJSON", "attestationObject"):
        for value in (5, [], {}, None):
            yield f"{field_name}={value!r}", at("credential", "response", field_name, value=value)
    for value in ("usb", [1], {"a": 1}, 7):
        yield f"transports={value!r}", at("credential", "response", "transports", value=value)
    for value in ("false", "true", 0, 1, None, [], {}):
        yield f"public_administration={value!r}", at("use_for_public_administration", value=value)


VARIANTS = list(_registration_variants())


@pytest.mark.parametrize("change", [v[1] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_a_registration_with_a_wrong_json_type_is_incorrect_data(settings, signed_in, user, change):
    settings.DEBUG = False
    signed_in.raise_request_exception = False
    options = post_json(signed_in, "/settings/keys/add/options/")
    credential = SoftKey(CERTIFIED, authority=ROOT).register(
        challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )
    body = {"credential": credential, "name": "K", "use_for_public_administration": True}
    change(body)

    response = post_json(signed_in, "/settings/keys/add/verify/", body)

    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"] == FAILED
    assert not SecurityKey.objects.filter(user=user).exists()


@pytest.mark.parametrize("choice", [True, False, "absent"])
def test_the_public_administration_choice_is_a_json_boolean(signed_in, user, choice):
    options = post_json(signed_in, "/settings/keys/add/options/")
    credential = SoftKey(CERTIFIED, authority=ROOT).register(
        challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )
    body = {"credential": credential, "name": "K"}
    if choice != "absent":
        body["use_for_public_administration"] = choice

    assert post_json(signed_in, "/settings/keys/add/verify/", body).status_code == 200
    assert SecurityKey.objects.get(user=user).use_for_public_administration is (choice is not False)


def _assertion_variants():
    for value in (None, 1, "x", [], True):
        yield f"credential={value!r}", lambda a, v=value: v
        yield f"response={value!r}", lambda a, v=value: {**a, "response": v}
    for field_name in ("id", "rawId"):
        for value in (5, [], {}, True, "\x00", "A" * 5000, "not base64!"):
            yield f"{field_name}={value!r:.20}", lambda a, f=field_name, v=value: {**a, f: v}
    for field_name in ("clientDataJSON", "authenticatorData", "signature", "userHandle"):
        for value in (5, [], {}, True, "\x00"):
            yield (
                f"{field_name}={value!r}",
                lambda a, f=field_name, v=value: {**a, "response": {**a["response"], f: v}},
            )


ASSERTION_VARIANTS = list(_assertion_variants())


@pytest.mark.parametrize(
    "change", [v[1] for v in ASSERTION_VARIANTS], ids=[v[0] for v in ASSERTION_VARIANTS]
)
def test_a_key_login_with_a_wrong_json_type_is_refused(settings, client, user, with_key, change):
    settings.DEBUG = False
    client.raise_request_exception = False
    password_step(client, user)
    options = post_json(client, "/login/key/options/")
    assertion = with_key.authenticate(
        with_key.credential_id, challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )

    response = post_json(client, "/login/key/verify/", {"credential": change(assertion)})

    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"] == "The security key could not be verified. Try again."
    assert client.get("/settings/")["Location"].startswith("/login/"), "must not be signed in"


@pytest.mark.parametrize(
    "change", [v[1] for v in ASSERTION_VARIANTS], ids=[v[0] for v in ASSERTION_VARIANTS]
)
def test_a_reauthentication_with_a_wrong_json_type_is_a_form_error(
    settings, client, key_user, later, change
):
    settings.DEBUG = False
    client.raise_request_exception = False
    options = post_json(client, "/account/reauthenticate/key/options/")
    assertion = key_user.authenticate(
        key_user.credential_id, challenge=challenge_of(options), origin=ORIGIN, rp_id=RP_ID
    )

    response = client.post(
        "/account/reauthenticate/",
        {"password": PASSWORD, "credential": json.dumps(change(assertion))},
    )

    assert response.status_code == 200, response.content[:300]
    assert "Wrong password or security key" in response.content.decode()
    assert not opens_sudo_window(client)


def test_removing_a_key_asks_first_and_the_re_authentication_says_why(client, key_user, later):
    stored = SecurityKey.objects.get()

    asked = client.get(f"/settings/keys/{stored.pk}/remove/")
    assert asked.status_code == 200
    assert "You will no longer be able to sign in with" in asked.content.decode()
    assert SecurityKey.objects.filter(pk=stored.pk).exists(), "asking removes nothing"

    response = client.post(f"/settings/keys/{stored.pk}/remove/")
    page = client.get(response["Location"]).content.decode()

    assert "You are removing a security key." in page
    assert SecurityKey.objects.filter(pk=stored.pk).exists()
