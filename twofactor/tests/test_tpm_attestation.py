"""TPM attestation (Windows Hello) against a test metadata set.

The soft authenticator writes `tpm` statements from WebAuthn §8.3 and the TPM 2.0 structures
(TPMT_PUBLIC, TPMS_ATTEST); py_webauthn serves as an independent check that they are what the
specification prescribes, and `inspect` (python-fido2's TPM verifier underneath) is then asked what
it makes of them.
"""

import base64
import hashlib
import struct
import uuid

import pytest
from cryptography import x509
from fido2 import cbor
from fido2.attestation import AttestationType
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
    AAGUID_EXTENSION,
    COSE_RS256,
    OTHER_CLIENT_DATA_HASH,
    TCG_AT_TPM_MANUFACTURER,
    TCG_KP_AIK_CERTIFICATE,
    TPM_ALG_RSA,
    TPM_ALG_SHA256,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_CERTIFY,
    TPMA_NO_DA,
    CertificateAuthority,
    SoftKey,
    b64url,
    der_octet_string,
)

pytestmark = pytest.mark.django_db

TPM_ROOT = CertificateAuthority("Soft TPM Root")
OTHER_ROOT = CertificateAuthority("Other TPM Root")

WINDOWS_HELLO = uuid.UUID("b3b3b3b3-0000-4000-8000-000000000001")
OTHER_MODEL = uuid.UUID("b3b3b3b3-0000-4000-8000-000000000002")


@pytest.fixture(autouse=True)
def metadata(db):
    entries = [
        metadata_entry(
            WINDOWS_HELLO, "Soft Windows Hello Hardware Authenticator", ["internal"], [TPM_ROOT]
        ),
        metadata_entry(OTHER_MODEL, "Soft Other TPM Authenticator", ["internal"], [TPM_ROOT]),
    ]
    load_payload({"no": 1, "entries": entries}, source=MetadataSource.BLOB)


def windows_hello(**options) -> SoftKey:
    return SoftKey(WINDOWS_HELLO, fmt="tpm", **{"authority": TPM_ROOT, **options})


def with_statement(credential: dict, **changes) -> dict:
    """The credential with some fields of its attestation statement replaced, as an attacker
    would edit them (nothing re-signed)."""
    encoded = credential["response"]["attestationObject"]
    attestation = cbor.decode(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    attestation["attStmt"] = {**attestation["attStmt"], **changes}
    response = {**credential["response"], "attestationObject": b64url(cbor.encode(attestation))}
    return {**credential, "response": response}


# The statement itself


def test_a_tpm_statement_is_what_the_specification_prescribes():
    credential = registration(windows_hello())
    statement = statement_of(credential)

    assert set(statement) == {"ver", "alg", "x5c", "sig", "certInfo", "pubArea"}
    assert statement["ver"] == "2.0" and statement["alg"] == COSE_RS256
    assert len(statement["x5c"]) == 2  # the AIK certificate and the AIK CA, not the root
    # Key match, extraData, attested name, AIK signature, AIK certificate profile, chain:
    spec_check(credential, TPM_ROOT)


def test_the_credential_is_an_rsa_2048_key_described_by_pub_area():
    credential = registration(windows_hello())
    parsed = parse_registration(credential)
    public_key = parsed.attestation_object.auth_data.credential_data.public_key
    pub_area = statement_of(credential)["pubArea"]

    assert public_key[3] == COSE_RS256  # COSE alg RS256, as Windows Hello registers
    kind, name_alg, _attributes, policy_size = struct.unpack(">HHIH", pub_area[:10])
    assert (kind, name_alg, policy_size) == (TPM_ALG_RSA, TPM_ALG_SHA256, 0)
    # symmetric NULL, scheme NULL, keyBits 2048, exponent 0 (= 65537), then the modulus:
    assert struct.unpack(">HHHI", pub_area[10:20]) == (0x0010, 0x0010, 2048, 0)
    assert pub_area[20:] == struct.pack(">H", 256) + public_key[-1]


def test_cert_info_certifies_pub_area_for_this_registration():
    credential = registration(windows_hello())
    parsed = parse_registration(credential)
    statement = statement_of(credential)
    cert_info = statement["certInfo"]

    magic, kind, signer_size = struct.unpack(">IHH", cert_info[:8])
    assert (magic, kind) == (TPM_GENERATED_VALUE, TPM_ST_ATTEST_CERTIFY)
    rest = cert_info[8 + signer_size :]
    (extra_size,) = struct.unpack(">H", rest[:2])
    att_to_be_signed = bytes(parsed.attestation_object.auth_data) + parsed.client_data_hash
    assert rest[2 : 2 + extra_size] == hashlib.sha256(att_to_be_signed).digest()
    rest = rest[2 + extra_size + 17 + 8 :]  # clockInfo, firmwareVersion
    (name_size,) = struct.unpack(">H", rest[:2])
    name = rest[2 : 2 + name_size]
    assert name == struct.pack(">H", TPM_ALG_SHA256) + hashlib.sha256(statement["pubArea"]).digest()


def test_the_aik_certificate_has_the_tpm_profile():
    aik = x509.load_der_x509_certificate(statement_of(registration(windows_hello()))["x5c"][0])

    assert aik.version == x509.Version.v3 and len(aik.subject) == 0
    san = aik.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    (directory,) = san.value.get_values_for_type(x509.DirectoryName)
    assert directory.get_attributes_for_oid(TCG_AT_TPM_MANUFACTURER)
    eku = aik.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [TCG_KP_AIK_CERTIFICATE]
    assert not aik.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aaguid = aik.extensions.get_extension_for_oid(AAGUID_EXTENSION).value.value
    assert aaguid == der_octet_string(WINDOWS_HELLO.bytes)


def test_an_ecc_credential_is_spec_shaped_too():
    credential = registration(windows_hello(tpm_key="ecc"))

    kind, _ = verify_statement(parse_registration(credential))
    assert kind == AttestationType.ATT_CA
    spec_check(credential, TPM_ROOT)


# What the portal makes of it


def test_a_windows_hello_of_a_certified_model_is_trusted_and_eligible():
    credential = registration(windows_hello())

    kind, trust_path = verify_statement(parse_registration(credential))
    verdict = verdict_of(credential)

    assert kind == AttestationType.ATT_CA and trust_path == statement_of(credential)["x5c"]
    assert verdict["fmt"] == "tpm"
    assert verdict["attestation_trusted"], verdict["trust_reason"]
    assert verdict["description"] == "Soft Windows Hello Hardware Authenticator"
    assert verdict["key_type"] == "windows_hello"
    assert verdict["certification_level"] == "FIDO_CERTIFIED_L1"
    assert verdict["nia_eligible"] and verdict["reasons"] == []


def test_a_tpm_statement_over_another_challenge_does_not_verify():
    credential = registration(windows_hello(wrong_challenge=True))
    verdict = verdict_of(credential)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    assert verdict["key_type"] == "windows_hello"
    # The challenge, and only the challenge, is what is wrong with the statement:
    parsed = parse_registration(credential)
    other = bytes(parsed.attestation_object.auth_data) + OTHER_CLIENT_DATA_HASH
    assert hashlib.sha256(other).digest() in statement_of(credential)["certInfo"]
    with pytest.raises(InvalidRegistrationResponse, match="extra data"):
        spec_check(credential, TPM_ROOT)


def test_a_windows_hello_chaining_to_another_root_is_not_trusted():
    credential = registration(windows_hello(authority=OTHER_ROOT))
    verdict = verdict_of(credential)

    assert "does not chain" in verdict["trust_reason"]
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    assert verdict["description"] is None and verdict["certification_level"] is None
    spec_check(credential, OTHER_ROOT)  # a sound statement, just from another vendor
    with pytest.raises(InvalidRegistrationResponse, match="chain"):
        spec_check(credential, TPM_ROOT)


def _flip_last_modulus_bit(pub_area: bytes) -> bytes:
    return pub_area[:-1] + bytes([pub_area[-1] ^ 0x01])


def _clear_no_da(pub_area: bytes) -> bytes:
    (attributes,) = struct.unpack(">I", pub_area[4:8])
    return pub_area[:4] + struct.pack(">I", attributes & ~TPMA_NO_DA) + pub_area[8:]


TAMPERED_PUB_AREAS = {  # an edit to pubArea, and what py_webauthn says about it
    "another-modulus": (_flip_last_modulus_bit, "unique"),  # not the credential key
    "other-attributes": (_clear_no_da, "attested name"),  # same key, not what was certified
}


@pytest.mark.parametrize("case", TAMPERED_PUB_AREAS)
def test_a_tampered_pub_area_does_not_verify(case):
    tamper, why = TAMPERED_PUB_AREAS[case]
    credential = registration(windows_hello())
    tampered = with_statement(credential, pubArea=tamper(statement_of(credential)["pubArea"]))

    verdict = verdict_of(tampered)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]
    with pytest.raises(InvalidRegistrationResponse, match=why):
        spec_check(tampered, TPM_ROOT)
    spec_check(credential, TPM_ROOT)  # the untouched registration was sound


def test_a_tpm_certifying_another_key_does_not_verify():
    """pubArea and certInfo are consistent and signed, but describe a key that is not the
    credential's: only the comparison with the credential public key catches it."""
    credential = registration(windows_hello(foreign_certificate_key=True))

    verdict = verdict_of(credential)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["nia_eligible"]
    with pytest.raises(InvalidRegistrationResponse, match="unique"):
        spec_check(credential, TPM_ROOT)


def test_a_tampered_signature_does_not_verify():
    credential = registration(windows_hello())
    signature = statement_of(credential)["sig"]
    tampered = with_statement(credential, sig=signature[:-1] + bytes([signature[-1] ^ 0x01]))

    assert verdict_of(tampered)["trust_reason"] == NOT_VERIFIED


def test_an_aik_certificate_for_another_model_does_not_verify():
    """WebAuthn §8.3: if aikCert has the id-fido-gen-ce-aaguid extension, its value must be
    the AAGUID in authenticatorData. Here the root vouches for both models, so only that check
    stops a key of one model claiming to be another."""
    credential = registration(windows_hello(aik_aaguid=OTHER_MODEL))

    verdict = verdict_of(credential)

    assert verdict["trust_reason"] == NOT_VERIFIED
    assert not verdict["nia_eligible"]
