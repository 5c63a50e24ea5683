"""What a security key's registration proves: pure logic, no database, no request.

`parse_registration` reads a `PublicKeyCredential.toJSON()` registration (also wrapped in an outer
object under `response` or `credential`, as debugger tools export it). `judge` verifies the
attestation statement (packed, tpm, android-key, android-safetynet, fido-u2f, apple, none — the
signature checks are python-fido2's), checks the attestation chain against the roots that the
metadata lists for *that* model, and decides what the key may be used for.

An AAGUID alone proves nothing: the authenticator reports it itself. A model is only believed when
the attestation certificate chains to that model's own metadata roots.

The reasons in a verdict are fixed English message ids, marked with gettext_noop and translated
where they are shown, so a stored verdict reads in the language of whoever looks at it.
"""

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext_noop
from fido2.attestation import Attestation, AttestationType, verify_x509_chain
from fido2.attestation.base import InvalidAttestation
from fido2.webauthn import AttestationObject

from .metadata import LEVELS
from .platform_formats import VERIFIERS
from .webauthn import is_b64url

ZERO_AAGUID = uuid.UUID(int=0)


class MalformedRegistration(ValueError):
    """The data is not a readable WebAuthn registration; the message says what is wrong."""


@dataclass(frozen=True)
class KnownModel:
    """What the metadata store says about one authenticator model."""

    description: str
    root_certificates: list[bytes]  # DER
    certification_level: str | None
    trusted: bool
    statuses: list[str]
    attachment_hints: list[str]
    root_public_keys: list[bytes] = field(default_factory=list)  # SPKI DER (development only)


@dataclass
class Registration:
    credential_id: bytes
    client_data_json: bytes
    attestation_object: AttestationObject
    transports: list[str] = field(default_factory=list)

    @property
    def fmt(self) -> str:
        return self.attestation_object.fmt

    @property
    def aaguid(self) -> uuid.UUID:
        credential = self.attestation_object.auth_data.credential_data
        return uuid.UUID(bytes=bytes(credential.aaguid)) if credential else ZERO_AAGUID

    @property
    def client_data_hash(self) -> bytes:
        return hashlib.sha256(self.client_data_json).digest()


@dataclass
class Verdict:
    """The answer for the key's detail page, the NIA link and the support inspector."""

    fmt: str
    aaguid: str
    certificate_key_identifier: str | None
    description: str | None
    key_type: str
    certification_level: str | None
    statuses: list[str]
    attestation_trusted: bool
    trust_reason: str
    nia_eligible: bool
    reasons: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _b64url(value, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise MalformedRegistration(f"{what} is missing or not a string")
    if not is_b64url(value):  # the decoder alone would skip stray characters
        raise MalformedRegistration(f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise MalformedRegistration(f"{what} is not base64url") from None


def _unwrap(data):
    """The registration itself, also when a tool exported it inside `credential` or `response`."""
    if isinstance(data, dict) and not (
        isinstance(data.get("response"), dict) and "attestationObject" in data["response"]
    ):
        for wrapper in ("credential", "response"):
            inner = data.get(wrapper)
            if isinstance(inner, dict) and isinstance(inner.get("response"), dict):
                return inner
    return data


def parse_registration(data) -> Registration:
    """Read a registration response in the `PublicKeyCredential.toJSON()` shape.

    Every field is type-checked before it is used: data of a wrong JSON type is as malformed as
    bad base64 (MalformedRegistration), never a TypeError.
    """
    data = _unwrap(data)
    if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
        raise MalformedRegistration("not a registration response: no 'response' object")
    response = data["response"]
    if data.get("type", "public-key") != "public-key":
        raise MalformedRegistration("type is not 'public-key'")
    raw_id = _b64url(data.get("rawId") or data.get("id"), "rawId")
    if "id" in data and _b64url(data["id"], "id") != raw_id:
        raise MalformedRegistration("id and rawId differ")
    client_data_json = _b64url(response.get("clientDataJSON"), "clientDataJSON")
    attestation_bytes = _b64url(response.get("attestationObject"), "attestationObject")
    try:
        client_data = json.loads(client_data_json)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedRegistration("clientDataJSON is not JSON") from None
    if not isinstance(client_data, dict) or client_data.get("type") != "webauthn.create":
        raise MalformedRegistration("clientDataJSON is not of a registration (webauthn.create)")
    try:
        attestation = AttestationObject(attestation_bytes)
        credential = attestation.auth_data.credential_data
    except Exception as problem:  # the CBOR decoder raises a variety of types on bad input
        raise MalformedRegistration(f"attestationObject cannot be decoded: {problem}") from None
    if credential is None:
        raise MalformedRegistration("authenticator data holds no credential")
    if not isinstance(attestation.fmt, str) or not isinstance(attestation.att_stmt, dict):
        raise MalformedRegistration("the attestation object has no format or statement map")
    transports = response.get("transports") or []
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise MalformedRegistration("transports is not a list of strings")
    return Registration(raw_id, client_data_json, attestation, transports)


def certificate_key_identifier(certificate_der: bytes) -> str:
    """The hex SHA-1 of the certificate's public key: how MDS3 names U2F attestation keys."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest.hex()


def verify_statement(registration: Registration) -> tuple[AttestationType, list[bytes]]:
    """Check the attestation signature; returns its type and trust path (leaf first)."""
    # Our own verifiers first: python-fido2 has none for android-key and a lax one for apple.
    verifier = VERIFIERS.get(registration.fmt, Attestation.for_type(registration.fmt))()
    try:
        result = verifier.verify(
            registration.attestation_object.att_stmt,
            registration.attestation_object.auth_data,
            registration.client_data_hash,
        )
    except InvalidAttestation:
        raise
    except Exception as problem:
        # python-fido2 raises InvalidAttestation for what it checks; a statement that is not
        # shaped as its format prescribes surfaces as KeyError, TypeError, ExtensionNotFound, …
        # Pure computation on the key's data, so any failure means "does not verify".
        raise InvalidAttestation(f"{type(problem).__name__}: {problem}") from problem
    return result.attestation_type, list(result.trust_path)


def _spki(der: bytes) -> bytes:
    return (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _chains(chain: list[bytes]) -> bool:
    try:
        verify_x509_chain(chain)
    except (InvalidAttestation, ValueError):
        return False
    return True


def chain_to_roots(
    trust_path: list[bytes], roots: list[bytes], at: datetime, pinned_keys: list[bytes] = ()
) -> str | None:
    """None when the path chains to one of `roots` (or ends in a self-signed certificate of one
    of the `pinned_keys`) and every certificate is valid at `at`; otherwise why not."""
    if not roots and not pinned_keys:
        return gettext_noop("the metadata lists no attestation root for this model")
    chain = None
    for root in roots:
        candidate = trust_path if trust_path[-1] == root else [*trust_path, root]
        if _chains(candidate):
            chain = candidate
            break
    if chain is None and _spki(trust_path[-1]) in pinned_keys:
        last = trust_path[-1]
        if _chains(trust_path) and _chains([last, last]):  # self-signed by the pinned key
            chain = trust_path
    if chain is None:
        return gettext_noop(
            "the attestation certificate does not chain to this model's metadata roots"
        )
    for der in chain:
        certificate = x509.load_der_x509_certificate(der)
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            return gettext_noop("an attestation certificate is outside its validity period")
    return None


def key_type(fmt: str, model: KnownModel | None) -> str:
    """hardware | android | windows_hello | apple | unknown"""
    if fmt == "apple":
        return "apple"
    if fmt in ("android-key", "android-safetynet"):
        return "android"
    if fmt == "tpm":
        return "windows_hello"
    if model is None:
        return "unknown"
    hints = set(model.attachment_hints)
    if hints & {"external", "wired", "wireless", "nfc", "bluetooth"}:
        return "hardware"
    if "windows hello" in model.description.lower():
        return "windows_hello"
    return "unknown"


def judge(
    registration: Registration,
    find_model: Callable[[uuid.UUID | None, str | None], KnownModel | None],
    at: datetime,
) -> Verdict:
    """Everything we can trust about a registration, and whether it is good enough for NIA."""
    reasons: list[str] = []
    aaguid = registration.aaguid
    try:
        kind, trust_path = verify_statement(registration)
    except InvalidAttestation:
        kind, trust_path = None, []
        statement_problem = gettext_noop("the attestation statement does not verify")
    else:
        statement_problem = None

    key_identifier = certificate_key_identifier(trust_path[0]) if trust_path else None
    model = find_model(aaguid if aaguid != ZERO_AAGUID else None, key_identifier)

    if statement_problem:
        trust_reason = statement_problem
    elif registration.fmt == "none" or kind == AttestationType.NONE:
        trust_reason = gettext_noop("no attestation: the key or the browser withheld it")
    elif kind == AttestationType.SELF or not trust_path:
        trust_reason = gettext_noop("self attestation: it proves no model")
    elif model is None:
        trust_reason = gettext_noop("unknown model: not in the FIDO metadata")
    else:
        trust_reason = (
            chain_to_roots(trust_path, model.root_certificates, at, model.root_public_keys) or ""
        )
    attestation_trusted = trust_reason == ""
    if attestation_trusted:
        trust_reason = gettext_noop(
            "the attestation chains to the model's root in the FIDO metadata"
        )
    believed = model if attestation_trusted else None

    kind_of_key = key_type(registration.fmt, believed)
    level = believed.certification_level if believed else None
    if not attestation_trusted:
        reasons.append(trust_reason)
    elif not believed.trusted:
        reasons.append(gettext_noop("the model is revoked or compromised (FIDO metadata status)"))
    if attestation_trusted and level is None:
        reasons.append(gettext_noop("the model is not certified FIDO L1 or higher"))
    if kind_of_key == "apple":
        reasons.append(
            gettext_noop("Apple devices cannot be used for public administration services")
        )
    eligible = (
        attestation_trusted and believed.trusted and level in LEVELS and kind_of_key != "apple"
    )
    return Verdict(
        fmt=registration.fmt,
        aaguid=str(aaguid),
        certificate_key_identifier=key_identifier,
        description=believed.description if believed else None,
        key_type=kind_of_key,
        certification_level=level,
        statuses=list(believed.statuses) if believed else [],
        attestation_trusted=attestation_trusted,
        trust_reason=trust_reason,
        nia_eligible=bool(eligible),
        reasons=reasons,
    )
