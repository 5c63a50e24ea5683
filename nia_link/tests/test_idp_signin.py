"""Signing in to a public administration service with MojeID through NIA: the service's request
at the simulated NIA, the choice of MojeID, NIA's AuthnRequest to the portal's identity provider,
the password and a registered key there, the portal's encrypted answer checked by the hub, NIA's
consent and its own answer to the service, read by the service with python3-saml."""

import base64
import re

import pytest
from lxml import etree

from accounts.models import AuditEvent
from accounts.reauth import REAUTH_FACTOR
from govsim.nia.models import AuthenticatorRegistration
from govsim.rob.tests.factories import make_citizen
from nia_link.exceptions import AssertionRefused
from nia_link.models import AuthnRequest, KeyVerification, Link, Registration

from .idp_world import add_key, citizen_jana, form, link, metadata_for_keys, path_of, signed_in_with
from .idp_world import world as world

pytestmark = pytest.mark.django_db(transaction=True)
NP = "http://eidas.europa.eu/attributes/naturalperson/"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def test_a_linked_citizen_signs_in_to_the_service_at_substantial(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    citizen = citizen_jana()
    link(user, citizen, world.mojeid, keys=[key.stored])

    page = world.service_asks("substantial")
    assert "MojeID" in page
    asked = world.choose_mojeid(page)
    after_password = world.sign_in_with_password(asked)
    assert after_password.status_code == 302, after_password.content[:2000]
    verified = world.key_step(key)
    assert verified.status_code == 200, verified.content
    at_consent = world.answer_to_nia()
    assert "Level of assurance of this login: substantial" in at_consent.content.decode()
    to_service = world.consent(at_consent)
    response = world.service_reads(to_service)

    assert response.is_valid(
        {"https": "on", "http_host": "sep.test", "script_name": "/acs/", "post_data": {}},
        request_id=world.request_id,
        raise_exceptions=True,
    )
    attributes = response.get_attributes()
    assert attributes[NP + "CurrentGivenName"] == ["Jana"]
    assert attributes[NP + "PersonIdentifier"][0].startswith("CZ/CZ/")
    assert response.get_authn_contexts() == ["http://eidas.europa.eu/LoA/substantial"]
    event = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN)
    assert event.details["service"] == "Portál občana (test)"
    assert event.details["level"] == "substantial"
    assert event.details["authenticator"] == "Klíč od úřadu"


def _refusal_at_the_service(world, page: str) -> str:
    """The portal's refusal page → Return to NIA → NIA's error answer to the service: the
    second-level status the service reads."""
    action = re.search(r'action="(?P<action>[^"]+/refuse/)"', page)
    assert action, page[:3000]
    back = world.client.post(action["action"])
    assert back.status_code == 200, back.content[:2000]
    to_nia, fields = form(back.content.decode(), "SAMLResponse")
    relayed = world.client.post(path_of(to_nia), fields)
    _to_service, answer = form(relayed.content.decode(), "SAMLResponse")
    document = etree.fromstring(base64.b64decode(answer["SAMLResponse"]))
    assert document.find(f".//{{{SAML}}}EncryptedAssertion") is None
    assert document.find(f".//{{{SAML}}}Assertion") is None
    codes = document.findall(f".//{{{SAMLP}}}StatusCode")
    return codes[-1].get("Value").rsplit(":", 1)[-1]


def test_the_settings_page_lists_the_sign_in(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    link(user, citizen_jana(), world.mojeid, keys=[key.stored])
    world.sign_in_with_password(world.choose_mojeid(world.service_asks()))
    world.key_step(key)
    world.consent(world.answer_to_nia())

    page = world.client.get("/settings/").content.decode()

    assert "Recent sign-ins to public administration services" in page
    assert "Portál občana (test)" in page and "Klíč od úřadu" in page


def test_a_second_sign_in_within_minutes_needs_no_step(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    link(user, citizen_jana(), world.mojeid, keys=[key.stored])
    world.sign_in_with_password(world.choose_mojeid(world.service_asks()))
    world.key_step(key)
    world.consent(world.answer_to_nia())

    again = world.choose_mojeid(world.service_asks())
    page = world.client.get(again["Location"]).content.decode()

    assert 'name="SAMLResponse"' in page  # answered at once: no password, no key asked
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN).count() == 2


def test_an_account_without_access_is_refused_and_the_service_is_told(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    add_key(user)  # a key, but no link to NIA

    refused = world.sign_in_with_password(world.choose_mojeid(world.service_asks()))
    page = world.client.get(refused["Location"])

    assert page.status_code == 403
    assert "does not have access to public administration services" in page.content.decode()
    assert _refusal_at_the_service(world, page.content.decode()) == "UnknownPrincipal"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_SIGN_IN).exists()


def test_high_with_only_a_level_one_key_is_refused_and_explained(world, make_user):
    metadata_for_keys("FIDO_CERTIFIED_L1")
    user = make_user("jana")
    key = add_key(user)
    link(user, citizen_jana(), world.mojeid, keys=[key.stored])

    refused = world.sign_in_with_password(world.choose_mojeid(world.service_asks("high")))
    page = world.client.get(refused["Location"])

    assert page.status_code == 403
    assert "reaches the level of assurance this service asks for (high)" in page.content.decode()
    assert _refusal_at_the_service(world, page.content.decode()) == "NoAuthnContext"


def test_the_key_step_offers_only_keys_registered_with_nia(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    registered = add_key(user, "Registrovaný")
    other = add_key(user, "Jen pro MojeID")
    link(user, citizen_jana(), world.mojeid, keys=[registered.stored])
    world.sign_in_with_password(world.choose_mojeid(world.service_asks()))

    page = world.client.get(world.sign_in_url).content.decode()
    refused = world.key_step(other)

    assert "Registrovaný" in page and "Jen pro MojeID" not in page
    assert world.allowed == [registered.stored.credential_id]
    assert refused.status_code == 400
    assert 'name="SAMLResponse"' not in world.client.get(world.sign_in_url).content.decode()
    assert world.key_step(registered).status_code == 200


def test_a_wrong_password_is_refused_on_the_sign_in_page(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    link(user, citizen_jana(), world.mojeid, keys=[key.stored])
    asked = world.choose_mojeid(world.service_asks())
    world.sign_in_url = asked["Location"]

    wrong = world.client.post(world.sign_in_url, {"login": "jana", "password": "nope"})

    assert wrong.status_code == 400
    assert world.key_step(key).status_code == 403  # no key step before the password


def test_get_registers_a_second_key_after_signing_in_at_nia_with_the_first(
    world, make_user, deliver
):
    metadata_for_keys()
    user = make_user("jana")
    first = add_key(user, "První")
    second = add_key(user, "Druhý")
    citizen = citizen_jana()
    link(user, citizen, world.mojeid, keys=[first.stored])
    signed_in_with(world.client, user, first.stored)
    settings_page = world.client.get("/settings/").content.decode()
    get_url = f"/settings/public-administration/keys/{second.stored.pk}/"
    assert f'href="{get_url}"' in settings_page  # the key list's Get

    verify = world.client.post(get_url, {"route": "existing"})
    assert verify.status_code == 302, verify.content[:2000]
    at_nia = world.client.get(path_of(verify["Location"]), follow=True).content.decode()
    world.sign_in_with_password(world.choose_mojeid(at_nia))
    assert world.key_step(first).status_code == 200
    to_portal = world.consent(world.answer_to_nia())
    action, fields = form(to_portal, "SAMLResponse")
    back = world.client.post(path_of(action), fields)
    assert back["Location"] == f"{get_url}complete/"
    session = world.client.session
    session[REAUTH_FACTOR] = True  # signed in with the first key lately
    session.save()
    completed = world.client.post(f"{get_url}complete/")

    assert completed.status_code == 302
    registration = Registration.objects.get(security_key=second.stored)
    assert (registration.wanted, registration.at_nia) == ("active", "active")
    assert AuthenticatorRegistration.objects.get(identifier=registration.identifier).state == (
        "Aktivni"
    )
    assert ">Active<" in world.client.get("/settings/").content.decode()
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.NIA_KEY_ADDED).exists()
    assert deliver()[0][-1].subject == (
        "Security key added to access to public administration services"
    )
    # The proof is spent: a second Complete finds nothing to complete.
    assert world.client.post(f"{get_url}complete/")["Location"] == get_url


def test_get_refuses_a_different_person_at_nia(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    first = add_key(user, "První")
    second = add_key(user, "Druhý")
    link(user, citizen_jana(), world.mojeid, keys=[first.stored])
    other = make_citizen(first_names="Petr", last_name="Svoboda")
    signed_in_with(world.client, user, first.stored)
    from nia_link import eobcanka

    verify = world.client.post(
        f"/settings/public-administration/keys/{second.stored.pk}/", {"route": "existing"}
    )
    request_id = AuthnRequest.objects.get(security_key=second.stored).request_id
    assert verify.status_code == 302 and request_id
    # NIA answers that somebody else signed in (their own eObčanka, say).
    assertion = eobcanka.saml.Assertion(
        id="_x",
        in_response_to=request_id,
        not_on_or_after=None,
        levels=(eobcanka.saml.LOA_HIGH,),
        person_identifier="CZ/CZ/x",
        first_names=other.first_names,
        last_name=other.last_name,
        birth_date=other.birth_date,
        birth_place="",
    )
    link_row = Link.objects.get(user=user)
    with pytest.raises(AssertionRefused):
        eobcanka._verify_for_key(link_row, second.stored.pk, assertion)
    assert not KeyVerification.objects.exists()


def test_complete_raises_a_level_two_key_to_high_after_a_high_sign_in_at_nia(world, make_user):
    from nia_link import completion

    metadata_for_keys("FIDO_CERTIFIED_L2")
    user = make_user("jana")
    key = add_key(user, "Klíč L2")
    citizen = citizen_jana()
    active = link(user, citizen, world.mojeid, keys=[key.stored], level="substantial")
    assert completion.can_raise(key.stored)
    KeyVerification.objects.create(
        link=active, security_key=key.stored, level="high", assertion_id="_high"
    )

    completion.add_key(user, key.stored, actor=user)

    registration = Registration.objects.get(security_key=key.stored)
    assert (registration.level, registration.at_nia) == ("high", "active")
    assert AuthenticatorRegistration.objects.get(identifier=registration.identifier).loa == "High"
    assert not completion.can_raise(key.stored)


def test_a_substantial_proof_does_not_raise_a_key(world, make_user):
    from nia_link import completion
    from nia_link.exceptions import IllegalTransition

    metadata_for_keys("FIDO_CERTIFIED_L2")
    user = make_user("jana")
    key = add_key(user, "Klíč L2")
    active = link(user, citizen_jana(), world.mojeid, keys=[key.stored], level="substantial")
    KeyVerification.objects.create(
        link=active, security_key=key.stored, level="substantial", assertion_id="_subst"
    )

    with pytest.raises(IllegalTransition):
        completion.add_key(user, key.stored, actor=user)

    assert Registration.objects.get(security_key=key.stored).level == "substantial"


def test_complete_for_a_key_with_nia_down_changes_nothing_and_says_so(world, make_user, settings):
    from nia_link import completion
    from nia_link.exceptions import NiaUnavailable

    metadata_for_keys()
    user = make_user("jana")
    first = add_key(user, "První")
    second = add_key(user, "Druhý")
    active = link(user, citizen_jana(), world.mojeid, keys=[first.stored])
    KeyVerification.objects.create(
        link=active, security_key=second.stored, level="substantial", assertion_id="_down"
    )
    settings.GOVSIM_OUTAGES = ["nia"]

    with pytest.raises(NiaUnavailable):
        completion.add_key(user, second.stored, actor=user)

    registration = Registration.objects.get(security_key=second.stored)
    assert registration.wanted == "ended"  # not wanted at NIA; reconcile makes sure
    settings.GOVSIM_OUTAGES = []
    Registration.objects.filter(pk=registration.pk).update(
        updated_at=registration.updated_at - completion.STALLED_AFTER * 2
    )
    completion.reconcile()
    registration.refresh_from_db()
    assert registration.at_nia == "ended"
    assert not AuthenticatorRegistration.objects.filter(
        identifier=registration.identifier, state="Aktivni"
    ).exists()


def test_a_key_registration_a_crash_left_unconfirmed_is_finished_by_reconcile(world, make_user):
    from nia_link import completion

    metadata_for_keys()
    user = make_user("jana")
    first = add_key(user, "První")
    second = add_key(user, "Druhý")
    active = link(user, citizen_jana(), world.mojeid, keys=[first.stored])
    # Complete wrote its row and crashed before NIA heard of it.
    stalled = Registration.objects.create(
        link=active,
        identifier="mojeid-key-crashed",
        security_key=second.stored,
        level="substantial",
        wanted="active",
    )
    Registration.objects.filter(pk=stalled.pk).update(
        updated_at=stalled.created_at - completion.STALLED_AFTER * 2
    )

    report = completion.reconcile()

    stalled.refresh_from_db()
    assert stalled.at_nia == "active" and report["finished"] == 1
    assert AuthenticatorRegistration.objects.get(identifier="mojeid-key-crashed").state == (
        "Aktivni"
    )


def test_mojeid_klic_shows_the_service_and_signs_in_at_high(world, make_user):
    from django.test import Client
    from django.utils import timezone

    from twofactor.klic.services import hash_pin_verifier
    from twofactor.models import KlicDevice
    from twofactor.tests.softklic import SoftKlic, pin_verifier

    user = make_user("jana")
    app = SoftKlic(Client())
    device = KlicDevice.objects.create(
        user=user,
        confirmed=True,
        confirmed_at=timezone.now(),
        public_key=base64.urlsafe_b64decode(app.public_key + "=" * (-len(app.public_key) % 4)),
        pin_verifier=hash_pin_verifier(pin_verifier(app.pin, app.salt)),
    )
    app.device_id = str(device.device_id)
    link(user, citizen_jana(), world.mojeid, klic=device, level="high")
    world.sign_in_with_password(world.choose_mojeid(world.service_asks("high")))
    token = world.sign_in_url.rstrip("/").rsplit("/", 1)[-1]

    started = world.client.post(f"/nia/idp/signin/{token}/klic/start/")
    assert started.status_code == 200, started.content
    (request,) = app.requests()
    assert request["service"] == "NIA — Portál občana (test)"
    assert app.approve(request, number=started.json()["number"]).status_code == 200
    status = world.client.get(f"/nia/idp/signin/{token}/klic/status/").json()
    assert status["status"] == "approved"
    to_service = world.consent(world.answer_to_nia())

    response = world.service_reads(to_service)
    assert response.get_authn_contexts() == ["http://eidas.europa.eu/LoA/high"]
    event = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN)
    assert (event.details["level"], event.details["authenticator"]) == ("high", "MojeID Klíč")


def test_a_sign_in_page_opened_by_another_browser_answers_nothing(world, make_user):
    import time

    from django.test import Client

    from twofactor.flows import FACTOR_PROOF

    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    link(user, citizen_jana(), world.mojeid, keys=[key.stored])
    asked = world.choose_mojeid(world.service_asks())
    # A victim, signed in with the registered key a moment ago, opens the link an attacker
    # passed on: the request NIA sent with the attacker's browser.
    victim = Client(HTTP_HOST=world.live_url.split("://", 1)[1], HTTP_ACCEPT_LANGUAGE="en")
    signed_in_with(victim, user, key.stored)
    session = victim.session
    session[FACTOR_PROOF] = {"key": key.stored.pk, "user_verified": True, "at": time.time()}
    session.save()

    page = victim.get(asked["Location"])

    assert page.status_code == 410
    assert 'name="SAMLResponse"' not in page.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_SIGN_IN).exists()
    assert world.client.get(asked["Location"]).status_code == 200  # the browser NIA sent
