"""The world of a sign-in through NIA with MojeID, for the tests: a service registered at the
simulated NIA (a python3-saml SP), the portal registered there with its metadata (so NIA offers
MojeID and encrypts to it), a citizen in the register, and a MojeID account linked to them with a
software security key registered on both sides. The browser is Django's test client pointed at
the live server's host, so that every absolute address agrees with the metadata NIA and the
portal read from each other over real HTTP."""

import base64
import html
import json
import re
import time
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from accounts.reauth import REAUTH_AT, REAUTH_FACTOR
from conftest import PASSWORD
from govsim.nia import keys as nia_keys
from govsim.nia import seed as nia_seed
from govsim.nia import services as nia_services
from govsim.nia.idp import service_provider_metadata
from govsim.nia.models import AuthenticatorRegistration, ServiceProvider
from govsim.rob.tests.factories import make_citizen
from nia_link.clients import saml
from nia_link.models import Link, LinkState, Registration, RegistrationState
from twofactor.metadata import load_payload
from twofactor.models import MetadataSource, SecurityKey
from twofactor.tests.softkey import CertificateAuthority, SoftKey

ROOT = CertificateAuthority("Sign-in Root")
CERTIFIED = uuid.UUID("c0c0c0c0-0000-4000-8000-0000000000a1")
FORM_FIELD = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')
FORM_ACTION = re.compile(r'<form[^>]+action="(?P<action>[^"]+)"')
SERVICE_NAME = "Portál občana (test)"


def form(page: str, wanted: str) -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the page's form with a `wanted` hidden field."""
    for found in re.findall(r"<form[\s\S]*?</form>", page):
        fields = {m["name"]: html.unescape(m["value"]) for m in FORM_FIELD.finditer(found)}
        if wanted in fields:
            action = FORM_ACTION.search(found)
            return (html.unescape(action["action"]) if action else ""), fields
    raise AssertionError(page[:3000])


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@dataclass
class World:
    live_url: str
    client: Client
    service: ServiceProvider
    service_settings: OneLogin_Saml2_Settings
    mojeid: ServiceProvider

    # --- the service ---------------------------------------------------------------------

    def service_asks(self, level: str = "substantial") -> str:
        """The service's AuthnRequest (HTTP-Redirect) at NIA; the page it leads to."""
        auth = OneLogin_Saml2_Auth(
            {"https": "off", "http_host": "sep.test", "script_name": "/", "get_data": {}},
            old_settings=self._settings(level),
        )
        self.request_id = None
        url = auth.login()
        self.request_id = auth.get_last_request_id()
        response = self.client.get(path_of(url), follow=True)
        return response.content.decode()

    def _settings(self, level: str) -> OneLogin_Saml2_Settings:
        data = self.service_settings.get_sp_data()
        idp = self.service_settings.get_idp_data()
        return OneLogin_Saml2_Settings(
            {
                "strict": True,
                "sp": data,
                "idp": idp,
                "security": {
                    "wantAssertionsEncrypted": True,
                    "wantAssertionsSigned": True,
                    "requestedAuthnContext": [f"http://eidas.europa.eu/LoA/{level}"],
                    "requestedAuthnContextComparison": "minimum",
                },
            }
        )

    def service_reads(self, page: str) -> OneLogin_Saml2_Response:
        """NIA's answer to the service, checked by python3-saml as the service would."""
        _action, fields = form(page, "SAMLResponse")
        response = OneLogin_Saml2_Response(self._settings("substantial"), fields["SAMLResponse"])
        self.last_response = response
        return response

    # --- the hub and MojeID ----------------------------------------------------------------

    def choose_mojeid(self, page: str):
        """Choose MojeID at NIA; returns the portal's response to NIA's AuthnRequest."""
        match = re.search(rf'action="(?P<action>[^"]+/provider/{self.mojeid.pk}/)"', page)
        assert match, page[:3000]
        to_provider = self.client.post(html.unescape(match["action"]))
        assert to_provider.status_code == 200, to_provider.content[:2000]
        action, fields = form(to_provider.content.decode(), "SAMLRequest")
        self.nia_request = fields
        return self.client.post(path_of(action), fields)

    def sign_in_with_password(self, response, username: str = "jana"):
        assert response.status_code == 302, response.content[:2000]
        page = self.client.get(response["Location"])
        assert page.status_code == 200, page.content[:2000]
        self.sign_in_url = response["Location"]
        return self.client.post(self.sign_in_url, {"login": username, "password": PASSWORD})

    def key_step(self, key: "Key", *, user_verified: bool = True):
        token = self.sign_in_url.rstrip("/").rsplit("/", 1)[-1]
        options = self.client.post(
            reverse("nia_link:idp_key_options", kwargs={"token": token}),
            "{}",
            content_type="application/json",
        )
        if options.status_code != 200:
            return options
        challenge = options.json()["publicKey"]["challenge"]
        allowed = [entry["id"] for entry in options.json()["publicKey"]["allowCredentials"]]
        self.allowed = allowed
        assertion = key.soft.authenticate(
            key.credential_id,
            challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
            origin=key.origin,
            rp_id=key.rp_id,
            user_verified=user_verified,
        )
        return self.client.post(
            reverse("nia_link:idp_key_verify", kwargs={"token": token}),
            json.dumps({"credential": assertion}),
            content_type="application/json",
        )

    def answer_to_nia(self):
        """The sign-in page, which now answers NIA; NIA's response to that answer (followed)."""
        page = self.client.get(self.sign_in_url)
        assert page.status_code == 200, page.content[:2000]
        action, fields = form(page.content.decode(), "SAMLResponse")
        self.portal_answer = fields
        return self.client.post(path_of(action), fields, follow=True)

    def consent(self, at_consent) -> str:
        """Consent at NIA; the page that carries NIA's answer to the service."""
        url = at_consent.redirect_chain[-1][0]
        assert url.endswith("/consent/"), at_consent.content[:3000]
        return self.client.post(path_of(url), {"decision": "consent"}).content.decode()


@dataclass
class Key:
    soft: SoftKey
    credential_id: bytes
    stored: SecurityKey
    origin: str
    rp_id: str


@pytest.fixture
def world(live_server, settings, tmp_path, make_user):
    host = live_server.url.split("://", 1)[1]
    settings.PORTAL_URL = live_server.url
    settings.VAR_DIR = tmp_path
    settings.NIA_SAML_METADATA_URL = f"{live_server.url}/sim/nia/saml/metadata/"
    settings.NIA_SAML_BROKER_METADATA_URL = f"{live_server.url}/sim/nia/saml/broker/metadata/"
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{live_server.url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5
    nia_seed.seed(live_server.url, portal_metadata=saml.service_provider_metadata())
    mojeid = ServiceProvider.objects.get(entity_id=saml.entity_id())
    # The service: a python3-saml SP with its own key pair, assertions encrypted to it.
    key_pem, cert_pem = nia_keys.make_key_pair("Service (tests)")
    entity = "https://sep.test/metadata/"
    acs = "https://sep.test/acs/"
    service = ServiceProvider.objects.create(
        entity_id=entity,
        name=SERVICE_NAME,
        metadata_xml=service_provider_metadata(entity, acs, cert_pem.decode()),
        encrypt_assertions=True,
    )
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    nia_metadata = client.get("/sim/nia/saml/metadata/").content.decode()
    idp = OneLogin_Saml2_IdPMetadataParser.parse(nia_metadata)["idp"]
    service_settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": entity,
                "assertionConsumerService": {
                    "url": acs,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "x509cert": cert_pem.decode(),
                "privateKey": key_pem.decode(),
            },
            "idp": idp,
        }
    )
    return World(live_server.url, client, service, service_settings, mojeid)


def metadata_for_keys(level: str = "FIDO_CERTIFIED_L1") -> None:
    entry = {
        "aaguid": str(CERTIFIED),
        "metadataStatement": {
            "description": "Sign-in Key",
            "protocolFamily": "fido2",
            "attestationRootCertificates": [ROOT.b64],
            "attachmentHint": ["external"],
        },
        "statusReports": [{"status": level, "effectiveDate": "2024-01-01"}],
    }
    load_payload({"no": 1, "entries": [entry]}, source=MetadataSource.BLOB)


def add_key(user, name: str = "Klíč od úřadu") -> Key:
    """A software key added to the account through the key ceremony (a signed-in client)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    session = client.session
    session[REAUTH_AT], session[REAUTH_FACTOR] = time.time(), True
    earlier = SecurityKey.objects.filter(user=user).first()
    if earlier is not None:  # signed in with it: the portal's pages want the second factor
        session[DEVICE_ID_SESSION_KEY] = earlier.persistent_id
    session.save()
    origin, rp_id = settings.WEBAUTHN_ORIGINS[0], settings.WEBAUTHN_RP_ID
    soft = SoftKey(CERTIFIED, authority=ROOT)
    options = client.post("/settings/keys/add/options/", "{}", content_type="application/json")
    assert options.status_code == 200, options.content
    challenge = options.json()["publicKey"]["challenge"]
    credential = soft.register(
        challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
        origin=origin,
        rp_id=rp_id,
    )
    added = client.post(
        "/settings/keys/add/verify/",
        json.dumps({"credential": credential, "name": name, "use_for_public_administration": True}),
        content_type="application/json",
    )
    assert added.status_code == 200, added.content
    stored = SecurityKey.objects.filter(user=user).order_by("-pk").first()
    return Key(soft, next(reversed(soft.credentials)), stored, origin, rp_id)


def link(user, citizen, mojeid: ServiceProvider, *, keys=(), klic=None, level="substantial"):
    """The account linked to `citizen` (as a Complete leaves it): an active link with the BSI NIA
    gave MojeID, each authenticator registered on both sides at `level`."""
    bsi = nia_services.give_pseudonym(mojeid, citizen).rsplit("/", 1)[-1]
    active = Link.objects.create(
        user=user, state=LinkState.ACTIVE, level=level, route="czech_point", bsi=bsi
    )
    for authenticator in [*keys, *([klic] if klic else [])]:
        identifier = f"mojeid-test-{uuid.uuid4()}"
        Registration.objects.create(
            link=active,
            identifier=identifier,
            security_key=authenticator if isinstance(authenticator, SecurityKey) else None,
            klic_device=None if isinstance(authenticator, SecurityKey) else authenticator,
            level=level,
            wanted=RegistrationState.ACTIVE,
            at_nia=RegistrationState.ACTIVE,
        )
        AuthenticatorRegistration.objects.create(
            service_provider=mojeid,
            citizen=citizen,
            bsi=bsi,
            identifier=identifier,
            loa=level.capitalize(),
            state="Aktivni",
            verified_by_document=True,
        )
    return active


def citizen_jana():
    return make_citizen(first_names="Jana", last_name="Nováková")


def signed_in_with(client: Client, user, key: SecurityKey) -> None:
    """`client` signed in to the portal as `user` with password and `key` (as after the sign-in
    pages)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = key.persistent_id
    session.save()
