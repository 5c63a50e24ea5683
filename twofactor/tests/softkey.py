"""A software FIDO authenticator for the tests, built from the specifications with `cryptography`.

It makes real registrations (CBOR attestation objects, COSE keys, X.509 attestation chains) in the
formats packed (with a certificate chain, or self attestation), fido-u2f and none, as a browser
would hand them to the portal in the `PublicKeyCredential.toJSON()` shape.
"""

import base64
import hashlib
import json
import os
import struct
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.cose import ES256

AAGUID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
FLAG_USER_PRESENT, FLAG_USER_VERIFIED, FLAG_ATTESTED = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Soft Keys s.r.o."),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


@dataclass
class CertificateAuthority:
    """A self-signed attestation root, as a vendor lists it in the FIDO metadata."""

    name: str = "Soft Keys Root CA"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    valid_days: int = 3650

    def __post_init__(self):
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(self.name))
            .issuer_name(_name(self.name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=self.valid_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.der).decode()

    def issue_attestation_certificate(
        self, aaguid: uuid.UUID | None, *, expired: bool = False, packed: bool = True
    ) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        """A batch attestation key and its certificate (packed profile unless packed=False)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=400), now - timedelta(days=1))
            if expired
            else (
                now - timedelta(days=1),
                now + timedelta(days=365),
            )
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("Soft Key Batch", "Authenticator Attestation" if packed else None))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if aaguid is not None and packed:
            value = b"\x04\x10" + aaguid.bytes  # OCTET STRING holding the 16 AAGUID bytes
            builder = builder.add_extension(
                x509.UnrecognizedExtension(AAGUID_EXTENSION, value), critical=False
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        return key, certificate.public_bytes(serialization.Encoding.DER)


@dataclass
class SoftKey:
    """One authenticator: a model (AAGUID), an attestation format, and its credentials."""

    aaguid: uuid.UUID
    fmt: str = "packed"  # packed | packed-self | fido-u2f | none
    authority: CertificateAuthority | None = None
    expired_certificate: bool = False
    sign_count: int = 0
    credentials: dict = field(default_factory=dict)  # credential id → private key

    def __post_init__(self):
        self.attestation_key = self.attestation_certificate = None
        if self.fmt in ("packed", "fido-u2f"):
            authority = self.authority or CertificateAuthority()
            self.authority = authority
            self.attestation_key, self.attestation_certificate = (
                authority.issue_attestation_certificate(
                    self.aaguid if self.fmt == "packed" else None,
                    expired=self.expired_certificate,
                    packed=self.fmt == "packed",
                )
            )

    def register(
        self, *, challenge: bytes, origin: str, rp_id: str, client_data: dict | None = None
    ) -> dict:
        """What the browser's `credential.toJSON()` gives after navigator.credentials.create()."""
        credential_id = os.urandom(32)
        key = ec.generate_private_key(ec.SECP256R1())
        self.credentials[credential_id] = key
        cose_key = ES256.from_cryptography_key(key.public_key())
        client_data_json = json.dumps(
            client_data
            or {
                "type": "webauthn.create",
                "challenge": b64url(challenge),
                "origin": origin,
                "crossOrigin": False,
            }
        ).encode()
        client_data_hash = hashlib.sha256(client_data_json).digest()
        rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        aaguid = uuid.UUID(int=0) if self.fmt in ("fido-u2f",) else self.aaguid
        auth_data = (
            rp_id_hash
            + bytes([FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED])
            + struct.pack(">I", self.sign_count)
            + aaguid.bytes
            + struct.pack(">H", len(credential_id))
            + credential_id
            + cbor.encode(cose_key)
        )
        statement = self._statement(auth_data, client_data_hash, rp_id_hash, credential_id, key)
        fmt = "packed" if self.fmt == "packed-self" else self.fmt
        attestation_object = cbor.encode({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data_json),
                "attestationObject": b64url(attestation_object),
                "transports": ["usb"],
            },
        }

    def authenticate(
        self,
        credential_id: bytes,
        *,
        challenge: bytes,
        origin: str,
        rp_id: str,
        sign_count: int | None = None,
    ) -> dict:
        """What `credential.toJSON()` gives after navigator.credentials.get()."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data_json = json.dumps(
            {"type": "webauthn.get", "challenge": b64url(challenge), "origin": origin}
        ).encode()
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([FLAG_USER_PRESENT | FLAG_USER_VERIFIED])
            + struct.pack(">I", self.sign_count)
        )
        signature = self.credentials[credential_id].sign(
            auth_data + hashlib.sha256(client_data_json).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data_json),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
            },
        }

    def _statement(self, auth_data, client_data_hash, rp_id_hash, credential_id, key) -> dict:
        signature = ec.ECDSA(hashes.SHA256())
        if self.fmt == "none":
            return {}
        if self.fmt == "packed-self":
            return {"alg": -7, "sig": key.sign(auth_data + client_data_hash, signature)}
        if self.fmt == "packed":
            return {
                "alg": -7,
                "sig": self.attestation_key.sign(auth_data + client_data_hash, signature),
                "x5c": [self.attestation_certificate],
            }
        # fido-u2f: the signature covers a fixed layout with the raw (uncompressed) public key.
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        signed = b"\x00" + rp_id_hash + client_data_hash + credential_id + point
        return {
            "sig": self.attestation_key.sign(signed, signature),
            "x5c": [self.attestation_certificate],
        }
