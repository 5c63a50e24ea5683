"""The SAML side of the simulated NIA, built on pysaml2: metadata, AuthnRequests in, signed (and
optionally encrypted) Responses out.

A pysaml2 `Server` is made for each message from the registered service's metadata only, so a
service with broken metadata cannot affect another and a change in the admin applies at once.
Signing and encryption go through `crypto.XmlsecBindingBackend` (the `xmlsec` Python binding).
"""

import base64
import binascii
import calendar
import secrets
import time
import zlib
from dataclasses import asdict, dataclass, field

from cryptography import x509
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp, time_util
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from saml2.sigver import EncryptError
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from . import eidas, keys
from .crypto import XmlsecBindingBackend
from .models import ServiceProvider

SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAML_METADATA_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
# An AuthnRequest is a few kilobytes; refuse to inflate anything much bigger (a deflate bomb).
MAX_REQUEST_BYTES = 64 * 1024
ASSERTION_LIFETIME_MINUTES = 5
# The SAML bindings (§3.4.3, §3.5.3) allow a RelayState of at most 80 bytes.
MAX_RELAY_STATE_BYTES = 80
# How far the clocks of NIA and a service may disagree, and how old an AuthnRequest may be when
# it arrives (pysaml2 itself accepts a day either way): together they bound how long a request
# must be remembered to refuse its replay.
CLOCK_SKEW_SECONDS = 60
REQUEST_MAX_AGE_SECONDS = 10 * 60

# Second-level status codes of the error Responses (SAML core §3.2.2.2).
STATUS_AUTHN_FAILED = samlp.STATUS_AUTHN_FAILED
STATUS_REQUEST_DENIED = samlp.STATUS_REQUEST_DENIED
STATUS_NO_AUTHN_CONTEXT = samlp.STATUS_NO_AUTHN_CONTEXT
STATUS_NO_PASSIVE = samlp.STATUS_NO_PASSIVE


class SamlRequestError(Exception):
    """The AuthnRequest cannot be answered at all (malformed, or its ACS is not registered)."""


class UnknownServiceProvider(SamlRequestError):
    def __init__(self, entity_id: str):
        super().__init__(entity_id)
        self.entity_id = entity_id


def entity_id(request: HttpRequest) -> str:
    """The IdP's entity ID: the `GOVSIM_NIA_ENTITY_ID` setting, else its metadata's address."""
    configured = getattr(settings, "GOVSIM_NIA_ENTITY_ID", "")
    return configured or request.build_absolute_uri(reverse("govsim:nia:metadata"))


def sso_url(request: HttpRequest) -> str:
    """The absolute address of the single sign-on endpoint (both bindings)."""
    return request.build_absolute_uri(reverse("govsim:nia:sso"))


def _converter() -> AttributeConverter:
    """Friendly eIDAS names ↔ their URIs, so pysaml2 writes Name, NameFormat and FriendlyName."""
    converter = AttributeConverter(eidas.ATTRIBUTE_NAME_FORMAT)
    converter.from_dict(
        {
            "identifier": eidas.ATTRIBUTE_NAME_FORMAT,
            "to": dict(eidas.ATTRIBUTES),
            "fro": {uri: friendly for friendly, uri in eidas.ATTRIBUTES.items()},
        }
    )
    return converter


def make_server(request: HttpRequest, service: ServiceProvider | None = None) -> Server:
    """A pysaml2 IdP that knows `service` (or no service: enough for the metadata)."""
    pair = keys.signing_key_pair()
    config = IdPConfig().load(
        {
            "entityid": entity_id(request),
            # pysaml2 can only name its two built-in backends; ours replaces it just below.
            "crypto_backend": "XMLSecurity",
            "key_file": str(pair.key_file),
            "cert_file": str(pair.cert_file),
            "metadata": {"inline": [service.metadata_xml]} if service else {},
            "accepted_time_diff": CLOCK_SKEW_SECONDS,
            "service": {
                "idp": {
                    "name": "NIA",
                    "endpoints": {
                        "single_sign_on_service": [
                            (sso_url(request), BINDING_HTTP_REDIRECT),
                            (sso_url(request), BINDING_HTTP_POST),
                        ]
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": False,
                    # Read per service: pysaml2 ignores these at the top level of an IdP's
                    # configuration and would sign with RSA-SHA1.
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "sign_response": True,
                    "sign_assertion": True,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": ASSERTION_LIFETIME_MINUTES},
                            "name_form": eidas.ATTRIBUTE_NAME_FORMAT,
                            "attribute_restrictions": None,
                            "fail_on_missing_requested": False,
                        }
                    },
                }
            },
        }
    )
    server = Server(config=config)
    server.sec.crypto = XmlsecBindingBackend()
    server.config.attribute_converters = [_converter(), *server.config.attribute_converters]
    return server


def metadata_xml(request: HttpRequest) -> str:
    """The IdP's EntityDescriptor: SSO endpoints (Redirect, POST), the signing certificate."""
    descriptor = entity_descriptor(make_server(request).config)
    return descriptor.to_string().decode("utf-8")


# --- AuthnRequests --------------------------------------------------------------------------


def _safe_parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml, parser)


def _decode(saml_request: str, binding: str) -> bytes:
    try:
        raw = base64.b64decode(saml_request, validate=False)
        if binding == BINDING_HTTP_REDIRECT:
            inflater = zlib.decompressobj(-15)
            raw = inflater.decompress(raw, MAX_REQUEST_BYTES)
            if inflater.unconsumed_tail:
                raise SamlRequestError("the request is too large")
    except (binascii.Error, zlib.error, ValueError) as problem:
        raise SamlRequestError("the request is not valid base64 (deflated)") from problem
    if len(raw) > MAX_REQUEST_BYTES:
        raise SamlRequestError("the request is too large")
    return raw


def requesting_service(saml_request: str, binding: str) -> ServiceProvider:
    """The registered, active service whose Issuer the AuthnRequest names."""
    try:
        root = _safe_parse(_decode(saml_request, binding))
    except etree.XMLSyntaxError as problem:
        raise SamlRequestError("the request is not XML") from problem
    issuer = root.find(f"{{{SAML_ASSERTION_NS}}}Issuer")
    name = (issuer.text or "").strip() if issuer is not None else ""
    if not name:
        raise SamlRequestError("the request names no Issuer")
    service = ServiceProvider.objects.filter(entity_id=name, active=True).first()
    if service is None:
        raise UnknownServiceProvider(name)
    return service


def _check_issue_instant(issue_instant: str | None) -> None:
    """Refuse a request issued more than REQUEST_MAX_AGE_SECONDS ago or in the future (beyond
    the clock skew allowed): only recent requests are remembered to refuse their replay."""
    try:
        issued = calendar.timegm(time_util.str_to_time(issue_instant))
    except (TypeError, ValueError, AttributeError) as problem:  # pysaml2 parses loosely
        raise SamlRequestError("the request has no valid IssueInstant") from problem
    now = time.time()
    if issued < now - REQUEST_MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS:
        raise SamlRequestError("the request is too old")
    if issued > now + CLOCK_SKEW_SECONDS:
        raise SamlRequestError("the request was issued in the future")


@dataclass
class PendingLogin:
    """An AuthnRequest accepted and waiting for the citizen; kept in the session as a dict."""

    service_id: int
    request_id: str
    acs_url: str
    relay_state: str
    levels: list[str] = field(default_factory=list)
    comparison: str = ""
    is_passive: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def accept_request(
    request: HttpRequest, saml_request: str, binding: str, relay_state: str
) -> tuple[ServiceProvider, PendingLogin]:
    """Check an AuthnRequest with pysaml2 and say what to answer and where.

    The answer always goes by HTTP-POST to an AssertionConsumerService of the service's metadata:
    a request naming any other address is refused, so an assertion can never be sent elsewhere.
    """
    if len(relay_state.encode("utf-8", "surrogatepass")) > MAX_RELAY_STATE_BYTES:
        raise SamlRequestError(f"the RelayState is longer than {MAX_RELAY_STATE_BYTES} bytes")
    service = requesting_service(saml_request, binding)
    server = make_server(request, service)
    try:
        parsed = server.parse_authn_request(saml_request, binding)
    except Exception as problem:  # pysaml2 raises many kinds; any of them means "malformed"
        raise SamlRequestError(f"the request was refused: {problem}") from problem
    if parsed is None:
        raise SamlRequestError("the request was refused")
    message = parsed.message
    _check_issue_instant(message.issue_instant)
    try:
        answer = server.response_args(message, [BINDING_HTTP_POST])
    except Exception as problem:
        raise SamlRequestError(
            "the request asks for an assertion consumer service that is not registered"
        ) from problem
    requested = message.requested_authn_context
    levels: list[str] = []
    comparison = ""
    if requested is not None:
        levels = [ref.text.strip() for ref in requested.authn_context_class_ref if ref.text]
        comparison = requested.comparison or ""
    pending = PendingLogin(
        service_id=service.pk,
        request_id=message.id,
        acs_url=answer["destination"],
        relay_state=relay_state,
        levels=levels,
        comparison=comparison,
        is_passive=message.is_passive in ("true", "1", True),
    )
    return service, pending


# --- Responses ------------------------------------------------------------------------------


def encryption_certificate(service: ServiceProvider) -> str | None:
    """The base64 certificate in the service's metadata meant for encryption (a KeyDescriptor with
    use="encryption", or one without `use`, which serves both), or None."""
    try:
        root = _safe_parse(service.metadata_xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    for descriptor in root.iter(f"{{{SAML_METADATA_NS}}}KeyDescriptor"):
        if descriptor.get("use") not in (None, "", "encryption"):
            continue
        if descriptor.getparent().tag != f"{{{SAML_METADATA_NS}}}SPSSODescriptor":
            continue
        certificate = descriptor.find(f".//{{{XMLDSIG_NS}}}X509Certificate")
        if certificate is not None and (certificate.text or "").strip():
            return "".join(certificate.text.split())
    return None


class CannotEncrypt(Exception):
    """The service wants encrypted assertions but its metadata has no usable certificate."""


def _encode(response: object) -> str:
    xml = response if isinstance(response, str) else response.to_string().decode("utf-8")
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def authn_response(
    request: HttpRequest,
    service: ServiceProvider,
    pending: PendingLogin,
    attributes: dict[str, str],
    level: str,
) -> str:
    """The base64 SAMLResponse: signed Response, signed Assertion (encrypted if the service asks)
    with the attributes, a transient NameID and `level` as the AuthnContextClassRef."""
    server = make_server(request, service)
    certificate = None
    if service.encrypt_assertions:
        certificate = encryption_certificate(service)
        if certificate is None:
            raise CannotEncrypt(service.entity_id)
    try:
        response = _create_authn_response(server, service, pending, attributes, level, certificate)
    except EncryptError as problem:
        raise CannotEncrypt(service.entity_id) from problem
    return _encode(response)


def _create_authn_response(
    server: Server,
    service: ServiceProvider,
    pending: PendingLogin,
    attributes: dict[str, str],
    level: str,
    certificate: str | None,
) -> object:
    name_id = NameID(
        format=NAMEID_FORMAT_TRANSIENT,
        text="_" + secrets.token_hex(16),
        name_qualifier=server.config.entityid,
        sp_name_qualifier=service.entity_id,
    )
    return server.create_authn_response(
        identity=dict(attributes),
        in_response_to=pending.request_id,
        destination=pending.acs_url,
        sp_entity_id=service.entity_id,
        name_id=name_id,
        authn={"class_ref": level, "authn_auth": server.config.entityid},
        sign_response=True,
        sign_assertion=True,
        encrypt_assertion=bool(certificate),
        encrypt_cert_assertion=certificate,
        # Keep the Response's namespace prefixes inside the encrypted assertion (see
        # crypto._with_namespaces_in_scope); pysaml2's own renaming breaks the signature.
        encrypt_assertion_self_contained=False,
    )


def error_response(
    request: HttpRequest,
    service: ServiceProvider,
    pending: PendingLogin,
    status: str,
    message: str,
) -> str:
    """A signed SAML Response with top-level status Responder and second-level `status`."""
    server = make_server(request, service)
    response = server.create_error_response(
        pending.request_id, pending.acs_url, (status, message), sign=True
    )
    return _encode(response)


# --- Registered metadata --------------------------------------------------------------------


def _is_certificate(base64_der: str) -> bool:
    try:
        x509.load_der_x509_certificate(base64.b64decode(base64_der, validate=True))
    except (ValueError, binascii.Error):
        return False
    return True


def metadata_problems(xml: str, entity_id: str, *, need_certificate: bool) -> list[str]:
    """What is wrong with a service's metadata for this IdP (an empty list: nothing)."""
    try:
        root = _safe_parse(xml.encode("utf-8"))
    except etree.XMLSyntaxError as problem:
        return [f"not XML: {problem}"]
    if root.tag != f"{{{SAML_METADATA_NS}}}EntityDescriptor":
        return ["the root element must be md:EntityDescriptor"]
    problems = []
    if root.get("entityID") != entity_id:
        problems.append(
            f"its entityID is {root.get('entityID')!r}, not the entity ID {entity_id!r}"
        )
    descriptor = root.find(f"{{{SAML_METADATA_NS}}}SPSSODescriptor")
    if descriptor is None:
        return [*problems, "it has no SPSSODescriptor"]
    consumers = [
        service
        for service in descriptor.findall(f"{{{SAML_METADATA_NS}}}AssertionConsumerService")
        if service.get("Binding") == BINDING_HTTP_POST and service.get("Location")
    ]
    if not consumers:
        problems.append("it has no AssertionConsumerService with the HTTP-POST binding")
    if need_certificate:
        probe = ServiceProvider(entity_id=entity_id, metadata_xml=xml)
        certificate = encryption_certificate(probe)
        if certificate is None:
            problems.append("encrypting assertions needs a certificate in a KeyDescriptor")
        elif not _is_certificate(certificate):
            problems.append("its encryption certificate is not an X.509 certificate")
    if not problems:
        try:
            # What pysaml2 will do with it at every login: better to fail here than there.
            config = IdPConfig().load(
                {
                    "entityid": "urn:check",
                    "crypto_backend": "XMLSecurity",  # the default looks for the xmlsec1 program
                    "metadata": {"inline": [xml]},
                }
            )
            if config.metadata.assertion_consumer_service(entity_id, BINDING_HTTP_POST) is None:
                problems.append("pysaml2 finds no assertion consumer service in it")
        except Exception as problem:
            problems.append(f"pysaml2 cannot read it: {problem}")
    return problems


def service_provider_metadata(entity_id: str, acs_url: str, certificate: str | None = None) -> str:
    """Minimal SP metadata: an HTTP-POST AssertionConsumerService and, if given, the service's
    certificate (base64 DER or PEM) for signing and encryption (a KeyDescriptor without `use`)."""
    md, ds = SAML_METADATA_NS, XMLDSIG_NS
    root = etree.Element(f"{{{md}}}EntityDescriptor", nsmap={"md": md}, entityID=entity_id)
    descriptor = etree.SubElement(
        root,
        f"{{{md}}}SPSSODescriptor",
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
        AuthnRequestsSigned="false",
        WantAssertionsSigned="true",
    )
    if certificate:
        body = "".join(
            line for line in certificate.strip().splitlines() if not line.startswith("-----")
        )
        key = etree.SubElement(descriptor, f"{{{md}}}KeyDescriptor")
        info = etree.SubElement(key, f"{{{ds}}}KeyInfo", nsmap={"ds": ds})
        data = etree.SubElement(info, f"{{{ds}}}X509Data")
        etree.SubElement(data, f"{{{ds}}}X509Certificate").text = "".join(body.split())
    etree.SubElement(descriptor, f"{{{md}}}NameIDFormat").text = NAMEID_FORMAT_TRANSIENT
    etree.SubElement(
        descriptor,
        f"{{{md}}}AssertionConsumerService",
        Binding=BINDING_HTTP_POST,
        Location=acs_url,
        index="0",
        isDefault="true",
    )
    return etree.tostring(root, encoding="unicode", pretty_print=True)
