"""A software FIDO authenticator for the tests, built from the specifications with `cryptography`.

It makes real registrations (CBOR attestation objects, COSE keys, X.509 attestation chains) in the
formats packed (with a certificate chain, or self attestation), fido-u2f, none, and the platform
formats apple (Apple anonymous attestation) and android-key (Android Key Attestation), as a browser
would hand them to the portal in the `PublicKeyCredential.toJSON()` shape.

The platform formats follow W3C WebAuthn §8.8 (apple) and §8.4 (android-key); their certificate
extensions are written in DER (X.690) by the small `der_*` helpers below.
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
COSE_ES256 = -7  # the `alg` of an ECDSA P-256 / SHA-256 signature

# The formats of platform authenticators (built into the phone or computer, not plugged in).
PLATFORM_FORMATS = ("apple", "android-key")

# Apple anonymous attestation (WebAuthn §8.8): credCert carries SEQUENCE { [1] EXPLICIT OCTET STRING
# nonce } under this extension, nonce = SHA-256(authenticatorData || clientDataHash).
APPLE_NONCE_EXTENSION = x509.ObjectIdentifier("1.2.840.113635.100.8.2")
APPLE_NONCE_TAG = 1

# Android Key Attestation (WebAuthn §8.4, Android Keystore "key attestation"): the leaf certificate
# of the credential key carries a KeyDescription under this extension.
ANDROID_KEY_DESCRIPTION_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
ANDROID_ATTESTATION_VERSION = 3  # the KeyDescription schema of Keymaster 4
ANDROID_KEYMASTER_VERSION = 4
SECURITY_LEVEL_TRUSTED_ENVIRONMENT = 1  # SecurityLevel: the key lives in the phone's TEE
# AuthorizationList fields: [tag] EXPLICIT, tag = the Keymaster tag number.
KM_TAG_PURPOSE, KM_TAG_ALGORITHM, KM_TAG_KEY_SIZE, KM_TAG_DIGEST, KM_TAG_EC_CURVE = 1, 2, 3, 5, 10
KM_TAG_ALL_APPLICATIONS, KM_TAG_CREATION_DATETIME, KM_TAG_ORIGIN = 600, 701, 702
# ... and their values.
KM_PURPOSE_SIGN, KM_PURPOSE_VERIFY = 2, 3
KM_ALGORITHM_EC = 3
KM_DIGEST_SHA_2_256 = 4
KM_EC_CURVE_P_256 = 1
KM_ORIGIN_GENERATED, KM_ORIGIN_IMPORTED = 0, 2
P256_KEY_SIZE = 256

# What a key made with `wrong_challenge=True` binds its credential to instead of the real
# clientDataHash: the hash of some other clientDataJSON, as in a replayed or forged statement.
OTHER_CLIENT_DATA_HASH = hashlib.sha256(b'{"type":"webauthn.create","challenge":"other"}').digest()

# DER identifier octets (X.690 §8.1.2) for the few types the extensions use.
DER_INTEGER, DER_OCTET_STRING, DER_NULL, DER_ENUMERATED = 0x02, 0x04, 0x05, 0x0A
DER_SEQUENCE, DER_SET = 0x30, 0x31  # both constructed
DER_CONTEXT_CONSTRUCTED = 0xA0  # class context-specific, constructed: an EXPLICIT tag
DER_HIGH_TAG_NUMBER = 0x1F  # low five bits saying "the tag number follows, in base 128"
DER_LONG_LENGTH = 0x80  # lengths from this on take the long form (X.690 §8.1.3.5)
BASE_128_DIGIT, BASE_128_MORE = 0x7F, 0x80  # a high tag number: 7 bits an octet, "more" flag


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der(identifier: bytes | int, content: bytes) -> bytes:
    """One DER element: identifier octets, definite length (short or long form), content."""
    if isinstance(identifier, int):
        identifier = bytes([identifier])
    if len(content) < DER_LONG_LENGTH:
        length = bytes([len(content)])
    else:
        size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
        length = bytes([DER_LONG_LENGTH | len(size)]) + size
    return identifier + length + content


def der_integer(value: int, identifier: int = DER_INTEGER) -> bytes:
    """A non-negative INTEGER (or ENUMERATED) in the fewest two's-complement octets."""
    assert value >= 0, "negative values are not needed here"
    size = value.bit_length() // 8 + 1  # room for the sign bit
    return der(identifier, value.to_bytes(size, "big", signed=True))


def der_enumerated(value: int) -> bytes:
    return der_integer(value, DER_ENUMERATED)


def der_octet_string(value: bytes) -> bytes:
    return der(DER_OCTET_STRING, value)


def der_null() -> bytes:
    return der(DER_NULL, b"")


def der_sequence(*elements: bytes) -> bytes:
    return der(DER_SEQUENCE, b"".join(elements))


def der_set_of(*elements: bytes) -> bytes:
    """A SET OF: DER wants the elements in the order of their encodings (X.690 §11.6)."""
    return der(DER_SET, b"".join(sorted(elements)))


def der_explicit(tag_number: int, element: bytes) -> bytes:
    """`[tag_number] EXPLICIT element`, in the high-tag-number form from 31 on (X.690 §8.1.2.4)."""
    if tag_number < DER_HIGH_TAG_NUMBER:
        return der(DER_CONTEXT_CONSTRUCTED | tag_number, element)
    digits = [tag_number & BASE_128_DIGIT]  # least significant first
    while tag_number := tag_number >> BASE_128_DIGIT.bit_length():
        digits.append(tag_number & BASE_128_DIGIT)
    *leading, last = reversed(digits)
    number = bytes([digit | BASE_128_MORE for digit in leading] + [last])
    return der(bytes([DER_CONTEXT_CONSTRUCTED | DER_HIGH_TAG_NUMBER]) + number, element)


def apple_nonce_extension(nonce: bytes) -> bytes:
    """The value of Apple's nonce extension: SEQUENCE { [1] EXPLICIT OCTET STRING nonce }."""
    return der_sequence(der_explicit(APPLE_NONCE_TAG, der_octet_string(nonce)))


def android_key_description(
    attestation_challenge: bytes,
    *,
    created: datetime,
    origin: int = KM_ORIGIN_GENERATED,
    purposes: tuple[int, ...] = (KM_PURPOSE_SIGN,),
    all_applications: bool = False,
) -> bytes:
    """A KeyDescription as a phone's TEE writes it for a P-256 signing key it generated.

    The keywords make keys WebAuthn must refuse: imported rather than generated in the TEE, not
    for signing, or usable by every app (`all_applications`).

    KeyDescription ::= SEQUENCE { attestationVersion INTEGER, attestationSecurityLevel
    SecurityLevel, keymasterVersion INTEGER, keymasterSecurityLevel SecurityLevel,
    attestationChallenge OCTET STRING, uniqueId OCTET STRING, softwareEnforced AuthorizationList,
    teeEnforced AuthorizationList }. The AuthorizationList fields go in the order of their tags;
    By default `allApplications` (KM_TAG_ALL_APPLICATIONS) is absent, as WebAuthn requires: the
    key is scoped to the RP ID.
    """
    created_ms = int(created.timestamp() * 1000)  # creationDateTime: milliseconds since the epoch
    software_enforced = der_sequence(
        *([der_explicit(KM_TAG_ALL_APPLICATIONS, der_null())] if all_applications else []),
        der_explicit(KM_TAG_CREATION_DATETIME, der_integer(created_ms)),
    )
    tee_enforced = der_sequence(
        der_explicit(KM_TAG_PURPOSE, der_set_of(*(der_integer(p) for p in purposes))),
        der_explicit(KM_TAG_ALGORITHM, der_integer(KM_ALGORITHM_EC)),
        der_explicit(KM_TAG_KEY_SIZE, der_integer(P256_KEY_SIZE)),
        der_explicit(KM_TAG_DIGEST, der_set_of(der_integer(KM_DIGEST_SHA_2_256))),
        der_explicit(KM_TAG_EC_CURVE, der_integer(KM_EC_CURVE_P_256)),
        der_explicit(KM_TAG_ORIGIN, der_integer(origin)),
    )
    return der_sequence(
        der_integer(ANDROID_ATTESTATION_VERSION),
        der_enumerated(SECURITY_LEVEL_TRUSTED_ENVIRONMENT),
        der_integer(ANDROID_KEYMASTER_VERSION),
        der_enumerated(SECURITY_LEVEL_TRUSTED_ENVIRONMENT),
        der_octet_string(attestation_challenge),
        der_octet_string(b""),  # uniqueId: only for device-unique attestation
        software_enforced,
        tee_enforced,
    )


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
    """A self-signed attestation root, as a vendor lists it in the FIDO metadata.

    With an `issuer` it is an intermediate CA instead, certified by that issuer (see `subordinate`).
    """

    name: str = "Soft Keys Root CA"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    valid_days: int = 3650
    issuer: "CertificateAuthority | None" = None

    def __post_init__(self):
        now = datetime.now(UTC)
        signer = self.issuer or self
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(self.name))
            .issuer_name(_name(signer.name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=self.valid_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer.key, hashes.SHA256())
        )

    def subordinate(self, name: str) -> "CertificateAuthority":
        """An intermediate CA under this one (platform vendors attest through one)."""
        return CertificateAuthority(name, issuer=self)

    @property
    def chain(self) -> list[bytes]:
        """DER certificates from this CA up to and including its root."""
        return [self.der, *(self.issuer.chain if self.issuer else [])]

    def certify(
        self,
        public_key: ec.EllipticCurvePublicKey,
        subject: x509.Name,
        extensions: dict[x509.ObjectIdentifier, bytes],
        *,
        expired: bool = False,
    ) -> bytes:
        """A leaf certificate (DER) for someone else's key, with extensions given as DER values."""
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=400), now - timedelta(days=1))
            if expired
            else (now - timedelta(days=1), now + timedelta(days=365))
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        for oid, value in extensions.items():
            builder = builder.add_extension(x509.UnrecognizedExtension(oid, value), critical=False)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

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
    fmt: str = "packed"  # packed | packed-self | fido-u2f | none | apple | android-key
    authority: CertificateAuthority | None = None
    expired_certificate: bool = False
    sign_count: int = 0
    credentials: dict = field(default_factory=dict)  # credential id → private key
    # apple / android-key: the certificate binds the credential to another clientDataHash than the
    # one signed (OTHER_CLIENT_DATA_HASH), as a replayed or forged statement would.
    wrong_challenge: bool = False
    # apple / android-key: the certificate holds another key than the credential's (for
    # android-key that other key also signs, so only the key comparison can catch it).
    foreign_certificate_key: bool = False
    # android-key: keywords for `android_key_description` (origin=, purposes=, all_applications=).
    android_authorizations: dict = field(default_factory=dict)

    def __post_init__(self):
        self.attestation_key = self.attestation_certificate = None
        self.platform_ca = None  # apple / android-key: the vendor's intermediate CA
        if self.fmt in PLATFORM_FORMATS:
            self.authority = self.authority or CertificateAuthority()
            self.platform_ca = self.authority.subordinate(
                "Soft Keys WebAuthn CA" if self.fmt == "apple" else "Soft Keys Android Attestation"
            )
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
                "transports": ["internal"] if self.fmt in PLATFORM_FORMATS else ["usb"],
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
        if self.fmt == "apple":
            return self._apple_statement(auth_data, client_data_hash, key)
        if self.fmt == "android-key":
            return self._android_key_statement(auth_data, client_data_hash, key)
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

    def _bound_client_data_hash(self, client_data_hash: bytes) -> bytes:
        """The clientDataHash a platform certificate vouches for (see `wrong_challenge`)."""
        return OTHER_CLIENT_DATA_HASH if self.wrong_challenge else client_data_hash

    def _certified_key(self, key):
        """The key a platform certificate holds (see `foreign_certificate_key`)."""
        return ec.generate_private_key(ec.SECP256R1()) if self.foreign_certificate_key else key

    def _apple_statement(self, auth_data, client_data_hash, key) -> dict:
        """WebAuthn §8.8: x5c only; credCert certifies the credential key itself and the nonce."""
        nonce = hashlib.sha256(auth_data + self._bound_client_data_hash(client_data_hash)).digest()
        credential_certificate = self.platform_ca.certify(
            self._certified_key(key).public_key(),
            _name("Soft Key Credential", "Anonymous Attestation"),
            {APPLE_NONCE_EXTENSION: apple_nonce_extension(nonce)},
            expired=self.expired_certificate,
        )
        return {"x5c": [credential_certificate, self.platform_ca.der]}

    def _android_key_statement(self, auth_data, client_data_hash, key) -> dict:
        """WebAuthn §8.4: the credential key signs, and its own certificate holds the
        KeyDescription; like a phone, the chain is sent up to and including the root."""
        description = android_key_description(
            self._bound_client_data_hash(client_data_hash),
            created=datetime.now(UTC),
            **self.android_authorizations,
        )
        signer = self._certified_key(key)
        leaf = self.platform_ca.certify(
            signer.public_key(),
            _name("Android Keystore Key"),
            {ANDROID_KEY_DESCRIPTION_EXTENSION: description},
            expired=self.expired_certificate,
        )
        return {
            "alg": COSE_ES256,
            "sig": signer.sign(auth_data + client_data_hash, ec.ECDSA(hashes.SHA256())),
            "x5c": [leaf, *self.platform_ca.chain],
        }
