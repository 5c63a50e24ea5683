"""NIA as the identity provider of the eObčanka route: the portal signs the citizen in at NIA as
a SAML service provider (python3-saml) and reads who NIA says they are.

`authn_request` makes the signed AuthnRequest (HTTP-Redirect) for a level; `read_response`
accepts NIA's answer only when python3-saml finds it valid in strict mode — Response and
Assertion signed by NIA's certificate from its metadata (no wrapping: the signed element is the
one read), the Destination our assertion consumer service, the Audience our entity ID,
InResponseTo the request given, within its validity (python3-saml allows
`OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT` either way), the Assertion encrypted to our
certificate (`NIA_SAML_WANT_ENCRYPTED`) — and XML with a DOCTYPE or an entity is refused by its
parser. Everything else is `AssertionRefused`. NIA's metadata is read over HTTP and cached.
"""

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from ..exceptions import AssertionRefused, SystemAnswerInvalid, SystemUnavailable
from ..internal import keys, saml_idp
from . import http

logger = logging.getLogger(__name__)

LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOA_HIGH = "http://eidas.europa.eu/LoA/high"
#: The eIDAS levels each of our levels accepts (comparison "minimum").
ACCEPTED_LEVELS = {"substantial": (LOA_SUBSTANTIAL, LOA_HIGH), "high": (LOA_HIGH,)}
REQUESTED_LEVEL = {"substantial": LOA_SUBSTANTIAL, "high": LOA_HIGH}

NATURAL_PERSON = "http://eidas.europa.eu/attributes/naturalperson/"
# A Response is a few kilobytes: anything much larger is not read at all.
MAX_RESPONSE_CHARACTERS = 256 * 1024
# How far python3-saml lets NIA's clock and ours disagree.
CLOCK_DRIFT_SECONDS = OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT
METADATA_CACHE_KEY = "nia_link:nia_idp_metadata"
REQUESTER_CACHE_KEY = "nia_link:nia_sp_metadata"
METADATA_CACHE_SECONDS = 10 * 60
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class Assertion:
    """Who NIA signed in, as far as the portal uses it."""

    id: str
    in_response_to: str
    not_on_or_after: datetime | None
    levels: tuple[str, ...]  # the AuthnContextClassRefs, eIDAS URIs
    person_identifier: str
    first_names: str
    last_name: str
    birth_date: date
    birth_place: str


def entity_id() -> str:
    return settings.PORTAL_URL + reverse("nia_link:saml_metadata")


def acs_url() -> str:
    return settings.PORTAL_URL + reverse("nia_link:saml_acs")


def _idp_metadata() -> str:
    cached = cache.get(METADATA_CACHE_KEY)
    if cached:
        return cached
    xml = http.document("nia", settings.NIA_SAML_METADATA_URL).decode("utf-8", "replace")
    cache.set(METADATA_CACHE_KEY, xml, METADATA_CACHE_SECONDS)
    return xml


def _settings(level: str | None = None) -> OneLogin_Saml2_Settings:
    try:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(_idp_metadata())["idp"]
    except Exception as problem:  # the parser raises whatever lxml and its own checks raise
        cache.delete(METADATA_CACHE_KEY)
        raise SystemAnswerInvalid("nia", f"its SAML metadata cannot be read: {problem}") from None
    if not idp.get("singleSignOnService", {}).get("url"):
        cache.delete(METADATA_CACHE_KEY)
        raise SystemAnswerInvalid("nia", "its SAML metadata names no single sign-on service")
    if settings.NIA_SAML_SSO_URL:
        idp["singleSignOnService"]["url"] = settings.NIA_SAML_SSO_URL
    pair = keys.service_provider_pair()
    security = {
        "authnRequestsSigned": True,
        "wantMessagesSigned": True,
        "wantAssertionsSigned": True,
        "wantAssertionsEncrypted": settings.NIA_SAML_WANT_ENCRYPTED,
        "wantNameId": True,
        "rejectDeprecatedAlgorithm": True,
        "allowSingleLabelDomains": True,  # docker-compose's and the tests' host names
        "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
        "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
        "requestedAuthnContextComparison": "minimum",
        "requestedAuthnContext": [REQUESTED_LEVEL[level]] if level else False,
    }
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": entity_id(),
                "assertionConsumerService": {
                    "url": acs_url(),
                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
                },
                "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_TRANSIENT,
                "x509cert": pair.cert_pem,
                "privateKey": pair.key_pem,
            },
            "idp": idp,
            "security": security,
        },
        sp_validation_only=False,
    )


def _request_data(post: dict | None = None) -> dict:
    """The ACS as python3-saml compares it with the Destination: our configured address, not
    the Host header of whatever proxy the answer came through."""
    scheme, _, rest = acs_url().partition("://")
    host, _, path = rest.partition("/")
    return {
        "https": "on" if scheme == "https" else "off",
        "http_host": host,
        "script_name": "/" + path,
        "get_data": {},
        "post_data": post or {},
    }


def idp_sso_url() -> str:
    """The portal's single sign-on service, where NIA sends the citizens who chose MojeID."""
    return settings.PORTAL_URL + reverse("nia_link:idp_sso")


def nia_as_requester() -> saml_idp.Requester:
    """NIA as the portal's only known service provider (its hub side), from the metadata at
    NIA_SAML_BROKER_METADATA_URL (cached): entity ID, HTTP-POST assertion consumer services,
    signing and encryption certificates. SystemUnavailable / SystemAnswerInvalid otherwise."""
    xml = cache.get(REQUESTER_CACHE_KEY)
    if not xml:
        xml = http.document("nia", settings.NIA_SAML_BROKER_METADATA_URL).decode("utf-8", "replace")
    try:
        requester = _requester(xml)
    except (etree.LxmlError, ValueError) as problem:
        cache.delete(REQUESTER_CACHE_KEY)
        raise SystemAnswerInvalid("nia", f"its SP metadata cannot be read: {problem}") from None
    cache.set(REQUESTER_CACHE_KEY, xml, METADATA_CACHE_SECONDS)
    return requester


def _requester(xml: str) -> saml_idp.Requester:
    root = OneLogin_Saml2_XML.to_etree(xml.encode("utf-8"))
    if root.tag != f"{{{MD}}}EntityDescriptor" or not root.get("entityID"):
        raise ValueError("not an EntityDescriptor")
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    if descriptor is None:
        raise ValueError("no SPSSODescriptor")
    consumers = sorted(
        (
            service
            for service in descriptor.findall(f"{{{MD}}}AssertionConsumerService")
            if service.get("Binding") == saml_idp.BINDING_POST and service.get("Location")
        ),
        key=lambda service: service.get("isDefault") != "true",
    )
    signing, encryption = [], []
    for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
        certificate = key.find(f".//{{{DS}}}X509Certificate")
        if certificate is None or not (certificate.text or "").strip():
            continue
        value = "".join(certificate.text.split())
        if key.get("use") in (None, "", "signing"):
            signing.append(value)
        if key.get("use") in (None, "", "encryption"):
            encryption.append(value)
    if not consumers or not signing or not encryption:
        raise ValueError("no assertion consumer service, or no certificates")
    return saml_idp.Requester(
        entity_id=root.get("entityID"),
        acs_urls=tuple(service.get("Location") for service in consumers),
        signing_certificates=tuple(signing),
        encryption_certificate=encryption[0],
    )


def service_provider_metadata() -> str:
    """The portal's EntityDescriptor as NIA registers it: entity ID, assertion consumer service
    (HTTP-POST) and the certificate it signs with and NIA encrypts to; and the portal as a
    qualified identity provider (IDPSSODescriptor: its single sign-on service, both bindings,
    the same certificate), so that NIA offers MojeID in its choice of means."""
    pair = keys.service_provider_pair()
    sp_only = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": entity_id(),
                "assertionConsumerService": {
                    "url": acs_url(),
                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
                },
                "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_TRANSIENT,
                "x509cert": pair.cert_pem,
                "privateKey": pair.key_pem,
            },
            "security": {
                "authnRequestsSigned": True,
                "wantAssertionsSigned": True,
                "wantAssertionsEncrypted": settings.NIA_SAML_WANT_ENCRYPTED,
            },
        },
        sp_validation_only=True,
    )
    root = OneLogin_Saml2_XML.to_etree(sp_only.get_sp_metadata())
    root.append(_idp_descriptor(pair.cert_pem))
    return etree.tostring(root, encoding="unicode")


def _idp_descriptor(cert_pem: str) -> etree._Element:
    certificate = "".join(
        line for line in cert_pem.strip().splitlines() if not line.startswith("-----")
    )
    descriptor = etree.Element(
        f"{{{MD}}}IDPSSODescriptor",
        nsmap={"md": MD},
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
        WantAuthnRequestsSigned="true",
    )
    key = etree.SubElement(descriptor, f"{{{MD}}}KeyDescriptor", use="signing")
    info = etree.SubElement(key, f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    data = etree.SubElement(info, f"{{{DS}}}X509Data")
    etree.SubElement(data, f"{{{DS}}}X509Certificate").text = certificate
    etree.SubElement(descriptor, f"{{{MD}}}NameIDFormat").text = saml_idp.NAMEID_PERSISTENT
    for binding in (saml_idp.BINDING_REDIRECT, saml_idp.BINDING_POST):
        etree.SubElement(
            descriptor, f"{{{MD}}}SingleSignOnService", Binding=binding, Location=idp_sso_url()
        )
    return descriptor


def authn_request(level: str) -> tuple[str, str]:
    """(NIA's single sign-on address with a signed AuthnRequest for `level`, the request's ID)."""
    auth = OneLogin_Saml2_Auth(_request_data(), old_settings=_settings(level))
    url = auth.login(set_nameid_policy=True)
    return url, auth.get_last_request_id()


def in_response_to(saml_response: str) -> str:
    """The ID of the request a posted Response says it answers (unchecked: only to find the
    request; `read_response` checks it). AssertionRefused when it cannot be read or has none."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARACTERS:
        raise AssertionRefused("invalid", "missing or too large")
    try:
        document = OneLogin_Saml2_XML.to_etree(base64.b64decode(saml_response, validate=True))
    except (binascii.Error, ValueError, etree.LxmlError) as problem:  # DTDs, entities among them
        raise AssertionRefused(
            "invalid", f"not a SAML document: {type(problem).__name__}"
        ) from None
    answered = document.get("InResponseTo")
    if not answered:
        raise AssertionRefused("unknown_request", "no InResponseTo")
    return answered


def read_response(saml_response: str, request_id: str) -> Assertion:
    """NIA's answer to our request `request_id`, if it is valid in every respect of the module
    docstring; else AssertionRefused (nothing is read from it)."""
    in_response_to(saml_response)  # size, encoding and no DTD before python3-saml sees it
    try:
        response = OneLogin_Saml2_Response(_settings(), saml_response)
        response.is_valid(
            _request_data({"SAMLResponse": saml_response}),
            request_id=request_id,
            raise_exceptions=True,
        )
    except OneLogin_Saml2_ValidationError as problem:
        reason = (
            "declined"
            if problem.code == OneLogin_Saml2_ValidationError.STATUS_CODE_IS_NOT_SUCCESS
            else "invalid"
        )
        raise AssertionRefused(reason, str(problem)) from None
    except (SystemAnswerInvalid, SystemUnavailable):
        raise
    except Exception as problem:  # python3-saml lets lxml's, xmlsec's and its own errors out
        raise AssertionRefused("invalid", f"{type(problem).__name__}: {problem}") from None
    return _assertion(response, request_id)


def _assertion(response: OneLogin_Saml2_Response, request_id: str) -> Assertion:
    attributes = response.get_attributes()

    def one(name: str) -> str:
        values = attributes.get(NATURAL_PERSON + name) or []
        if len(values) != 1 or not isinstance(values[0], str) or not values[0].strip():
            raise AssertionRefused("invalid", f"the attribute {name} is missing")
        return values[0].strip()

    try:
        birth_date = date.fromisoformat(one("DateOfBirth"))
    except ValueError:
        raise AssertionRefused("invalid", "DateOfBirth is not a date") from None
    not_on_or_after = response.get_assertion_not_on_or_after()
    return Assertion(
        id=response.get_assertion_id(),
        in_response_to=request_id,
        not_on_or_after=(datetime.fromtimestamp(not_on_or_after, UTC) if not_on_or_after else None),
        levels=tuple(response.get_authn_contexts()),
        person_identifier=one("PersonIdentifier"),
        first_names=one("CurrentGivenName"),
        last_name=one("CurrentFamilyName"),
        birth_date=birth_date,
        birth_place=(attributes.get(NATURAL_PERSON + "PlaceOfBirth") or [""])[0] or "",
    )
