"""The SAML side of the demo service "Portál občana (simulace)", built on python3-saml, talking to
the simulated NIA (pysaml2): each end of the wire is a different SAML library, so what one writes
the other must really read.

`authn_request` makes the AuthnRequest: eIDAS level asked with Comparison="minimum", a transient
NameIDPolicy, and in `samlp:Extensions` the eIDAS SPType and RequestedAttributes (python3-saml
cannot write Extensions, so they are added with lxml), signed enveloped (RSA-SHA256, SHA-256)
for the HTTP-POST binding. `read_answer` accepts NIA's Response only when python3-saml finds it
valid in strict mode: Response and Assertion signed by NIA's certificate from its metadata, the
Assertion encrypted to our key, Destination our assertion consumer service, Audience our entity
ID, InResponseTo the request given, within its validity; a DOCTYPE or an entity is refused by
its parser. A signed error Response of NIA is `AnswerRefused`; anything else `AnswerInvalid`.
"""

import base64
import binascii
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from lxml import etree
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from govsim.nia import eidas, keys
from govsim.nia import idp as nia_idp

SERVICE_NAME = "Portál občana (simulace)"
EIDAS_NS = "http://eidas.europa.eu/saml-extensions"
SAMLP_NS = OneLogin_Saml2_Constants.NS_SAMLP
SAML_NS = OneLogin_Saml2_Constants.NS_SAML
MD_NS = OneLogin_Saml2_Constants.NS_MD
SP_TYPE = "public"
#: The levels a visitor may ask for, by the word the form sends.
LEVELS = {"substantial": eidas.LOA_SUBSTANTIAL, "high": eidas.LOA_HIGH}
#: (eIDAS attribute Name, isRequired), as the RequestedAttributes extension lists them.
REQUESTED_ATTRIBUTES: tuple[tuple[str, bool], ...] = (
    (eidas.PERSON_IDENTIFIER, True),
    (eidas.CURRENT_GIVEN_NAME, True),
    (eidas.CURRENT_FAMILY_NAME, True),
    (eidas.DATE_OF_BIRTH, True),
    (eidas.PLACE_OF_BIRTH, False),
    (eidas.CURRENT_ADDRESS, False),
)
# A Response is a few kilobytes: anything much larger is not read at all.
MAX_RESPONSE_CHARACTERS = 256 * 1024
KEY_NAME, CERT_NAME = "sep-key.pem", "sep-cert.pem"


class AnswerInvalid(Exception):
    """The posted answer cannot be trusted or does not answer a request of ours (a 400)."""


class AnswerRefused(Exception):
    """NIA answered our request with a signed error Response: the sign-in did not happen."""

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status  # the second-level status code (the first one if there is none)
        self.message = message  # NIA's StatusMessage, for the person as detail


@dataclass(frozen=True)
class OutgoingRequest:
    """A signed AuthnRequest ready for the HTTP-POST binding."""

    id: str
    level: str  # the eIDAS URI asked for
    sso_url: str
    saml_request: str  # base64 of the signed XML


@dataclass(frozen=True)
class SignedIn:
    """Who NIA signed in, as far as the demo service shows it."""

    person_identifier: str
    given_name: str
    family_name: str
    birth_date: date
    birth_place: str
    level: str  # the AuthnContextClassRef NIA asserted

    def as_dict(self) -> dict[str, str]:
        """JSON-safe, for the session."""
        return {**asdict(self), "birth_date": self.birth_date.isoformat()}

    @classmethod
    def from_dict(cls, data: dict) -> "SignedIn":
        return cls(**{**data, "birth_date": date.fromisoformat(data["birth_date"])})


# --- Keys, addresses, settings --------------------------------------------------------------


def key_dir() -> Path:
    """Where the service's development key pair is kept: `VAR_DIR/govsim/sep/`."""
    return Path(settings.VAR_DIR) / "govsim" / "sep"


def key_pair() -> keys.KeyPair:
    """The service's signing and decryption key pair, made on first use (NIA's helper)."""
    return keys.generated_key_pair(
        key_dir(),
        "Portal obcana (simulace) - development",
        key_name=KEY_NAME,
        cert_name=CERT_NAME,
    )


def entity_id(request: HttpRequest) -> str:
    """The service's entity ID: the absolute address of its metadata, wherever it is served."""
    return request.build_absolute_uri(reverse("govsim:sep:metadata"))


def acs_url(request: HttpRequest) -> str:
    """The absolute address of the assertion consumer service (HTTP-POST)."""
    return request.build_absolute_uri(reverse("govsim:sep:acs"))


def _sp(request: HttpRequest) -> dict:
    pair = key_pair()
    return {
        "entityId": entity_id(request),
        "assertionConsumerService": {
            "url": acs_url(request),
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
        },
        "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_TRANSIENT,
        "x509cert": pair.cert_pem,
        "privateKey": pair.key_pem,
    }


def _security(level: str | None = None) -> dict:
    return {
        "authnRequestsSigned": True,
        "wantMessagesSigned": True,
        "wantAssertionsSigned": True,
        "wantAssertionsEncrypted": True,
        "wantNameId": True,
        "rejectDeprecatedAlgorithm": True,
        "allowSingleLabelDomains": True,  # "localhost", "testserver"
        "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
        "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
        "requestedAuthnContextComparison": "minimum",
        "requestedAuthnContext": [level] if level else False,
    }


def saml_settings(request: HttpRequest, level: str | None = None) -> OneLogin_Saml2_Settings:
    """python3-saml's settings, strict: NIA's entity ID and certificate from its metadata, read
    in-process (the service and NIA are one server: fetching it over HTTP would wait for itself
    under a single-threaded development server)."""
    idp = OneLogin_Saml2_IdPMetadataParser.parse(nia_idp.metadata_xml(request))["idp"]
    idp.setdefault("singleSignOnService", {})["url"] = nia_idp.sso_url(request)
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": _sp(request),
            "idp": idp,
            "security": _security(level),
        },
        sp_validation_only=False,
    )


def metadata_xml(request: HttpRequest) -> str:
    """The service's EntityDescriptor (python3-saml): entity ID, assertion consumer service
    (HTTP-POST), the certificate it signs with and NIA encrypts to.

    Without `validUntil`: python3-saml dates it two days ahead at every call, which would make the
    metadata differ at each visit and NIA stop trusting a registration two days old.
    """
    sp_only = OneLogin_Saml2_Settings(
        {"strict": True, "sp": _sp(request), "security": _security()},
        sp_validation_only=True,
    )
    root = OneLogin_Saml2_XML.to_etree(sp_only.get_sp_metadata())
    root.attrib.pop("validUntil", None)
    return etree.tostring(root, encoding="unicode")


# --- The AuthnRequest -----------------------------------------------------------------------


def _extensions() -> etree._Element:
    """samlp:Extensions with the eIDAS SPType and RequestedAttributes."""
    extensions = etree.Element(f"{{{SAMLP_NS}}}Extensions", nsmap={"samlp": SAMLP_NS})
    sp_type = etree.SubElement(extensions, f"{{{EIDAS_NS}}}SPType", nsmap={"eidas": EIDAS_NS})
    sp_type.text = SP_TYPE
    wanted = etree.SubElement(
        extensions, f"{{{EIDAS_NS}}}RequestedAttributes", nsmap={"eidas": EIDAS_NS}
    )
    friendly = {uri: name for name, uri in eidas.ATTRIBUTES.items()}
    for name, required in REQUESTED_ATTRIBUTES:
        etree.SubElement(
            wanted,
            f"{{{EIDAS_NS}}}RequestedAttribute",
            FriendlyName=friendly[name],
            Name=name,
            NameFormat=eidas.ATTRIBUTE_NAME_FORMAT,
            isRequired="true" if required else "false",
        )
    return extensions


def authn_request(request: HttpRequest, level: str) -> OutgoingRequest:
    """A signed AuthnRequest for `level` (an eIDAS URI of `LEVELS`) to NIA's SSO."""
    if level not in LEVELS.values():
        raise ValueError(f"not a level this service asks for: {level}")
    saml = saml_settings(request, level)
    built = OneLogin_Saml2_Authn_Request(saml, set_nameid_policy=True)
    root = OneLogin_Saml2_XML.to_etree(built.get_xml())
    # Extensions follow the Issuer (and the Signature add_sign puts right after the Issuer).
    root.find(f"{{{SAML_NS}}}Issuer").addnext(_extensions())
    pair = key_pair()
    signed = OneLogin_Saml2_Utils.add_sign(
        etree.tostring(root),
        pair.key_pem,
        pair.cert_pem,
        sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
        digest_algorithm=OneLogin_Saml2_Constants.SHA256,
    )
    # add_sign serialises with an XML declaration; the message is sent without one. Only the
    # declaration is cut off: re-serialising the signed element could change what was signed.
    if signed.startswith(b"<?xml"):
        signed = signed[signed.index(b"?>") + 2 :].lstrip()
    return OutgoingRequest(
        id=built.get_id(),
        level=level,
        sso_url=saml.get_idp_data()["singleSignOnService"]["url"],
        saml_request=base64.b64encode(signed).decode("ascii"),
    )


# --- The answer -----------------------------------------------------------------------------


def _request_data(request: HttpRequest, post: dict) -> dict:
    """The ACS as python3-saml compares it with the Destination: our own address."""
    scheme, _, rest = acs_url(request).partition("://")
    host, _, path = rest.partition("/")
    return {
        "https": "on" if scheme == "https" else "off",
        "http_host": host,
        "script_name": "/" + path,
        "get_data": {},
        "post_data": post,
    }


def answered_request_id(saml_response: str) -> str:
    """The ID of the request a posted Response says it answers (unchecked: only to find the
    request; `read_answer` checks it). AnswerInvalid when it cannot be read or names none."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARACTERS:
        raise AnswerInvalid("missing or too large")
    try:
        document = OneLogin_Saml2_XML.to_etree(base64.b64decode(saml_response, validate=True))
    except (binascii.Error, ValueError, etree.LxmlError) as problem:  # a DTD, an entity among them
        raise AnswerInvalid(f"not a SAML document: {type(problem).__name__}") from None
    if document.tag != f"{{{SAMLP_NS}}}Response":
        raise AnswerInvalid(f"not a SAML Response: {document.tag}")
    answered = document.get("InResponseTo")
    if not answered:
        raise AnswerInvalid("no InResponseTo")
    return answered


def _status(document: etree._Element) -> tuple[str, str]:
    """(the second-level status code, or the first if there is none; the StatusMessage)."""
    ns = {"samlp": SAMLP_NS}
    top = document.find("samlp:Status/samlp:StatusCode", ns)
    second = document.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", ns)
    message = document.find("samlp:Status/samlp:StatusMessage", ns)
    code = (second if second is not None else top).get("Value", "") if top is not None else ""
    return code, (message.text or "").strip() if message is not None else ""


def _refusal(
    response: OneLogin_Saml2_Response, saml: OneLogin_Saml2_Settings, data: dict, request_id: str
) -> AnswerRefused:
    """NIA's error Response, once it is shown to be NIA's answer to our request.

    python3-saml stops at the status, before any signature is checked: without these checks
    anybody could post a "refusal" that our page would present as NIA's word.
    """
    document = response.document
    signed = response.process_signed_elements()  # references, IDs, no deprecated algorithms
    if f"{{{SAMLP_NS}}}Response" not in signed:
        raise AnswerInvalid("the error Response is not signed")
    OneLogin_Saml2_Utils.validate_sign(
        document,
        saml.get_idp_cert(),
        xpath=OneLogin_Saml2_Utils.RESPONSE_SIGNATURE_XPATH,
        raise_exceptions=True,
    )
    if document.get("InResponseTo") != request_id:
        raise AnswerInvalid("the error Response answers another request")
    if document.get("Destination") != OneLogin_Saml2_Utils.get_self_url_no_query(data):
        raise AnswerInvalid("the error Response was meant for another address")
    # The Response's own Issuer: python3-saml's get_issuers() wants an Assertion's too.
    issuer = document.find(f"{{{SAML_NS}}}Issuer")
    if issuer is None or (issuer.text or "").strip() != saml.get_idp_data()["entityId"]:
        raise AnswerInvalid("the error Response was issued by somebody else")
    return AnswerRefused(*_status(document))


def read_answer(request: HttpRequest, saml_response: str, request_id: str, level: str) -> SignedIn:
    """NIA's answer to our request `request_id` for `level`, if it is valid in every respect of
    the module docstring and NIA asserted at least that level; else AnswerRefused (a signed
    refusal) or AnswerInvalid (nothing is read from it)."""
    if answered_request_id(saml_response) != request_id:
        raise AnswerInvalid("the Response answers another request")
    saml = saml_settings(request)
    data = _request_data(request, {"SAMLResponse": saml_response})
    try:
        response = OneLogin_Saml2_Response(saml, saml_response)
        try:
            response.is_valid(data, request_id=request_id, raise_exceptions=True)
        except OneLogin_Saml2_ValidationError as problem:
            if problem.code != OneLogin_Saml2_ValidationError.STATUS_CODE_IS_NOT_SUCCESS:
                raise
            raise _refusal(response, saml, data, request_id) from None
    except (AnswerRefused, AnswerInvalid):
        raise
    except Exception as problem:  # python3-saml lets lxml's, xmlsec's and its own errors out
        raise AnswerInvalid(f"{type(problem).__name__}: {problem}") from None
    return _signed_in(response, level)


def _signed_in(response: OneLogin_Saml2_Response, level: str) -> SignedIn:
    attributes = response.get_attributes()

    def one(name: str, *, required: bool = True) -> str:
        values = attributes.get(name) or []
        if len(values) > 1 or (required and (not values or not str(values[0]).strip())):
            raise AnswerInvalid(f"the attribute {name} is missing or repeated")
        return str(values[0]).strip() if values else ""

    contexts = response.get_authn_contexts()
    given = contexts[0] if len(contexts) == 1 else ""
    try:
        enough = eidas.satisfies(given, [level], "minimum") if given else False
    except (eidas.UnknownLevel, ValueError):  # ValueError: a class that is no eIDAS level
        enough = False
    if not enough:
        raise AnswerInvalid(f"the level asserted ({', '.join(contexts)}) is not {level} or more")
    person_identifier = one(eidas.PERSON_IDENTIFIER)
    if not person_identifier.startswith(eidas.PERSON_IDENTIFIER_PREFIX):
        raise AnswerInvalid("the PersonIdentifier is not a Czech one")
    try:
        birth_date = date.fromisoformat(one(eidas.DATE_OF_BIRTH))
    except ValueError:
        raise AnswerInvalid("the DateOfBirth is not a date") from None
    return SignedIn(
        person_identifier=person_identifier,
        given_name=one(eidas.CURRENT_GIVEN_NAME),
        family_name=one(eidas.CURRENT_FAMILY_NAME),
        birth_date=birth_date,
        birth_place=one(eidas.PLACE_OF_BIRTH, required=False),
        level=given,
    )
