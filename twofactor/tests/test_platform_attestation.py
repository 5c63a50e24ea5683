"""Platform authenticators (Apple, Android, Windows Hello) against a test metadata set.

The soft authenticator writes `apple` and `android-key` statements from the WebAuthn
specification; py_webauthn (the library of the registration ceremony) serves as an independent
check that they are what the specification prescribes, and `judge` is then asked what it makes of
them.

python-fido2 has no android-key verifier, and the one fido-mds registers when it is imported checks
the key's origin and purpose for presence only; `twofactor.internal.platform_formats` has our own.
A fresh process proves that the verdict does not depend on what was imported before.
"""

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from fido2.attestation import AttestationType
from fido2.cose import ES256
from webauthn.helpers.exceptions import InvalidRegistrationResponse

from twofactor.internal.attestation import parse_registration, verify_statement
from twofactor.metadata import load_payload
from twofactor.models import MetadataSource

from .platform import (
    NOT_VERIFIED,
    metadata_entry,
    registration,
    spec_check,
    statement_of,
    verdict_of,
)
from .softkey import (
    ANDROID_KEY_DESCRIPTION_EXTENSION,
    APPLE_NONCE_EXTENSION,
    COSE_ES256,
    KM_ORIGIN_IMPORTED,
    KM_PURPOSE_VERIFY,
    OTHER_CLIENT_DATA_HASH,
    CertificateAuthority,
    SoftKey,
    apple_nonce_extension,
)

pytestmark = pytest.mark.django_db

GOOD_ROOT = CertificateAuthority("Good Platform Root")
OTHER_ROOT = CertificateAuthority("Other Platform Root")

APPLE_MODEL = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000001")
ANDROID_MODEL = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000002")
WINDOWS_HELLO = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000003")
HARDWARE_KEY = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000004")
OTHER_PLATFORM = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000005")

APPLE_REASON = "Apple devices cannot be used for public administration services"


@pytest.fixture(autouse=True)
def metadata(db):
    entries = [
        metadata_entry(APPLE_MODEL, "Soft Apple Passkey", ["internal"], [GOOD_ROOT]),
        metadata_entry(ANDROID_MODEL, "Soft Android Phone", ["internal"], [GOOD_ROOT]),
        metadata_entry(
            WINDOWS_HELLO, "Windows Hello Software Authenticator", ["internal"], [GOOD_ROOT]
        ),
        metadata_entry(HARDWARE_KEY, "Soft Hardware Key", ["external", "wired"], [GOOD_ROOT]),
        metadata_entry(OTHER_PLATFORM, "Soft Laptop Authenticator", ["internal"], [GOOD_ROOT]),
    ]
    load_payload({"no": 1, "entries": entries}, source=MetadataSource.BLOB)


def holds_the_credential_key(certificate_der: bytes, credential: dict) -> bool:
    """Whether the certificate's public key is the credential public key (as COSE keys)."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    credential_key = parse_registration(credential).attestation_object.auth_data.credential_data
    return ES256.from_cryptography_key(certificate.public_key()) == credential_key.public_key


# Apple anonymous attestation


def test_an_apple_statement_is_what_the_specification_prescribes():
    credential = registration(SoftKey(APPLE_MODEL, fmt="apple", authority=GOOD_ROOT))
    statement = statement_of(credential)

    assert set(statement) == {"x5c"}  # no alg, no sig
    assert holds_the_credential_key(statement["x5c"][0], credential)
    assert len(statement["x5c"]) == 2  # credCert and the vendor's intermediate, not the root
    spec_check(credential, GOOD_ROOT)  # nonce, key, chain: raises if any is wrong


def test_the_apple_nonce_extension_is_a_sequence_with_one_explicitly_tagged_octet_string():
    nonce = bytes(range(32))
    # SEQUENCE (0x30) of 36 octets, [1] EXPLICIT (0xA1) of 34, OCTET STRING (0x04) of 32
    assert apple_nonce_extension(nonce) == bytes.fromhex("3024a1220420") + nonce


def test_the_apple_nonce_is_the_hash_of_authenticator_data_and_client_data_hash():
    credential = registration(SoftKey(APPLE_MODEL, fmt="apple", authority=GOOD_ROOT))
    parsed = parse_registration(credential)
    cred_cert = x509.load_der_x509_certificate(statement_of(credential)["x5c"][0])

    nonce = hashlib.sha256(
        bytes(parsed.attestation_object.auth_data) + parsed.client_data_hash
    ).digest()
    value = cred_cert.extensions.get_extension_for_oid(APPLE_NONCE_EXTENSION).value.value
    assert value == apple_nonce_extension(nonce)


def test_an_apple_statement_verifies_and_names_an_apple_device():
    credential = registration(SoftKey(APPLE_MODEL, fmt="apple", authority=GOOD_ROOT))

    kind, trust_path = verify_statement(parse_registration(credential))
    verdict = verdict_of(credential)

    assert kind == AttestationType.ANON_CA
    assert trust_path == statement_of(credential)["x5c"]
    assert verdict["fmt"] == "apple" and verdict["key_type"] == "apple"
    assert verdict["trust_reason"] != NOT_VERIFIED


def test_an_apple_device_is_never_eligible_even_when_trusted_and_certified():
    verdict = verdict_of(registration(SoftKey(APPLE_MODEL, fmt="apple", authority=GOOD_ROOT)))

    assert verdict["attestation_trusted"], verdict["trust_reason"]
    assert verdict["description"] == "Soft Apple Passkey"
    assert verdict["certification_level"] == "FIDO_CERTIFIED_L1"
    assert not verdict["nia_eligible"]
    assert verdict["reasons"] == [APPLE_REASON]


def test_an_anonymous_apple_passkey_is_unknown_and_not_eligible():
    """Apple's own passkeys report the zero AAGUID: no model, and still an Apple device."""
    verdict = verdict_of(registration(SoftKey(uuid.UUID(int=0), fmt="apple", authority=GOOD_ROOT)))

    assert verdict["key_type"] == "apple"
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    assert APPLE_REASON in verdict["reasons"]


def test_an_apple_nonce_over_another_challenge_does_not_verify():
    credential = registration(
        SoftKey(APPLE_MODEL, fmt="apple", authority=GOOD_ROOT, wrong_challenge=True)
    )
    verdict = verdict_of(credential)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    assert verdict["key_type"] == "apple" and APPLE_REASON in verdict["reasons"]
    with pytest.raises(InvalidRegistrationResponse, match="nonce"):
        spec_check(credential, GOOD_ROOT)


@pytest.mark.parametrize("fmt", ["apple", "android-key"])
def test_a_certificate_for_another_key_does_not_verify(fmt):
    """python-fido2's apple verifier leaves this check out; ours does not."""
    model = APPLE_MODEL if fmt == "apple" else ANDROID_MODEL
    key = SoftKey(model, fmt=fmt, authority=GOOD_ROOT, foreign_certificate_key=True)

    verdict = verdict_of(registration(key))

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["nia_eligible"]


# Android Key Attestation


def _key_description(credential: dict) -> bytes:
    leaf = x509.load_der_x509_certificate(statement_of(credential)["x5c"][0])
    return leaf.extensions.get_extension_for_oid(ANDROID_KEY_DESCRIPTION_EXTENSION).value.value


def android_phone(**options) -> SoftKey:
    return SoftKey(ANDROID_MODEL, fmt="android-key", **{"authority": GOOD_ROOT, **options})


def test_an_android_key_statement_is_what_the_specification_prescribes():
    credential = registration(android_phone())
    statement = statement_of(credential)

    assert set(statement) == {"alg", "sig", "x5c"} and statement["alg"] == COSE_ES256
    assert holds_the_credential_key(statement["x5c"][0], credential)
    assert statement["x5c"][-1] == GOOD_ROOT.der  # a phone sends the chain up to its root
    assert parse_registration(credential).client_data_hash in _key_description(credential)
    # Signature by the credential key, key match, challenge, allApplications absent,
    # origin = generated and purpose = sign in the TEE-enforced list, chain to the root:
    spec_check(credential, GOOD_ROOT)


def test_an_android_phone_of_a_certified_model_is_trusted_and_eligible():
    verdict = verdict_of(registration(android_phone()))

    assert verdict["attestation_trusted"], verdict["trust_reason"]
    assert verdict["description"] == "Soft Android Phone"
    assert verdict["certification_level"] == "FIDO_CERTIFIED_L1"
    assert verdict["key_type"] == "android"
    assert verdict["nia_eligible"] and verdict["reasons"] == []


def test_an_android_key_statement_over_another_challenge_does_not_verify():
    credential = registration(android_phone(wrong_challenge=True))
    verdict = verdict_of(credential)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert verdict["key_type"] == "android"
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    # The challenge, and only the challenge, is what is wrong with the statement:
    assert OTHER_CLIENT_DATA_HASH in _key_description(credential)
    with pytest.raises(InvalidRegistrationResponse, match="attestationChallenge"):
        spec_check(credential, GOOD_ROOT)


def test_an_android_phone_chaining_to_another_root_is_not_trusted():
    credential = registration(android_phone(authority=OTHER_ROOT))
    verdict = verdict_of(credential)

    assert "does not chain" in verdict["trust_reason"]
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    assert verdict["description"] is None and verdict["certification_level"] is None
    spec_check(credential, OTHER_ROOT)  # a sound statement, just from another vendor


UNACCEPTABLE_ANDROID_KEYS = {  # authorizations that WebAuthn refuses, and what py_webauthn says
    "usable-by-all-apps": ({"all_applications": True}, "allApplications"),
    "imported-not-generated": ({"origin": KM_ORIGIN_IMPORTED}, "origin"),
    "not-for-signing": ({"purposes": (KM_PURPOSE_VERIFY,)}, "purpose"),
}


@pytest.mark.parametrize("case", UNACCEPTABLE_ANDROID_KEYS)
def test_the_soft_phone_can_make_keys_webauthn_refuses(case):
    authorizations, why = UNACCEPTABLE_ANDROID_KEYS[case]
    credential = registration(android_phone(android_authorizations=authorizations))

    with pytest.raises(InvalidRegistrationResponse, match=why):
        spec_check(credential, GOOD_ROOT)  # that one authorization is what is wrong


@pytest.mark.parametrize(
    "case", ["usable-by-all-apps", "imported-not-generated", "not-for-signing"]
)
def test_an_android_key_webauthn_refuses_does_not_verify(case):
    authorizations, _ = UNACCEPTABLE_ANDROID_KEYS[case]
    verdict = verdict_of(registration(android_phone(android_authorizations=authorizations)))

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["nia_eligible"]


FRESH_PROCESS_VERIFY = """
import json, sys
from twofactor.internal.attestation import parse_registration, verify_statement
verify_statement(parse_registration(json.load(sys.stdin)))
"""


def test_an_android_key_statement_verifies_in_a_fresh_process_too():
    """The verdict on a key may not depend on what the process happened to import before."""
    checked = subprocess.run(  # no Django, no database: verify_statement is pure
        [sys.executable, "-c", FRESH_PROCESS_VERIFY],
        input=json.dumps(registration(android_phone())),
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert checked.returncode == 0, checked.stderr.strip().splitlines()[-1]


# What kind of key a packed attestation is, from the model's metadata


@pytest.mark.parametrize(
    ("aaguid", "kind"),
    [(WINDOWS_HELLO, "windows_hello"), (HARDWARE_KEY, "hardware"), (OTHER_PLATFORM, "unknown")],
)
def test_a_packed_key_is_classified_by_its_metadata(aaguid, kind):
    verdict = verdict_of(registration(SoftKey(aaguid, authority=GOOD_ROOT)))

    assert verdict["attestation_trusted"], verdict["trust_reason"]
    assert verdict["key_type"] == kind
    assert verdict["nia_eligible"]


def test_a_packed_key_whose_model_is_not_believed_is_of_unknown_kind():
    """The Windows Hello description only counts once the chain proves the model."""
    verdict = verdict_of(registration(SoftKey(WINDOWS_HELLO, authority=OTHER_ROOT)))

    assert not verdict["attestation_trusted"]
    assert verdict["key_type"] == "unknown"
