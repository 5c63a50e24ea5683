"""A thin wrapper around py_webauthn: our options, our exceptions.

Every failure of the library on data from the browser or the key becomes `CeremonyError`, so that
callers answer with a message and never a 500.
"""

import base64
import json
import re
from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)


class CeremonyError(Exception):
    """The browser's answer does not verify."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: list[str]


def _descriptors(credential_ids: list[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=decode(cid)) for cid in credential_ids]


# The base64url alphabet, with or without padding (the decoder alone would skip stray characters).
B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def is_b64url(value) -> bool:
    """Whether `value` is a non-empty base64url string (the JSON form of WebAuthn's bytes)."""
    return isinstance(value, str) and bool(value) and B64URL.fullmatch(value) is not None


def assertion_credential_id(credential) -> str:
    """The credential id of an assertion in the `PublicKeyCredential.toJSON()` shape.

    Every field is type-checked before anything looks the key up: a wrong JSON type, bytes that
    are not base64url, a NUL or a lone surrogate is CeremonyError like a bad signature.
    """
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise CeremonyError("not an assertion: no 'response' object")
    response = credential["response"]
    if credential.get("type") != "public-key":
        raise CeremonyError("type is not 'public-key'")
    if not (is_b64url(credential.get("id")) and credential.get("rawId") == credential["id"]):
        raise CeremonyError("id and rawId must be the same base64url string")
    for name in ("clientDataJSON", "authenticatorData", "signature"):
        if not is_b64url(response.get(name)):
            raise CeremonyError(f"{name} is missing or not base64url")
    user_handle = response.get("userHandle")
    if user_handle not in (None, "") and not is_b64url(user_handle):
        raise CeremonyError("userHandle is not base64url")
    return credential["id"]


def decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    existing: list[str],
) -> tuple[dict, bytes]:
    """Options for navigator.credentials.create() asking for direct attestation."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        attestation=AttestationConveyancePreference.DIRECT,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
        timeout=120_000,
    )
    return json.loads(options_to_json(options)), options.challenge


# py_webauthn raises WebAuthnException for what it checks, but data it does not expect (an odd
# attestation statement, a certificate without the format's extension) surfaces as whatever the
# CBOR, ASN.1 or X.509 code underneath raises. The library is pure computation, so any exception
# from it is a fault of the data: every one becomes CeremonyError.


def verify_registration(rp: RelyingParty, credential: dict, challenge: bytes):
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
        )
    except Exception as problem:  # any failure of the library: see the note above
        raise CeremonyError(str(problem) or type(problem).__name__) from None


def authentication_options(
    rp: RelyingParty, credential_ids: list[str], *, user_verification: str = "preferred"
) -> tuple[dict, bytes]:
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=_descriptors(credential_ids),
        user_verification=UserVerificationRequirement(user_verification),
        timeout=120_000,
    )
    return json.loads(options_to_json(options)), options.challenge


def verify_authentication(rp: RelyingParty, credential: dict, challenge: bytes, public_key: bytes):
    """Verify an assertion; the sign count is compared by the caller, who must act on a clone."""
    try:
        return verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
            credential_public_key=public_key,
            credential_current_sign_count=0,
        )
    except Exception as problem:  # any failure of the library: see the note above
        raise CeremonyError(str(problem) or type(problem).__name__) from None
