"""Platform attestation formats that python-fido2 leaves unchecked or only half-checked.

python-fido2 ships no `android-key` verifier at all: the only one around is the fido-mds package's,
which registers itself when that package happens to be imported and checks the origin and purpose
fields for presence, not value. Its `apple` verifier skips the check that the certificate holds
the credential's own key, and its `tpm` verifier the check that the AIK certificate is for the
model the key reports (AAGUID). The verdict on a key must not depend on what a process imported,
so `twofactor.internal.attestation` uses these classes for the three formats, always.

They follow the WebAuthn Level 2 procedures (§8.3 tpm, §8.4 android-key, §8.8 apple). For Android
we accept only what the trusted execution environment enforces (`teeEnforced`): the key must have
been generated inside it and be usable for signing only. A key whose properties only the Android
software vouches for proves nothing about the hardware.
"""

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from fido2.attestation import AttestationResult, AttestationType, InvalidData
from fido2.attestation.apple import AppleAttestation
from fido2.attestation.tpm import TpmAttestation
from fido2.cose import CoseKey
from pyasn1.codec.der.decoder import decode as der_decode
from pyasn1.error import PyAsn1Error
from webauthn.helpers.asn1.android_key import KeyDescription, KeyOrigin, KeyPurpose

ANDROID_KEY_DESCRIPTION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
AAGUID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def _holds_credential_key(certificate: x509.Certificate, auth_data) -> bool:
    """The certificate's public key is the credential's own (compared in COSE form)."""
    credential_key = auth_data.credential_data.public_key
    try:
        return type(credential_key).from_cryptography_key(certificate.public_key()) == dict(
            credential_key
        )
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        return False  # a key type the credential's algorithm cannot hold


class AndroidKeyAttestation:
    """`android-key`: a key in the phone's keystore, attested by Google's hardware root."""

    FORMAT = "android-key"

    def verify(self, statement: dict, auth_data, client_data_hash: bytes) -> AttestationResult:
        try:
            alg, signature, x5c = statement["alg"], statement["sig"], statement["x5c"]
            certificate = x509.load_der_x509_certificate(x5c[0])
            CoseKey.for_alg(alg).from_cryptography_key(certificate.public_key()).verify(
                bytes(auth_data) + client_data_hash, signature
            )
        except InvalidSignature:
            raise InvalidData("the signature does not match") from None
        except (KeyError, IndexError, TypeError, ValueError, NotImplementedError) as problem:
            raise InvalidData(f"malformed android-key statement: {problem}") from None
        if not _holds_credential_key(certificate, auth_data):
            raise InvalidData("the certificate does not hold the credential's key")
        try:
            extension = certificate.extensions.get_extension_for_oid(ANDROID_KEY_DESCRIPTION)
            description, rest = der_decode(extension.value.value, asn1Spec=KeyDescription())
        except (x509.ExtensionNotFound, PyAsn1Error, AttributeError) as problem:
            raise InvalidData(f"no readable key description: {problem}") from None
        if rest:
            raise InvalidData("the key description has trailing data")
        if bytes(description["attestationChallenge"]) != client_data_hash:
            raise InvalidData("the attested challenge is not this registration's")
        software, tee = description["softwareEnforced"], description["teeEnforced"]
        if software["allApplications"].hasValue() or tee["allApplications"].hasValue():
            raise InvalidData("the key is usable by all applications, not scoped to this site")
        if not tee["origin"].hasValue() or int(tee["origin"]) != KeyOrigin.GENERATED:
            raise InvalidData("the key was not generated in the trusted execution environment")
        if not tee["purpose"].hasValue() or [int(p) for p in tee["purpose"]] != [KeyPurpose.SIGN]:
            raise InvalidData("the key is not restricted to signing")
        return AttestationResult(AttestationType.BASIC, list(x5c))


class StrictTpmAttestation:
    """`tpm`: python-fido2's checks, plus the AAGUID of the AIK certificate it leaves out.

    WebAuthn §8.3: if the AIK certificate carries the AAGUID extension, it must equal the AAGUID
    in the authenticator data. Without this a key could claim another model of the same vendor
    root, and that model's certification.
    """

    FORMAT = "tpm"

    def verify(self, statement: dict, auth_data, client_data_hash: bytes) -> AttestationResult:
        result = TpmAttestation().verify(statement, auth_data, client_data_hash)
        try:
            certificate = x509.load_der_x509_certificate(statement["x5c"][0])
            extension = certificate.extensions.get_extension_for_oid(AAGUID_EXTENSION)
        except x509.ExtensionNotFound:
            return result
        except (KeyError, IndexError, TypeError, ValueError) as problem:
            raise InvalidData(f"malformed tpm statement: {problem}") from None
        value = extension.value.value
        # An OCTET STRING (04 10) holding the 16 bytes, as in packed attestation.
        if value[:2] != b"\x04\x10" or value[2:] != bytes(auth_data.credential_data.aaguid):
            raise InvalidData("the AIK certificate is for another model (AAGUID)")
        return result


class StrictAppleAttestation:
    """`apple`: python-fido2's nonce check, plus the key check it leaves out."""

    FORMAT = "apple"

    def verify(self, statement: dict, auth_data, client_data_hash: bytes) -> AttestationResult:
        result = AppleAttestation().verify(statement, auth_data, client_data_hash)
        try:
            certificate = x509.load_der_x509_certificate(statement["x5c"][0])
        except (KeyError, IndexError, TypeError, ValueError) as problem:
            raise InvalidData(f"malformed apple statement: {problem}") from None
        if not _holds_credential_key(certificate, auth_data):
            raise InvalidData("the certificate does not hold the credential's key")
        return result


VERIFIERS: dict[str, type] = {
    AndroidKeyAttestation.FORMAT: AndroidKeyAttestation,
    StrictAppleAttestation.FORMAT: StrictAppleAttestation,
    StrictTpmAttestation.FORMAT: StrictTpmAttestation,
}
