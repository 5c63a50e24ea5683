"""NIA as a hub, from the other side: the answers a qualified identity provider (MojeID) posts to
NIA's broker ACS that NIA must refuse. A real sign-in goes as far as MojeID's answer (the world of
`nia_link.tests.idp_world`: the service, NIA, the portal on a live server); then the genuine answer
is posted after NIA's records changed, or an answer is crafted with the portal's own SAML code
(`nia_link.internal.saml_idp`) and its key, changing one thing.

A refusal must reach the service as a SAML error Response (Responder, then the second-level status
saying why) and nothing else: no consent page at NIA, no pseudonym given to the service, no
assertion. The genuine answer and a crafted one without a change are accepted (the baselines).
"""

import base64
import dataclasses
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from lxml import etree

from govsim.nia.keys import make_key_pair
from govsim.nia.models import AuthenticatorRegistration, Pseudonym
from nia_link import signin
from nia_link.clients import saml
from nia_link.internal import keys as portal_keys
from nia_link.internal import saml_idp
from nia_link.models import SignInRequest
from nia_link.tests.idp_world import (
    World,
    add_key,
    citizen_jana,
    form,
    link,
    metadata_for_keys,
    path_of,
)
from nia_link.tests.idp_world import world as world

pytestmark = pytest.mark.django_db(transaction=True)

SAMLP = saml_idp.SAMLP
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
AUTHN_FAILED = STATUS + "AuthnFailed"
NO_AUTHN_CONTEXT = STATUS + "NoAuthnContext"
SERVICE_ACS = "https://sep.test/acs/"


@dataclasses.dataclass
class AtMojeID:
    """A sign-in that reached MojeID: NIA's request accepted there, the citizen's link."""

    world: World
    key: object
    citizen: object
    link: object

    @property
    def sign_in(self) -> SignInRequest:
        return SignInRequest.objects.latest("pk")

    @property
    def registration(self):
        return self.link.registrations.get()

    def answer(self) -> dict[str, str]:
        """The genuine answer: the password and the key proved at the portal, whose sign-in page
        then carries the SAMLResponse to NIA (the form's fields)."""
        self.world.sign_in_with_password(self.asked)
        verified = self.world.key_step(self.key)
        assert verified.status_code == 200, verified.content
        page = self.world.client.get(self.world.sign_in_url)
        assert page.status_code == 200, page.content[:2000]
        action, fields = form(page.content.decode(), "SAMLResponse")
        assert path_of(action) == reverse("govsim:nia:broker_acs")
        return fields

    def crafted(self, *, level: str = "substantial", **changes) -> str:
        """A SAMLResponse made with the portal's own code and key for NIA's accepted request,
        with `changes` to the request it answers (id, acs_url) or `requester` / `authenticator`
        / `now` / `pair` instead of the genuine ones."""
        pair = changes.pop("pair", None) or portal_keys.service_provider_pair()
        requester = changes.pop("requester", None) or saml.nia_as_requester()
        authenticator = changes.pop("authenticator", None) or self.registration.identifier
        now = changes.pop("now", None)
        request = dataclasses.replace(signin._parsed(self.sign_in), **changes)
        return saml_idp.success_response(
            request,
            requester,
            issuer=saml.entity_id(),
            bsi=self.link.bsi,
            level=level,
            authenticator=authenticator,
            key_pem=pair.key_pem,
            cert_pem=pair.cert_pem,
            now=now,
        )

    def unsigned(
        self, *, sign_assertion: bool = True, sign_response: bool = True, encrypt: bool = True
    ) -> str:
        """The genuine answer's structure with one or both signatures, or the encryption, left
        out (the module's own builders, which `success_response` puts together with all)."""
        request = signin._parsed(self.sign_in)
        requester = saml.nia_as_requester()
        pair = portal_keys.service_provider_pair()
        now = datetime.now(UTC)
        assertion = saml_idp._assertion(
            request,
            issuer=saml.entity_id(),
            audience=requester.entity_id,
            bsi=self.link.bsi,
            level="substantial",
            authenticator=self.registration.identifier,
            now=now,
        )
        if sign_assertion:
            assertion = etree.fromstring(saml_idp._sign(assertion, pair.key_pem, pair.cert_pem))
        response = saml_idp._response(request, saml.entity_id(), now, (saml_idp.STATUS_SUCCESS,))
        if encrypt:
            saml_idp._encrypt(response, assertion, requester.encryption_certificate)
        else:
            response.append(assertion)
        xml = (
            saml_idp._sign(response, pair.key_pem, pair.cert_pem)
            if sign_response
            else etree.tostring(response)
        )
        return base64.b64encode(xml).decode("ascii")

    def post(self, saml_response: str):
        """Post an answer to NIA's broker ACS as the portal's page would, for this login."""
        return self.world.client.post(
            reverse("govsim:nia:broker_acs"),
            {"SAMLResponse": saml_response, "RelayState": self.world.nia_request["RelayState"]},
        )


def at_mojeid(
    world: World, make_user, *, asked: str = "substantial", registered: str | None = None
):
    """The service asks NIA for `asked`, the citizen chooses MojeID, whose authenticator is
    registered at `registered` (the level asked, unless given)."""
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    citizen = citizen_jana()
    active = link(user, citizen, world.mojeid, keys=[key.stored], level=registered or asked)
    state = AtMojeID(world, key, citizen, active)
    state.asked = world.choose_mojeid(world.service_asks(asked))
    assert state.asked.status_code == 302, state.asked.content[:2000]
    return state


def service_is_told(response, state: AtMojeID, second_level: str) -> None:
    """NIA refused: its page posts an error Response to the service, saying `second_level`; no
    consent, no pseudonym for the service, no assertion."""
    assert response.status_code == 200, (response.status_code, response.content[:2000])
    page = response.content.decode()
    action, fields = form(page, "SAMLResponse")
    assert action == SERVICE_ACS
    assert "/consent/" not in page
    xml = base64.b64decode(fields["SAMLResponse"])
    root = etree.fromstring(xml)
    assert root.tag == f"{{{SAMLP}}}Response"
    assert root.get("InResponseTo") == state.world.request_id
    top = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    assert top.get("Value") == STATUS + "Responder"
    assert [code.get("Value") for code in top.findall(f"{{{SAMLP}}}StatusCode")] == [second_level]
    assert b"Assertion" not in xml
    assert not Pseudonym.objects.filter(service_provider=state.world.service).exists()
    # The service, with python3-saml, sees no success either.
    read = state.world.service_reads(page)
    with pytest.raises(Exception, match="status code"):
        read.is_valid(
            {"https": "on", "http_host": "sep.test", "script_name": "/acs/", "post_data": {}},
            request_id=state.world.request_id,
            raise_exceptions=True,
        )


def goes_to_consent(response) -> None:
    assert response.status_code == 302, response.content[:2000]
    assert response["Location"].endswith("/consent/")


# --- Baselines -----------------------------------------------------------------------------


def test_the_genuine_answer_is_accepted(world, make_user):
    state = at_mojeid(world, make_user)
    goes_to_consent(state.post(state.answer()["SAMLResponse"]))
    # Only the consent releases the pseudonym: the refusals below check it was not.
    assert not Pseudonym.objects.filter(service_provider=world.service).exists()


def test_a_crafted_answer_without_a_change_is_accepted(world, make_user):
    state = at_mojeid(world, make_user)
    goes_to_consent(state.post(state.crafted()))


# --- (a) NIA's records changed before the answer arrived ------------------------------------


@pytest.mark.parametrize("ended_as", ["Ukonceny", "Neaktivni"])
def test_an_authenticator_no_longer_active_at_nia_is_refused(world, make_user, ended_as):
    state = at_mojeid(world, make_user)
    answer = state.answer()
    AuthenticatorRegistration.objects.filter(identifier=state.registration.identifier).update(
        state=ended_as
    )
    service_is_told(state.post(answer["SAMLResponse"]), state, AUTHN_FAILED)


def test_an_authenticator_not_registered_at_nia_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    answer = state.crafted(authenticator="mojeid-test-never-registered")
    service_is_told(state.post(answer), state, AUTHN_FAILED)


def test_an_authenticator_of_another_person_is_refused(world, make_user):
    """The identifier is registered — for someone else's BSI."""
    state = at_mojeid(world, make_user)
    AuthenticatorRegistration.objects.filter(identifier=state.registration.identifier).update(
        bsi="00000000-0000-4000-8000-000000000000"
    )
    service_is_told(state.post(state.crafted()), state, AUTHN_FAILED)


# --- (b) the level ------------------------------------------------------------------------


def test_an_assertion_below_the_level_asked_is_refused(world, make_user):
    """The service asks for high; MojeID vouches for substantial only."""
    state = at_mojeid(world, make_user, asked="high")
    assert state.sign_in.level == "high"
    service_is_told(state.post(state.crafted(level="substantial")), state, NO_AUTHN_CONTEXT)


def test_an_assertion_above_the_registration_is_refused(world, make_user):
    """The authenticator is registered at Substantial; the assertion claims high."""
    state = at_mojeid(world, make_user, asked="substantial")
    assert AuthenticatorRegistration.objects.get().loa == "Substantial"
    service_is_told(state.post(state.crafted(level="high")), state, NO_AUTHN_CONTEXT)


def test_high_asked_high_registered_high_asserted_is_accepted(world, make_user):
    """The other side of the two cases above: high is accepted where everything is high."""
    state = at_mojeid(world, make_user, asked="high")
    goes_to_consent(state.post(state.crafted(level="high")))


# --- (c) for whom, and where ---------------------------------------------------------------


def test_an_assertion_for_another_audience_is_refused(world, make_user):
    """Built for another requester (encrypted to NIA's real certificate all the same, so that
    NIA can read it): its Audience is not NIA's entity ID."""
    state = at_mojeid(world, make_user)
    nia = saml.nia_as_requester()
    other = dataclasses.replace(nia, entity_id="https://another-hub.example.test/metadata/")
    service_is_told(state.post(state.crafted(requester=other)), state, AUTHN_FAILED)


def test_an_answer_for_another_destination_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    elsewhere = "https://another-hub.example.test/acs/"
    service_is_told(state.post(state.crafted(acs_url=elsewhere)), state, AUTHN_FAILED)


# --- (d) signatures, time, and which request it answers -------------------------------------


@pytest.mark.parametrize(
    "sign_assertion, sign_response",
    [(False, False), (True, False), (False, True)],
    ids=["nothing-signed", "response-unsigned", "assertion-unsigned"],
)
def test_an_unsigned_answer_is_refused(world, make_user, sign_assertion, sign_response):
    state = at_mojeid(world, make_user)
    answer = state.unsigned(sign_assertion=sign_assertion, sign_response=sign_response)
    service_is_told(state.post(answer), state, AUTHN_FAILED)


def test_the_unsigned_builder_with_everything_signed_is_accepted(world, make_user):
    """The baseline of the cases above and below: what they leave out is what refuses them."""
    state = at_mojeid(world, make_user)
    goes_to_consent(state.post(state.unsigned()))


def test_an_unencrypted_assertion_is_refused(world, make_user):
    """Signed by MojeID, but in the clear: the person's BSI and authenticator would have been
    readable in the citizen's browser (and NIA promises it reads encrypted assertions only)."""
    state = at_mojeid(world, make_user)
    service_is_told(state.post(state.unsigned(encrypt=False)), state, AUTHN_FAILED)


def test_an_answer_signed_by_another_key_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    key_pem, cert_pem = make_key_pair("Not MojeID")
    other = portal_keys.KeyPair(key_pem.decode(), cert_pem.decode())
    service_is_told(state.post(state.crafted(pair=other)), state, AUTHN_FAILED)


def test_a_tampered_answer_is_refused(world, make_user):
    """The genuine answer with its Response's IssueInstant moved by a second: only the signature
    tells."""
    state = at_mojeid(world, make_user)
    xml = base64.b64decode(state.answer()["SAMLResponse"]).decode()
    instant = re.search(r'IssueInstant="([^"]+)"', xml)[1]
    moved = (
        datetime.fromisoformat(instant.replace("Z", "+00:00")) - timedelta(seconds=1)
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    tampered = xml.replace(f'IssueInstant="{instant}"', f'IssueInstant="{moved}"', 1)
    assert tampered != xml
    service_is_told(state.post(base64.b64encode(tampered.encode()).decode()), state, AUTHN_FAILED)


def test_an_expired_answer_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    stale = state.crafted(now=datetime.now(UTC) - timedelta(minutes=10))
    service_is_told(state.post(stale), state, AUTHN_FAILED)


def test_an_answer_to_another_request_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    other = state.crafted(id="_" + "0" * 40)
    service_is_told(state.post(other), state, AUTHN_FAILED)


def test_garbage_is_refused(world, make_user):
    state = at_mojeid(world, make_user)
    service_is_told(state.post(base64.b64encode(b"<not-saml/>").decode()), state, AUTHN_FAILED)


def test_an_answer_posted_twice_is_refused_the_second_time(world, make_user):
    """The login is claimed by the first answer: the second finds nothing to answer (410) and
    certainly no second consent."""
    state = at_mojeid(world, make_user)
    answer = state.answer()["SAMLResponse"]
    goes_to_consent(state.post(answer))
    again = state.post(answer)
    assert again.status_code == 410, again.content[:2000]
    assert "SAMLResponse" not in again.content.decode()


def test_an_old_answer_replayed_to_a_new_login_is_refused(world, make_user):
    """The same browser starts again at the service and chooses MojeID; the answer of the first
    login is posted for the second: it answers another request."""
    state = at_mojeid(world, make_user)
    old = state.answer()["SAMLResponse"]
    goes_to_consent(state.post(old))
    again = world.choose_mojeid(world.service_asks("substantial"))
    assert again.status_code == 302
    service_is_told(state.post(old), state, AUTHN_FAILED)


def test_the_service_never_sees_the_citizen_after_a_refusal(world, make_user):
    """After a refused answer the login is over: the consent page is not reachable for it."""
    state = at_mojeid(world, make_user)
    refused = state.post(state.crafted(authenticator="mojeid-test-never-registered"))
    service_is_told(refused, state, AUTHN_FAILED)
    login = html.unescape(world.nia_request["RelayState"])
    consent = world.client.get(reverse("govsim:nia:consent", kwargs={"login_id": login}))
    assert consent.status_code == 410, consent.content[:2000]
    assert not Pseudonym.objects.filter(service_provider=world.service).exists()
