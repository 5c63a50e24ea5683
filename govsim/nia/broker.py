"""NIA as a hub: a citizen who chooses a qualified identity provider (MojeID) at NIA is sent there
with NIA's own AuthnRequest, and the provider's answer is checked before NIA answers the service.

NIA plays a SAML service provider here, built on pysaml2 (the portal's identity provider is not:
each end of the wire is checked by another implementation). A provider is a registered service
(`ServiceProvider`) whose metadata also has an IDPSSODescriptor: the same entity that writes its
authenticators into NIA through the back-channel. NIA's AuthnRequest is signed (enveloped
RSA-SHA256, HTTP-POST), asks for the level the service asked for (`Comparison="minimum"`) and a
persistent NameID, names the service in `ProviderName` and its entity ID in `Scoping/RequesterID`.

The answer is accepted only when it carries its Assertion encrypted (checked here: pysaml2
decrypts what is encrypted but takes a plain Assertion as well) and pysaml2 finds it valid —
Response and Assertion signed by the provider's certificate from its metadata, the Assertion
encrypted to NIA's key, audience our entity ID, destination our ACS, InResponseTo our request,
within its validity — and when the NameID (the person's BSI for that provider) and the
authenticator named in the assertion are registered and `Aktivni` in NIA's records of that
provider (`TR_EVIDENCE_VIP_*`) at a level at least the one the assertion claims, which in turn
must be at least the one asked for.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from lxml import etree
from saml2 import BINDING_HTTP_POST, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import STATUSCODE2EXCEPTION, StatusError
from saml2.saml import NAMEID_FORMAT_PERSISTENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext, RequesterID, Scoping
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from govsim.rob.models import Citizen

from . import eidas, keys, services
from .crypto import XmlsecBindingBackend
from .idp import CLOCK_SKEW_SECONDS, SAML_METADATA_NS, _safe_parse, metadata_problems
from .models import AuthenticatorRegistration, RegistrationState, ServiceProvider

logger = logging.getLogger(__name__)

#: The attribute in which an identity provider names the authenticator the person used: its
#: `IdentifikaceProstredku`, as registered with TR_EVIDENCE_VIP_ZAPIS (the simulator's name).
AUTHENTICATOR_ATTRIBUTE = (
    "http://schemas.eidentita.cz/moris/2016/identity/claims/identifikaceprostredku"
)
# The back-channel's levels by eIDAS URI, to compare a registration with an assertion.
LOA_OF_REGISTRATION = {
    "Low": eidas.LOA_LOW,
    "Substantial": eidas.LOA_SUBSTANTIAL,
    "High": eidas.LOA_HIGH,
}
MAX_RESPONSE_CHARACTERS = 256 * 1024
# How often a provider's metadata is read again from its address (see `refresh_metadata`).
REFRESH_SECONDS = 10 * 60
RETRY_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 3
SAML_PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
USED_ASSERTION_SECONDS = 60 * 60
EXCEPTION_STATUS = {exception: status for status, exception in STATUSCODE2EXCEPTION.items()}


class BrokerRefused(Exception):
    """The identity provider's answer is not accepted; `status` is the second-level SAML status
    NIA answers the service with, `message` says why (in English, for logs and the status)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class BrokeredLogin:
    """Who the identity provider signed in, as NIA accepted it."""

    citizen: Citizen
    level: str  # the eIDAS URI the provider asserted and NIA accepted
    authenticator: str


def _public(request: HttpRequest, name: str) -> str:
    """An address of NIA as browsers reach it: the same whether the metadata was fetched by a
    browser or by the portal from the simulator's internal name (GOVSIM_PUBLIC_URL)."""
    public = getattr(settings, "GOVSIM_PUBLIC_URL", "")
    return public + reverse(name) if public else request.build_absolute_uri(reverse(name))


def entity_id(request: HttpRequest) -> str:
    """NIA's entity ID as a service provider of identity providers: its metadata's address."""
    return _public(request, "govsim:nia:broker_metadata")


def acs_url(request: HttpRequest) -> str:
    return _public(request, "govsim:nia:broker_acs")


def identity_providers() -> list[ServiceProvider]:
    """The qualified identity providers a citizen may choose at NIA: active registered services
    whose metadata has an IDPSSODescriptor with a single sign-on service (HTTP-POST)."""
    services = list(ServiceProvider.objects.filter(active=True).order_by("name"))
    for service in services:
        if service.metadata_url:
            refresh_metadata(service)
    return [service for service in services if _sso_location(service)]


def refresh_metadata(service: ServiceProvider) -> bool:
    """Read the service's metadata again from its `metadata_url` — at most once a minute while
    it has no sign-in role yet, else every REFRESH_SECONDS; kept only when NIA can use it (its
    certificate then also encrypts the assertions). True when it changed."""
    every = REFRESH_SECONDS if _sso_location(service) else RETRY_SECONDS
    if not cache.add(f"sim_nia:metadata_refresh:{service.pk}", True, every):
        return False
    try:
        with urlopen(Request(service.metadata_url), timeout=FETCH_TIMEOUT_SECONDS) as answer:  # noqa: S310 - an operator's http(s) address
            xml = answer.read(MAX_RESPONSE_CHARACTERS + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        logger.info("The metadata of %s cannot be read: %s", service.entity_id, problem)
        return False
    if xml == service.metadata_xml or len(xml) > MAX_RESPONSE_CHARACTERS:
        return False
    if metadata_problems(xml, service.entity_id, need_certificate=True):
        logger.warning("The metadata at %s is not usable", service.metadata_url)
        return False
    ServiceProvider.objects.filter(pk=service.pk).update(metadata_xml=xml, encrypt_assertions=True)
    service.metadata_xml, service.encrypt_assertions = xml, True
    return True


def _sso_location(provider: ServiceProvider) -> str | None:
    try:
        root = _safe_parse(provider.metadata_xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    for service in root.iterfind(
        f"{{{SAML_METADATA_NS}}}IDPSSODescriptor/{{{SAML_METADATA_NS}}}SingleSignOnService"
    ):
        if service.get("Binding") == BINDING_HTTP_POST and service.get("Location"):
            return service.get("Location")
    return None


def _client(request: HttpRequest, provider: ServiceProvider | None = None) -> Saml2Client:
    pair = keys.signing_key_pair()
    config = SPConfig().load(
        {
            "entityid": entity_id(request),
            "crypto_backend": "XMLSecurity",  # replaced just below (see idp.make_server)
            "key_file": str(pair.key_file),
            "cert_file": str(pair.cert_file),
            "encryption_keypairs": [
                {"key_file": str(pair.key_file), "cert_file": str(pair.cert_file)}
            ],
            "metadata": {"inline": [provider.metadata_xml]} if provider else {},
            "accepted_time_diff": CLOCK_SKEW_SECONDS,
            "service": {
                "sp": {
                    "name": "NIA",
                    "endpoints": {
                        "assertion_consumer_service": [(acs_url(request), BINDING_HTTP_POST)]
                    },
                    "authn_requests_signed": True,
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "allow_unsolicited": False,
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                }
            },
        }
    )
    client = Saml2Client(config=config)
    client.sec.crypto = XmlsecBindingBackend()
    return client


def metadata_xml(request: HttpRequest) -> str:
    """NIA's EntityDescriptor as a service provider: its ACS and its certificate (signing and
    encryption), what an identity provider registers."""
    return entity_descriptor(_client(request).config).to_string().decode("utf-8")


def authn_request(
    request: HttpRequest,
    provider: ServiceProvider,
    service: ServiceProvider,
    levels: list[str],
    comparison: str,
) -> tuple[str, str, str]:
    """(the provider's SSO address, the request's ID, the base64 signed AuthnRequest) asking the
    provider to sign the person in for `service` at `levels` (the service's own request)."""
    location = _sso_location(provider)
    if location is None:
        raise BrokerRefused(samlp.STATUS_NO_AVAILABLE_IDP, "the provider has no SSO service")
    client = _client(request, provider)
    requested = RequestedAuthnContext(
        authn_context_class_ref=[AuthnContextClassRef(text=level) for level in levels]
        or [AuthnContextClassRef(text=eidas.LOA_SUBSTANTIAL)],
        comparison=comparison or "minimum",
    )
    request_id, message = client.create_authn_request(
        destination=location,
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        requested_authn_context=requested,
        nameid_format=NAMEID_FORMAT_PERSISTENT,
        scoping=Scoping(requester_id=[RequesterID(text=service.entity_id)]),
        provider_name=service.name,
        binding=BINDING_HTTP_POST,
    )
    encoded = _base64(str(message))
    return location, request_id, encoded


def _base64(xml: str) -> str:
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def read_response(
    request: HttpRequest,
    provider: ServiceProvider,
    saml_response: str,
    request_id: str,
    levels: list[str],
    comparison: str,
) -> BrokeredLogin:
    """The provider's answer to our request `request_id`, checked as the module says; else
    BrokerRefused with the status to answer the service with."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARACTERS:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "no answer, or too large")
    if not _assertion_encrypted(saml_response):
        raise BrokerRefused(
            samlp.STATUS_AUTHN_FAILED, "the answer's assertion is not encrypted to NIA"
        )
    client = _client(request, provider)
    try:
        answer = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={request_id: acs_url(request)}
        )
    except StatusError as refusal:
        status = EXCEPTION_STATUS.get(type(refusal), samlp.STATUS_AUTHN_FAILED)
        raise BrokerRefused(status, f"the identity provider refused: {refusal}") from None
    except Exception as problem:  # pysaml2 raises many kinds; any of them means "not accepted"
        logger.warning("An identity provider's answer refused: %r", problem)
        raise BrokerRefused(
            samlp.STATUS_AUTHN_FAILED, f"the identity provider's answer is invalid: {problem}"
        ) from None
    if answer is None or answer.assertion is None:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "the answer has no valid assertion")
    assertion = answer.assertion
    if answer.response.issuer is None or answer.response.issuer.text != provider.entity_id:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "the answer's issuer is not the provider")
    if not cache.add(_used_key(provider, assertion.id), True, USED_ASSERTION_SECONDS):
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "the assertion was used before")
    return _accepted(provider, answer, levels, comparison)


def _assertion_encrypted(saml_response: str) -> bool:
    """Whether the Response carries exactly one EncryptedAssertion and no Assertion in the clear
    (in the citizen's browser, the person's BSI and authenticator would be readable). An answer
    that does not even parse is left to pysaml2 to refuse with its own reason."""
    try:
        root = _safe_parse(base64.b64decode(saml_response, validate=False))
    except (ValueError, etree.XMLSyntaxError):
        return True
    if root.tag != f"{{{SAML_PROTOCOL_NS}}}Response":
        return True
    plain = root.findall(f"{{{SAML_ASSERTION_NS}}}Assertion")
    encrypted = root.findall(f"{{{SAML_ASSERTION_NS}}}EncryptedAssertion")
    if not plain and not encrypted:
        return True  # an error Response, without any assertion: pysaml2 reads its status
    return not plain and len(encrypted) == 1


def _used_key(provider: ServiceProvider, assertion_id: str) -> str:
    digest = hashlib.sha256(f"{provider.entity_id}\n{assertion_id}".encode()).hexdigest()
    return f"sim_nia:broker:assertion:{digest}"


def _accepted(provider: ServiceProvider, answer, levels: list[str], comparison: str):
    assertion = answer.assertion
    name_id = answer.name_id
    if name_id is None or name_id.format != NAMEID_FORMAT_PERSISTENT or not name_id.text:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "no persistent NameID (the BSI)")
    bsi = name_id.text.strip()
    asserted = [
        statement.authn_context.authn_context_class_ref.text.strip()
        for statement in assertion.authn_statement
        if statement.authn_context and statement.authn_context.authn_context_class_ref
    ]
    if len(asserted) != 1 or asserted[0] not in eidas.LEVELS:
        raise BrokerRefused(samlp.STATUS_NO_AUTHN_CONTEXT, "no single eIDAS level asserted")
    level = asserted[0]
    try:
        enough = eidas.satisfies(level, levels, comparison or "minimum")
    except eidas.UnknownLevel:
        enough = False
    if not enough:
        raise BrokerRefused(
            samlp.STATUS_NO_AUTHN_CONTEXT, f"the provider asserted {level}, less than asked"
        )
    authenticators = [
        value.text.strip()
        for statement in assertion.attribute_statement
        for attribute in statement.attribute
        if attribute.name == AUTHENTICATOR_ATTRIBUTE
        for value in attribute.attribute_value
        if value.text
    ]
    if len(authenticators) != 1:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "no single authenticator named")
    citizen = services.citizen_of_bsi(provider, bsi)
    registration = AuthenticatorRegistration.objects.filter(
        service_provider=provider, bsi__iexact=bsi, identifier=authenticators[0]
    ).first()
    if citizen is None or registration is None:
        raise BrokerRefused(samlp.STATUS_AUTHN_FAILED, "the authenticator is not registered")
    if registration.state != RegistrationState.ACTIVE:
        raise BrokerRefused(
            samlp.STATUS_AUTHN_FAILED, f"the authenticator is {registration.get_state_display()}"
        )
    registered = LOA_OF_REGISTRATION.get(registration.loa, eidas.LOA_LOW)
    if eidas.LEVELS.index(registered) < eidas.LEVELS.index(level):
        raise BrokerRefused(
            samlp.STATUS_NO_AUTHN_CONTEXT,
            f"the authenticator is registered at {registration.loa}, the assertion claims more",
        )
    return BrokeredLogin(citizen=citizen, level=level, authenticator=registration.identifier)
