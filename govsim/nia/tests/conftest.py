"""Fixtures of the simulated NIA's tests: register citizens with eObčanky, and a TEST service
provider built with python3-saml (the library the portal's SP will use) talking to the IdP through
the Django test client."""

import datetime
import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from govsim.nia import eidas, keys
from govsim.nia.idp import service_provider_metadata
from govsim.nia.models import ServiceProvider
from govsim.rob.models import Citizen, DocumentKind, IdDocument, ResidenceType

PIN = "123456"
# Card PINs are hashed with a fast hasher here: Argon2 would cost a tenth of a second per card.
FAST_HASHER = "pbkdf2_sha256"


@pytest.fixture(scope="session")
def idp_key_files(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("nia-idp")
    key_pem, cert_pem = keys.make_key_pair("NIA simulator (tests)")
    (folder / "key.pem").write_bytes(key_pem)
    (folder / "cert.pem").write_bytes(cert_pem)
    return str(folder / "key.pem"), str(folder / "cert.pem")


@pytest.fixture(autouse=True)
def _idp_keys(settings, idp_key_files):
    """One IdP key pair for the whole run, never the developer's files under var/."""
    settings.GOVSIM_NIA_KEY_FILE, settings.GOVSIM_NIA_CERT_FILE = idp_key_files
    settings.GOVSIM_NIA_PSEUDONYM_SECRET = "test-pseudonym-secret"


@pytest.fixture(scope="session")
def sp_key_pair() -> tuple[str, str]:
    key_pem, cert_pem = keys.make_key_pair("Test SP")
    return key_pem.decode(), cert_pem.decode()


@pytest.fixture
def make_citizen(db):
    """make_citizen(card="AB123456", activated=True, …) → a citizen with an eObčanka."""
    counter = iter(range(1, 1000))

    def make(
        card: str | None = None,
        *,
        pin: str = PIN,
        activated: bool = True,
        deceased: bool = False,
        valid_until: datetime.date | None = None,
        **fields,
    ) -> Citizen:
        number = next(counter)
        fields.setdefault("first_names", "Jana Marie")
        fields.setdefault("last_name", "Nováková")
        fields.setdefault("birth_date", datetime.date(1985, 3, 14))
        fields.setdefault("birth_place", "Brno")
        fields.setdefault("residence_type", ResidenceType.CITIZEN)
        fields.setdefault("street", "Květná")
        fields.setdefault("house_number", "1234")
        fields.setdefault("orientation_number", "5")
        fields.setdefault("municipality_part", "Vinohrady")
        fields.setdefault("municipality", "Praha")
        fields.setdefault("postal_code", "12000")
        citizen = Citizen.objects.create(deceased=deceased, **fields)
        IdDocument.objects.create(
            citizen=citizen,
            kind=DocumentKind.ID_CARD,
            number=card or f"{900000000 + number}",
            nia_activated=activated,
            card_pin=make_password(pin, hasher=FAST_HASHER) if activated else "",
            valid_until=valid_until,
        )
        return citizen

    return make


def card_of(citizen: Citizen) -> str:
    return citizen.documents.get(kind=DocumentKind.ID_CARD).number


@dataclass
class TestSP:
    """A SAML service provider made with python3-saml, registered with the simulated NIA."""

    __test__ = False  # not a test class, despite the name

    entity_id: str
    acs_url: str
    key_pem: str
    cert_pem: str
    idp_metadata: str
    encrypted: bool = False
    relay_state: str = "https://sp.example.test/after-login"
    service: ServiceProvider | None = field(default=None, repr=False)

    def settings(self) -> OneLogin_Saml2_Settings:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(self.idp_metadata)["idp"]
        return OneLogin_Saml2_Settings(
            {
                "strict": True,
                "debug": False,
                "sp": {
                    "entityId": self.entity_id,
                    "assertionConsumerService": {
                        "url": self.acs_url,
                        "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                    },
                    "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
                    "x509cert": self.cert_pem,
                    "privateKey": self.key_pem,
                },
                "idp": idp,
                "security": {
                    "requestedAuthnContext": [eidas.LOA_SUBSTANTIAL],
                    "requestedAuthnContextComparison": "minimum",
                    "wantMessagesSigned": True,
                    "wantAssertionsSigned": True,
                    "wantAssertionsEncrypted": self.encrypted,
                    "wantNameId": True,
                    "rejectDeprecatedAlgorithm": True,
                    "allowSingleLabelDomains": True,  # the test client is "testserver"
                    "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                    "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                },
            },
            sp_validation_only=False,
        )

    def request_data(self, post: dict | None = None) -> dict:
        """What python3-saml needs to know of the request that reached the ACS."""
        url = urlsplit(self.acs_url)
        return {
            "https": "on" if url.scheme == "https" else "off",
            "http_host": url.netloc,
            "script_name": url.path,
            "get_data": {},
            "post_data": post or {},
        }

    def login_url(self, **options) -> tuple[str, str]:
        """(the IdP's SSO URL with the AuthnRequest, HTTP-Redirect binding; the request's ID)."""
        auth = OneLogin_Saml2_Auth(self.request_data(), old_settings=self.settings())
        url = auth.login(return_to=self.relay_state, **options)
        return url, auth.get_last_request_id()

    def response(self, saml_response: str) -> OneLogin_Saml2_Response:
        return OneLogin_Saml2_Response(self.settings(), saml_response)

    def accepts(self, saml_response: str, request_id: str) -> OneLogin_Saml2_Response:
        """The response python3-saml validated in strict mode (it raises if it is not valid)."""
        response = self.response(saml_response)
        response.is_valid(
            self.request_data({"SAMLResponse": saml_response}),
            request_id=request_id,
            raise_exceptions=True,
        )
        return response


@pytest.fixture
def make_sp(db, client, sp_key_pair):
    """make_sp(name, encrypted=False) → a TestSP registered as a ServiceProvider."""

    def make(host: str = "sp.example.test", *, encrypted: bool = False, name: str = "Test SP"):
        key_pem, cert_pem = sp_key_pair
        entity_id = f"https://{host}/saml/metadata/"
        acs_url = f"https://{host}/saml/acs/"
        service = ServiceProvider.objects.create(
            entity_id=entity_id,
            name=name,
            metadata_xml=service_provider_metadata(entity_id, acs_url, cert_pem),
            encrypt_assertions=encrypted,
        )
        idp_metadata = client.get(reverse("govsim:nia:metadata")).content.decode()
        return TestSP(
            entity_id, acs_url, key_pem, cert_pem, idp_metadata, encrypted, service=service
        )

    return make


@pytest.fixture
def sp(make_sp) -> TestSP:
    return make_sp()


FORM_FIELD = re.compile(r'<input type="hidden" name="(?P<name>\w+)" value="(?P<value>[^"]*)">')
FORM_ACTION = re.compile(r'<form method="post" action="(?P<action>[^"]*)" data-autosubmit')


def posted_form(response) -> tuple[str, dict[str, str]]:
    """(the action, the hidden fields) of the auto-submitting HTTP-POST binding page."""
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    action = FORM_ACTION.search(page)
    assert action, "the page should carry an auto-submitting form"
    fields = {m["name"]: html.unescape(m["value"]) for m in FORM_FIELD.finditer(page)}
    return html.unescape(action["action"]), fields


def start_login(client, sp: TestSP, **login_options) -> tuple[str, str]:
    """Send the SP's AuthnRequest to NIA: (the login's page, the request's ID)."""
    url, request_id = sp.login_url(**login_options)
    started = client.get(url)
    assert started.status_code == 302, started.content.decode()[:2000]
    return started["Location"], request_id


def sign_in(client, sp: TestSP, citizen: Citizen, *, pin: str = PIN, **login_options):
    """The whole login at NIA: AuthnRequest → means → card + PIN → consent → (page, request ID)."""
    login, request_id = start_login(client, sp, **login_options)
    assert client.get(login).status_code == 200
    entered = client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": pin})
    assert entered["Location"] == login + "consent/", entered.content.decode()[:2000]
    assert client.get(login + "consent/").status_code == 200
    answered = client.post(login + "consent/", {"decision": "consent"})
    return answered, request_id
