"""What the platform-attestation tests share: one registration ceremony's constants, a metadata
entry, the verdict of our inspector, and py_webauthn's independent check of the statement."""

import json

from cryptography.hazmat.primitives import serialization
from webauthn import verify_registration_response
from webauthn.helpers.structs import AttestationFormat

from twofactor.inspector import inspect
from twofactor.internal.attestation import parse_registration

from .softkey import CertificateAuthority, SoftKey

CHALLENGE, ORIGIN, RP_ID = b"p" * 32, "https://mojeid.example", "mojeid.example"
NOT_VERIFIED = "the attestation statement does not verify"


def metadata_entry(aaguid, description, hints, roots) -> dict:
    """A certified (L1) model in the shape of an MDS3 entry."""
    return {
        "aaguid": str(aaguid),
        "metadataStatement": {
            "description": description,
            "protocolFamily": "fido2",
            "attestationRootCertificates": [root.b64 for root in roots],
            "attachmentHint": hints,
        },
        "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
    }


def registration(key: SoftKey) -> dict:
    return key.register(challenge=CHALLENGE, origin=ORIGIN, rp_id=RP_ID)


def verdict_of(credential: dict) -> dict:
    return inspect(json.dumps(credential)).as_dict()


def statement_of(credential: dict) -> dict:
    return parse_registration(credential).attestation_object.att_stmt


def spec_check(credential: dict, root: CertificateAuthority) -> None:
    """py_webauthn's verification of the statement, trusting `root` for the platform formats;
    raises InvalidRegistrationResponse with its reason."""
    pem = root.certificate.public_bytes(serialization.Encoding.PEM)
    verify_registration_response(
        credential=credential,
        expected_challenge=CHALLENGE,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        pem_root_certs_bytes_by_fmt={
            fmt: [pem]
            for fmt in (
                AttestationFormat.APPLE,
                AttestationFormat.ANDROID_KEY,
                AttestationFormat.TPM,
            )
        },
    )
