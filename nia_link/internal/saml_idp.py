"""The portal as NIA's identity provider, the SAML part: read NIA's AuthnRequests and write the
answers. Pure: no database, no HTTP; what NIA is (its entity ID, assertion consumer services,
certificates) comes from its metadata, read by the client (`clients.saml.nia_as_requester`).

An AuthnRequest is accepted only when it is well-formed XML without DOCTYPE, entities, comments
or processing instructions (a comment can split a value so that the signature covers another
text than a careless reader sees), issued by NIA, signed by NIA's key with RSA and SHA-2 (the
enveloped signature of HTTP-POST, covering the request itself; or the query-string signature of
HTTP-Redirect, covering the very SAMLRequest and RelayState read), recent, addressed to our single
sign-on service (a signed request must name its Destination), asking for an answer at one of
NIA's assertion consumer services by address and HTTP-POST (never by index), with a RelayState of
at most 80 bytes and eIDAS levels only.

Answers are built with lxml and signed with python3-saml's xmlsec wrapper (RSA-SHA256, exclusive
c14n): the Assertion is signed, then encrypted to NIA's certificate (AES-256-CBC, the session key
under RSA-OAEP, as the real NIA expects), then the Response around it is signed.
"""

import base64
import binascii
import logging
import secrets
import threading
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

import xmlsec
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

logger = logging.getLogger(__name__)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
ATTRNAME_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

LOA_LOW = "http://eidas.europa.eu/LoA/low"
LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOA_HIGH = "http://eidas.europa.eu/LoA/high"
LEVEL_URIS = {"substantial": LOA_SUBSTANTIAL, "high": LOA_HIGH}
#: The attribute naming the authenticator used: its identifier registered with NIA.
AUTHENTICATOR_ATTRIBUTE = (
    "http://schemas.eidentita.cz/moris/2016/identity/claims/identifikaceprostredku"
)

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
STATUS_REQUEST_DENIED = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
STATUS_NO_AUTHN_CONTEXT = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
STATUS_NO_PASSIVE = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
STATUS_UNKNOWN_PRINCIPAL = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"

# SHA-1 is refused: a collision lets one signature serve two documents. NIA signs with RSA-SHA256.
SIGNATURE_ALGORITHMS = (C.RSA_SHA256, C.RSA_SHA384, C.RSA_SHA512)
DIGEST_ALGORITHMS = (C.SHA256, C.SHA384, C.SHA512)

MAX_REQUEST_BYTES = 64 * 1024
MAX_RELAY_STATE_BYTES = 80  # SAML bindings §3.4.3, §3.5.3
MAX_SERVICE_NAME = 100
CLOCK_SKEW = timedelta(seconds=60)
REQUEST_MAX_AGE = timedelta(minutes=5)
ASSERTION_LIFETIME = timedelta(minutes=5)
MANAGERS_PER_THREAD = 8
_managers = threading.local()


class RequestRefused(Exception):
    """An AuthnRequest that gets no answer at all, only an error page; `reason` is a short code
    for the log and the page (unsigned, unknown_issuer, wrong_acs, stale, …)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Requester:
    """NIA as a requester of authentications, from its metadata."""

    entity_id: str
    acs_urls: tuple[str, ...]  # HTTP-POST assertion consumer services, the first the default
    signing_certificates: tuple[str, ...]  # base64 DER
    encryption_certificate: str  # base64 DER


@dataclass(frozen=True)
class AuthnRequest:
    """An AuthnRequest of NIA, accepted."""

    id: str
    issued_at: datetime
    acs_url: str
    level: str  # "substantial" or "high": the least the answer must prove
    levels: tuple[str, ...]
    comparison: str
    relay_state: str
    service_name: str  # what NIA names as the service (ProviderName), for the citizen's eyes
    service_entity_id: str  # Scoping/RequesterID, if given
    force_authn: bool
    is_passive: bool


# --- Reading AuthnRequests -----------------------------------------------------------------


def _parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as problem:
        raise RequestRefused("not_xml", str(problem)) from None
    document = root.getroottree()
    if document.docinfo.doctype or document.docinfo.internalDTD is not None:
        raise RequestRefused("doctype")
    for node in root.iter():
        if isinstance(node, etree._Comment | etree._ProcessingInstruction | etree._Entity):
            raise RequestRefused("comment", "comments, entities and processing instructions")
    return root


def _decode(saml_request: str, binding: str) -> bytes:
    if not saml_request or len(saml_request) > 2 * MAX_REQUEST_BYTES:
        raise RequestRefused("malformed", "missing or too large")
    try:
        raw = base64.b64decode(saml_request, validate=False)
        if binding == BINDING_REDIRECT:
            inflater = zlib.decompressobj(-15)
            raw = inflater.decompress(raw, MAX_REQUEST_BYTES)
            if inflater.unconsumed_tail:
                raise RequestRefused("malformed", "too large")
    except (binascii.Error, zlib.error, ValueError) as problem:
        raise RequestRefused("malformed", f"not base64: {problem}") from None
    if len(raw) > MAX_REQUEST_BYTES:
        raise RequestRefused("malformed", "too large")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise RequestRefused("doctype")
    return raw


def _instant(value: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        raise RequestRefused("malformed", "IssueInstant") from None
    if parsed.tzinfo is None:
        raise RequestRefused("malformed", "IssueInstant without a time zone")
    return parsed.astimezone(UTC)


def _signature_covers(root: etree._Element, signature: etree._Element) -> bool:
    references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    return len(references) == 1 and references[0].get("URI") == f"#{root.get('ID')}"


def _strong_algorithms(signature: etree._Element) -> bool:
    """Whether the enveloped signature uses RSA with SHA-2 and SHA-2 digests only: xmlsec checks
    that a signature is right, not that its algorithms are still worth trusting."""
    method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    digests = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod")
    return (
        method is not None
        and method.get("Algorithm") in SIGNATURE_ALGORITHMS
        and bool(digests)
        and all(digest.get("Algorithm") in DIGEST_ALGORITHMS for digest in digests)
    )


def _check_signature(
    root: etree._Element,
    xml: bytes,
    binding: str,
    *,
    query: str,
    saml_request: str,
    relay_state: str,
    requester: Requester,
) -> None:
    if binding == BINDING_POST:
        signatures = root.findall(f"{{{DS}}}Signature")
        if len(signatures) != 1 or not _signature_covers(root, signatures[0]):
            raise RequestRefused("unsigned")
        if not _strong_algorithms(signatures[0]):
            raise RequestRefused("bad_signature", "a weak algorithm")
        for certificate in requester.signing_certificates:
            try:
                if OneLogin_Saml2_Utils.validate_sign(
                    xml, _pem(certificate), xpath="/samlp:AuthnRequest/ds:Signature"
                ):
                    return
            except Exception as problem:  # python3-saml raises what xmlsec raises
                logger.debug("the signature does not verify: %r", problem)
        raise RequestRefused("bad_signature")
    signed, signature, algorithm, values = _signed_query(query)
    if not signature:
        raise RequestRefused("unsigned")
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise RequestRefused("bad_signature", f"algorithm {algorithm}")
    # The signed octets are the raw query; what is read is the framework's decoding of it. They
    # must be the same values, or a second, unsigned parameter is read instead of the signed one.
    if values.get("SAMLRequest") != saml_request or values.get("RelayState", "") != relay_state:
        raise RequestRefused("bad_signature", "the parameters read are not the ones signed")
    for certificate in requester.signing_certificates:
        try:
            if OneLogin_Saml2_Utils.validate_binary_sign(
                signed, signature, _pem(certificate), algorithm
            ):
                return
        except Exception as problem:
            logger.debug("the signature does not verify: %r", problem)
    raise RequestRefused("bad_signature")


def _signed_query(query: str) -> tuple[bytes, bytes, str, dict[str, str]]:
    """The query-string signature of HTTP-Redirect: (the signed octets, exactly as sent, the
    signature, its algorithm, the signed parameters decoded). SAML bindings §3.4.4.1:
    SAMLRequest, RelayState, SigAlg.

    A name counts as what it decodes to: `SAML%52equest` is a second SAMLRequest to Django (which
    reads the last one), so it is one here too, and refused."""
    parts = {}
    for part in query.split("&"):
        if not part:
            continue
        raw_name, _, value = part.partition("=")
        name = unquote_plus(raw_name)
        if name in parts:
            raise RequestRefused("malformed", f"{name} twice")
        if name != raw_name:
            raise RequestRefused("malformed", f"an encoded parameter name {raw_name}")
        parts[name] = value
    order = [name for name in ("SAMLRequest", "RelayState", "SigAlg") if name in parts]
    signed = "&".join(f"{name}={parts[name]}" for name in order).encode("ascii", "replace")
    try:
        signature = base64.b64decode(unquote_plus(parts.get("Signature", "")), validate=False)
    except (binascii.Error, ValueError):
        signature = b""
    values = {name: unquote_plus(parts[name]) for name in order}
    return signed, signature, values.get("SigAlg", ""), values


def _pem(certificate: str) -> str:
    body = "\n".join(certificate[i : i + 64] for i in range(0, len(certificate), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _text(element: etree._Element | None) -> str:
    if element is None or len(element):
        return ""
    return (element.text or "").strip()


@dataclass(frozen=True)
class Received:
    """An AuthnRequest as it arrived, well-formed, before any check that needs NIA's metadata."""

    saml_request: str  # as posted or in the query string, before decoding
    xml: bytes
    root: etree._Element
    binding: str
    relay_state: str
    query: str


def receive(saml_request: str, binding: str, *, relay_state: str, query: str) -> Received:
    """The first checks, which need nothing of NIA: size, encoding, XML without DOCTYPE,
    entities, comments or processing instructions, a SAML 2.0 AuthnRequest, the RelayState."""
    if len(relay_state.encode("utf-8", "surrogatepass")) > MAX_RELAY_STATE_BYTES:
        raise RequestRefused("relay_state", "longer than 80 bytes")
    xml = _decode(saml_request, binding)
    root = _parse(xml)
    if root.tag != f"{{{SAMLP}}}AuthnRequest" or root.get("Version") != "2.0" or not root.get("ID"):
        raise RequestRefused("malformed", "not a SAML 2.0 AuthnRequest")
    return Received(saml_request, xml, root, binding, relay_state, query)


def read_authn_request(
    received: Received,
    *,
    requester: Requester,
    sso_url: str,
    now: datetime | None = None,
) -> AuthnRequest:
    """NIA's AuthnRequest (`receive`d), checked as the module says; else RequestRefused."""
    xml, root, binding = received.xml, received.root, received.binding
    saml_request, relay_state, query = received.saml_request, received.relay_state, received.query
    issuers = root.findall(f"{{{SAML}}}Issuer")
    if len(issuers) != 1 or _text(issuers[0]) != requester.entity_id:
        raise RequestRefused("unknown_issuer", _text(issuers[0]) if issuers else "")
    _check_signature(
        root,
        xml,
        binding,
        query=query,
        saml_request=saml_request,
        relay_state=relay_state,
        requester=requester,
    )
    now = now or datetime.now(UTC)
    issued = _instant(root.get("IssueInstant"))
    if issued < now - REQUEST_MAX_AGE - CLOCK_SKEW or issued > now + CLOCK_SKEW:
        raise RequestRefused("stale", root.get("IssueInstant", ""))
    # Required on a signed request (SAML bindings §3.4.5.2, §3.5.5.2): without it, a request NIA
    # signed for another identity provider would be good here too.
    destination = root.get("Destination")
    if destination != sso_url:
        raise RequestRefused("wrong_destination", destination or "none")
    acs_url = root.get("AssertionConsumerServiceURL")
    # An index is not looked up (and beside an address it is a contradiction, SAML core §3.4.1).
    if root.get("AssertionConsumerServiceIndex") is not None:
        raise RequestRefused("wrong_acs", "an index")
    if acs_url is None:
        acs_url = requester.acs_urls[0] if requester.acs_urls else ""
    if acs_url not in requester.acs_urls:
        raise RequestRefused("wrong_acs", acs_url)
    binding_asked = root.get("ProtocolBinding")
    if binding_asked is not None and binding_asked != BINDING_POST:
        raise RequestRefused("wrong_acs", f"binding {binding_asked}")
    if root.find(f"{{{SAML}}}Subject") is not None:
        raise RequestRefused("malformed", "a Subject: the request may not choose the person")
    levels, comparison = _requested_levels(root)
    scoping = root.findall(f"{{{SAMLP}}}Scoping/{{{SAMLP}}}RequesterID")
    name = " ".join((root.get("ProviderName") or "").split())
    name = "".join(character for character in name if character.isprintable())
    return AuthnRequest(
        id=root.get("ID")[:100],
        issued_at=issued,
        acs_url=acs_url,
        level="high" if levels and all(level == LOA_HIGH for level in levels) else "substantial",
        levels=tuple(levels),
        comparison=comparison,
        relay_state=relay_state,
        service_name=name[:MAX_SERVICE_NAME],
        service_entity_id=_text(scoping[-1])[:500] if scoping else "",
        force_authn=root.get("ForceAuthn") in ("true", "1"),
        is_passive=root.get("IsPassive") in ("true", "1"),
    )


def _requested_levels(root: etree._Element) -> tuple[list[str], str]:
    requested = root.findall(f"{{{SAMLP}}}RequestedAuthnContext")
    if not requested:
        return [], "minimum"
    if len(requested) > 1:
        raise RequestRefused("malformed", "two RequestedAuthnContext")
    comparison = requested[0].get("Comparison") or "exact"
    if comparison not in ("minimum", "exact"):
        raise RequestRefused("level", f"comparison {comparison}")
    levels = [_text(ref) for ref in requested[0].findall(f"{{{SAML}}}AuthnContextClassRef")]
    if not levels or any(level not in (LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH) for level in levels):
        raise RequestRefused("level", ", ".join(levels))
    if comparison == "exact" and LOA_SUBSTANTIAL not in levels and LOA_HIGH not in levels:
        raise RequestRefused("level", "only low")
    return levels, comparison


def proves(level: str, request: AuthnRequest) -> bool:
    """Whether an answer at our `level` ("substantial"/"high") satisfies the request."""
    uri = LEVEL_URIS[level]
    if not request.levels:
        return True
    if request.comparison == "exact":
        return uri in request.levels
    order = [LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH]
    return order.index(uri) >= min(order.index(asked) for asked in request.levels)


# --- Writing answers -----------------------------------------------------------------------


def _id() -> str:
    return "_" + secrets.token_hex(20)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _response(request: AuthnRequest, issuer: str, now: datetime, status: tuple[str, ...]):
    response = etree.Element(
        f"{{{SAMLP}}}Response",
        nsmap={"samlp": SAMLP, "saml": SAML},
        ID=_id(),
        Version="2.0",
        IssueInstant=_time(now),
        Destination=request.acs_url,
        InResponseTo=request.id,
    )
    etree.SubElement(response, f"{{{SAML}}}Issuer").text = issuer
    status_element = etree.SubElement(response, f"{{{SAMLP}}}Status")
    code = etree.SubElement(status_element, f"{{{SAMLP}}}StatusCode", Value=status[0])
    if len(status) > 1 and status[1]:
        etree.SubElement(code, f"{{{SAMLP}}}StatusCode", Value=status[1])
    if len(status) > 2 and status[2]:
        etree.SubElement(status_element, f"{{{SAMLP}}}StatusMessage").text = status[2]
    return response


def _sign(element: etree._Element, key_pem: str, cert_pem: str) -> bytes:
    signed = OneLogin_Saml2_Utils.add_sign(
        etree.tostring(element),
        key_pem,
        cert_pem,
        sign_algorithm=C.RSA_SHA256,
        digest_algorithm=C.SHA256,
    )
    # python3-saml answers the document with an XML declaration: re-serialise without it.
    return etree.tostring(etree.fromstring(signed))


def _assertion(
    request: AuthnRequest,
    *,
    issuer: str,
    audience: str,
    bsi: str,
    level: str,
    authenticator: str,
    now: datetime,
) -> etree._Element:
    until = _time(now + ASSERTION_LIFETIME)
    assertion = etree.Element(
        f"{{{SAML}}}Assertion",
        nsmap={"saml": SAML, "xs": XS, "xsi": XSI},
        ID=_id(),
        Version="2.0",
        IssueInstant=_time(now),
    )
    etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = issuer
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    etree.SubElement(
        subject,
        f"{{{SAML}}}NameID",
        Format=NAMEID_PERSISTENT,
        NameQualifier=issuer,
        SPNameQualifier=audience,
    ).text = bsi
    confirmation = etree.SubElement(
        subject, f"{{{SAML}}}SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"
    )
    etree.SubElement(
        confirmation,
        f"{{{SAML}}}SubjectConfirmationData",
        NotOnOrAfter=until,
        Recipient=request.acs_url,
        InResponseTo=request.id,
    )
    conditions = etree.SubElement(
        assertion,
        f"{{{SAML}}}Conditions",
        NotBefore=_time(now - CLOCK_SKEW),
        NotOnOrAfter=until,
    )
    restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
    etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
    statement = etree.SubElement(
        assertion,
        f"{{{SAML}}}AuthnStatement",
        AuthnInstant=_time(now),
        SessionIndex=_id(),
        SessionNotOnOrAfter=until,
    )
    context = etree.SubElement(statement, f"{{{SAML}}}AuthnContext")
    etree.SubElement(context, f"{{{SAML}}}AuthnContextClassRef").text = LEVEL_URIS[level]
    attributes = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
    attribute = etree.SubElement(
        attributes, f"{{{SAML}}}Attribute", Name=AUTHENTICATOR_ATTRIBUTE, NameFormat=ATTRNAME_URI
    )
    value = etree.SubElement(attribute, f"{{{SAML}}}AttributeValue")
    value.set(f"{{{XSI}}}type", "xs:string")
    value.text = authenticator
    return assertion


def _encrypt(response: etree._Element, assertion: etree._Element, certificate: str) -> None:
    """Add to `response` an EncryptedAssertion of `assertion` for `certificate`.

    The assertion is encrypted as the root of its own document, so that the plaintext carries
    every namespace it declares: inside the Response, the serialiser would leave out those the
    Response declares already, and the decrypted assertion would not parse on its own."""
    template = xmlsec.template.encrypted_data_create(
        assertion,
        xmlsec.constants.TransformAes256Cbc,
        type=xmlsec.constants.TypeEncElement,
        ns="xenc",
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    context = xmlsec.EncryptionContext(_keys_manager(certificate))
    context.key = xmlsec.Key.generate(
        xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession
    )
    encrypted = context.encrypt_xml(template, assertion)
    holder = etree.SubElement(response, f"{{{SAML}}}EncryptedAssertion")
    holder.append(etree.fromstring(etree.tostring(encrypted)))


def _keys_manager(certificate: str) -> xmlsec.KeysManager:
    """A keys manager holding the recipient's certificate, made once per thread and certificate:
    making one loads the system's CA bundle (some 15 ms), more than the encryption itself.
    Per thread, as xmlsec promises nothing about sharing one between threads."""
    made = getattr(_managers, "by_certificate", None)
    if made is None:
        made = _managers.by_certificate = {}
    manager = made.get(certificate)
    if manager is None:
        manager = xmlsec.KeysManager()
        manager.add_key(
            xmlsec.Key.from_memory(_pem(certificate).encode("ascii"), xmlsec.KeyFormat.CERT_PEM)
        )
        if len(made) >= MANAGERS_PER_THREAD:
            made.clear()
        made[certificate] = manager
    return manager


def success_response(
    request: AuthnRequest,
    requester: Requester,
    *,
    issuer: str,
    bsi: str,
    level: str,
    authenticator: str,
    key_pem: str,
    cert_pem: str,
    now: datetime | None = None,
) -> str:
    """The base64 SAMLResponse vouching that the person `bsi` signed in at `level` with the
    authenticator registered as `authenticator`: signed Assertion, encrypted, in a signed
    Response."""
    now = now or datetime.now(UTC)
    assertion = _assertion(
        request,
        issuer=issuer,
        audience=requester.entity_id,
        bsi=bsi,
        level=level,
        authenticator=authenticator,
        now=now,
    )
    signed_assertion = etree.fromstring(_sign(assertion, key_pem, cert_pem))
    response = _response(request, issuer, now, (STATUS_SUCCESS,))
    _encrypt(response, signed_assertion, requester.encryption_certificate)
    return base64.b64encode(_sign(response, key_pem, cert_pem)).decode("ascii")


def error_response(
    request: AuthnRequest,
    *,
    issuer: str,
    status: str,
    message: str,
    key_pem: str,
    cert_pem: str,
    now: datetime | None = None,
) -> str:
    """A signed SAMLResponse without an assertion: Responder, then `status`, and why."""
    response = _response(
        request, issuer, now or datetime.now(UTC), (STATUS_RESPONDER, status, message[:200])
    )
    return base64.b64encode(_sign(response, key_pem, cert_pem)).decode("ascii")
