"""Signing in to a public administration service with MojeID, in a real browser: the demo service
"Portál občana (simulace)" asks the simulated NIA, the citizen chooses MojeID there, signs in at
the portal's identity provider with the password and a security key (Chromium's virtual
authenticator), consents at NIA, and the service shows who they are, or explains why not. And
Get for a later key: Verify at NIA by signing in with the key that already has access.

The portal, NIA and the service share the live server, all at its localhost address (WebAuthn
does not work at 127.0.0.1), so the entity IDs and the addresses in the metadata agree with the
addresses the browser uses. The link with NIA is set up directly (`link`): it is not tested here.
"""

import base64
import re
from dataclasses import dataclass
from io import StringIO

import pytest
from django.db import connections

from accounts.models import AuditEvent
from conftest import PASSWORD

from .browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS

SERVICE = "Portál občana (simulace)"
SIGN_IN_PAGE = re.compile(r".*/nia/idp/signin/[^/]+/$")


@dataclass
class Nia:
    """The simulated NIA as the portal registered with it, and Jana Nováková in the register."""

    mojeid: object  # govsim.nia.models.ServiceProvider of the portal
    citizen: object  # govsim.rob.models.Citizen


@pytest.fixture
def nia(browser_session, settings, tmp_path):
    from django.core.management import call_command

    from govsim.nia import seed as nia_seed
    from govsim.nia.models import ServiceProvider
    from nia_link.clients import saml
    from nia_link.tests.idp_world import citizen_jana

    origin = browser_session.origin
    settings.PORTAL_URL = origin
    settings.VAR_DIR = tmp_path
    settings.NIA_SAML_METADATA_URL = f"{origin}/sim/nia/saml/metadata/"
    settings.NIA_SAML_BROKER_METADATA_URL = f"{origin}/sim/nia/saml/broker/metadata/"
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{origin}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5
    # The virtual authenticator's model, certified L1: enough for substantial, not for high.
    call_command("load_fido_metadata", "--development", stdout=StringIO())
    nia_seed.seed(origin, portal_metadata=saml.service_provider_metadata())
    return Nia(ServiceProvider.objects.get(entity_id=saml.entity_id()), citizen_jana())


@pytest.fixture
def walk(browser_session, nia):
    """The browser walk runs in Playwright's greenlet; its own database connection is closed
    afterwards so that the transactional test can flush the database (see test_browser_keys)."""
    yield browser_session
    connections.close_all()


# --- Steps at the portal ------------------------------------------------------------------------


def sign_in_to_portal(walk, *, with_key: bool = False) -> None:
    page, origin = walk.page, walk.origin
    page.goto(f"{origin}/login/")
    page.fill("#id_login", "jana")
    page.fill("#id_password", PASSWORD)
    page.click("main button.button")
    if with_key:
        page.wait_for_url(f"{origin}/login/key/")
        page.click("#webauthn-login button[type=submit]")
    page.wait_for_url(f"{origin}/settings/")


def add_key(walk, name: str):
    """A key added in Settings with the virtual authenticator (allowed for public administration,
    as the form offers); the stored SecurityKey."""
    from twofactor.models import SecurityKey

    page, origin = walk.page, walk.origin
    page.goto(f"{origin}/settings/keys/add/")
    page.fill("#key-name", name)
    page.click("#webauthn-register button[type=submit]")
    try:
        page.wait_for_url(re.compile(r".*/settings/keys/\d+/$"))
    except Exception:
        pytest.fail(f"no key page: {page.text_content('#webauthn-register [role=alert]')!r}")
    return SecurityKey.objects.get(user__username="jana", name=name)


def sign_out(walk) -> None:
    walk.page.goto(f"{walk.origin}/settings/")
    walk.page.click("header button.link")
    walk.page.wait_for_url(re.compile(r".*/(login/)?$"))


def jana_with_keys(walk, make_user, *names: str):
    """Jana's account with a key per name, added in the browser; signed out again.

    One virtual authenticator holds every key's credential. It would not register a second one
    for the account (the portal excludes the credentials it knows), so the earlier credentials are
    out of it while the next key is added."""
    make_user("jana", first_name="Jana", last_name="Nováková")
    sign_in_to_portal(walk)
    keys = []
    for name in names:
        away = [take_credential(walk, key) for key in keys]
        keys.append(add_key(walk, name))
        for credential in away:
            give_back(walk, credential)
    sign_out(walk)
    return keys


def linked(nia: Nia, user, *keys) -> None:
    from nia_link.tests.idp_world import link

    link(user, nia.citizen, nia.mojeid, keys=list(keys))


# --- Steps at the service and at NIA -------------------------------------------------------------


def sign_in_at_the_service(walk, level: str = "substantial") -> None:
    """The demo service's Sign in through NIA, at `level`: NIA's choice of means."""
    page = walk.page
    page.goto(f"{walk.origin}/sim/sep/")
    page.check(f"[data-testid=sep-sign-in] input[name=level][value={level}]")
    page.click("[data-testid=sep-sign-in-button]")
    page.wait_for_selector("[data-testid=means-eobcanka]")


def choose_mojeid(walk, nia: Nia) -> None:
    """MojeID at NIA: NIA's AuthnRequest posts itself to the portal's identity provider."""
    walk.page.click(f"[data-testid=means-provider-{nia.mojeid.pk}]")
    walk.page.wait_for_url(SIGN_IN_PAGE)


def password_at_the_portal(walk, *, username: bool = True) -> None:
    page = walk.page
    if username:
        page.fill("#id_login", "jana")
    page.fill("#id_password", PASSWORD)
    page.click("main form:has(#id_password) button[type=submit]")
    page.wait_for_url(SIGN_IN_PAGE)


def use_security_key(walk) -> None:
    """The key step: the answer posts itself to NIA, which asks for consent."""
    page = walk.page
    page.click("#webauthn-login button[type=submit]")
    try:
        page.wait_for_selector("[data-testid=nia-consent]")
    except Exception:
        pytest.fail(f"no consent at NIA: {page.url} {page.text_content('main')!r}")


def consent_at_nia(walk) -> None:
    walk.page.click("[data-testid=nia-consent]")


def refused_and_returned(walk) -> str:
    """The portal's refusal page → Return: NIA relays the refusal to the service; the portal's
    explanation."""
    page = walk.page
    explanation = page.text_content("[data-testid=idp-refused]")
    page.click("[data-testid=idp-back]")
    page.wait_for_selector("[data-testid=sep-refused]")
    return explanation


def field(walk, name: str) -> str:
    return walk.page.text_content(f"[data-testid=sep-person] [data-field={name}]").strip()


# --- The virtual authenticator's credentials ----------------------------------------------------


def _raw(identifier: str) -> bytes:
    return base64.urlsafe_b64decode(identifier + "=" * (-len(identifier) % 4))


def take_credential(walk, key) -> dict:
    """Remove `key`'s credential from the virtual authenticator (as if that key were not at
    hand); what `give_back` needs to plug it in again."""
    credentials = walk.cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": walk.authenticator_id}
    )["credentials"]
    (credential,) = [
        c for c in credentials if _raw(key.credential_id) == base64.b64decode(c["credentialId"])
    ]
    walk.cdp.send(
        "WebAuthn.removeCredential",
        {"authenticatorId": walk.authenticator_id, "credentialId": credential["credentialId"]},
    )
    return credential


def give_back(walk, credential: dict) -> None:
    walk.cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": walk.authenticator_id, "credential": credential},
    )


# --- The tests ---------------------------------------------------------------------------------


def test_a_linked_citizen_signs_in_to_the_service_at_substantial(walk, nia, make_user):
    (key,) = jana_with_keys(walk, make_user, "Klíč od úřadu")
    linked(nia, key.user, key)

    sign_in_at_the_service(walk, "substantial")
    choose_mojeid(walk, nia)
    assert SERVICE in walk.page.text_content("[data-testid=idp-service]")
    password_at_the_portal(walk)
    assert walk.page.text_content("[data-testid=idp-keys]") == "Klíč od úřadu"
    use_security_key(walk)
    assert "Level of assurance of this login: substantial" in walk.page.text_content(
        "[data-testid=nia-level]"
    )
    consent_at_nia(walk)
    walk.page.wait_for_selector("[data-testid=sep-person]")

    assert field(walk, "given_name") == "Jana"
    assert field(walk, "level") == "substantial"
    assert field(walk, "person_identifier").startswith("CZ/CZ/")
    # Signed in at the portal too: Settings lists the sign-in.
    walk.page.goto(f"{walk.origin}/settings/")
    assert "Recent sign-ins to public administration services" in walk.page.text_content("main")
    sign_ins = walk.page.text_content("[data-testid=nia-sign-ins]")
    assert SERVICE in sign_ins and "Klíč od úřadu" in sign_ins and "substantial" in sign_ins


def test_high_with_only_a_level_one_key_is_refused_and_the_service_explains(walk, nia, make_user):
    (key,) = jana_with_keys(walk, make_user, "Klíč od úřadu")
    linked(nia, key.user, key)

    sign_in_at_the_service(walk, "high")
    choose_mojeid(walk, nia)
    password_at_the_portal(walk)
    explanation = refused_and_returned(walk)

    assert "(high)" in explanation
    refused = walk.page.locator("[data-testid=sep-refused]")
    assert refused.get_attribute("data-status") == "NoAuthnContext"
    assert "at the level of assurance this service asks for (high)" in refused.text_content()
    assert walk.page.locator("[data-testid=sep-person]").count() == 0
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_SIGN_IN).exists()


def test_an_account_without_access_is_refused_and_the_service_explains(walk, nia, make_user):
    jana_with_keys(walk, make_user, "Klíč od úřadu")  # a key, but no link to NIA

    sign_in_at_the_service(walk, "substantial")
    choose_mojeid(walk, nia)
    password_at_the_portal(walk)
    explanation = refused_and_returned(walk)

    assert "does not have access to public administration services" in explanation
    refused = walk.page.locator("[data-testid=sep-refused]")
    assert refused.get_attribute("data-status") == "UnknownPrincipal"
    assert "The identity provider does not know you." in refused.text_content()
    assert walk.page.locator("[data-testid=sep-person]").count() == 0


def test_signed_in_with_a_key_not_registered_with_nia_the_portal_asks_for_a_registered_one(
    walk, nia, make_user
):
    registered, other = jana_with_keys(walk, make_user, "Registrovaný", "Jen pro MojeID")
    linked(nia, registered.user, registered)
    # Signed in to the portal with the other key: the registered one is not at hand.
    away = take_credential(walk, registered)
    sign_in_to_portal(walk, with_key=True)
    give_back(walk, away)

    sign_in_at_the_service(walk, "substantial")
    choose_mojeid(walk, nia)

    # Signed in just now: no password, but a key registered with NIA (the step-up).
    assert walk.page.locator("#id_password").count() == 0
    assert walk.page.text_content("[data-testid=idp-keys]") == "Registrovaný"
    # Only the other key at hand: the browser finds no allowed credential on it.
    away = take_credential(walk, registered)
    walk.page.click("#webauthn-login button[type=submit]")
    alert = walk.page.locator("#webauthn-login [role=alert]")
    alert.wait_for(state="visible")
    assert "did not answer, or you cancelled" in alert.text_content()
    give_back(walk, away)
    use_security_key(walk)
    consent_at_nia(walk)
    walk.page.wait_for_selector("[data-testid=sep-person]")
    assert field(walk, "given_name") == "Jana"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NIA_SIGN_IN)
    assert event.details["authenticator"] == "Registrovaný"
    assert other.name not in event.details["authenticator"]


def test_get_registers_a_later_key_by_signing_in_at_nia_with_the_first(walk, nia, make_user):
    from govsim.nia.models import AuthenticatorRegistration
    from nia_link.models import Registration

    first, second = jana_with_keys(walk, make_user, "První", "Druhý")
    linked(nia, first.user, first)
    # Signed in with the new key (with the first one, the portal would answer NIA at once).
    away = take_credential(walk, first)
    sign_in_to_portal(walk, with_key=True)
    give_back(walk, away)
    page, origin = walk.page, walk.origin

    page.goto(f"{origin}/settings/#two-factor")
    page.click("#two-factor table.keys tr:has(a:text-is('Druhý')) a.badge")
    page.wait_for_url(f"{origin}/settings/public-administration/keys/{second.pk}/")
    page.click("[data-testid=get-key-verify]")
    page.wait_for_selector("[data-testid=means-eobcanka]")
    choose_mojeid(walk, nia)
    assert page.locator("#id_password").count() == 0  # signed in just now
    assert page.text_content("[data-testid=idp-keys]") == "První"
    use_security_key(walk)
    consent_at_nia(walk)
    page.wait_for_url(f"{origin}/settings/public-administration/keys/{second.pk}/complete/")
    assert "Druhý" in page.text_content("main")
    page.click("[data-testid=complete-key]")  # no re-authentication: the first key just now
    page.wait_for_url(f"{origin}/settings/#two-factor")

    row = page.text_content("#two-factor table.keys tr:has(a:text-is('Druhý'))")
    assert "Active" in row
    registration = Registration.objects.get(security_key=second)
    assert AuthenticatorRegistration.objects.get(identifier=registration.identifier).state == (
        "Aktivni"
    )
