"""A software FIDO authenticator for the tests, built from the specifications with `cryptography`.

It makes real registrations (CBOR attestation objects, COSE keys, X.509 attestation chains) in the
formats packed (with a certificate chain, or self attestation), fido-u2f, none, and the platform
formats apple (Apple anonymous attestation), android-key (Android Key Attestation) and tpm (a TPM
2.0, as Windows Hello attests), as a browser would hand them to the portal in the
`PublicKeyCredential.toJSON()` shape.

The platform formats follow W3C WebAuthn §8.8 (apple), §8.4 (android-key) and §8.3 (tpm); their
certificate extensions are written in DER (X.690) by the small `der_*` helpers below, and the TPM
structures (TCG TPM 2.0 Library, Part 2) by the `tpm_*` helpers, big-endian as a TPM marshals them.
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
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.cose import ES256, RS256

AAGUID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
FLAG_USER_PRESENT, FLAG_USER_VERIFIED, FLAG_ATTESTED = 0x01, 0x04, 0x40
COSE_ES256 = -7  # the `alg` of an ECDSA P-256 / SHA-256 signature
COSE_RS256 = -257  # the `alg` of an RSASSA-PKCS1-v1_5 / SHA-256 signature

# The formats of platform authenticators (built into the phone or computer, not plugged in).
PLATFORM_FORMATS = ("apple", "android-key", "tpm")

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

# TPM attestation (WebAuthn §8.3; TCG TPM 2.0 Library Part 2 "Structures"; TCG EK Credential
# Profile for the AIK certificate). Constants from Part 2: TPM_ALG_ID (§6.3), TPM_ECC_CURVE (§6.4),
# TPM_GENERATED (§6.2), TPM_ST (§6.9), TPMA_OBJECT bits (§8.3), and the permanent handle of the
# owner (storage) hierarchy (§7.4), whose Name is the handle itself.
TPM_ALG_RSA, TPM_ALG_SHA256, TPM_ALG_NULL, TPM_ALG_ECC = 0x0001, 0x000B, 0x0010, 0x0023
TPM_ECC_NIST_P256 = 0x0003
TPM_GENERATED_VALUE = 0xFF544347  # "\xffTCG": the TPM itself made this structure
TPM_ST_ATTEST_CERTIFY = 0x8017  # a TPMS_ATTEST written by TPM2_Certify
TPM_RH_OWNER = 0x40000001
TPMA_FIXED_TPM, TPMA_FIXED_PARENT, TPMA_SENSITIVE_DATA_ORIGIN = 1 << 1, 1 << 4, 1 << 5
TPMA_USER_WITH_AUTH, TPMA_NO_DA, TPMA_RESTRICTED, TPMA_SIGN = 1 << 6, 1 << 10, 1 << 16, 1 << 18
# A key created inside the TPM that never leaves it, used (unrestricted) to sign: a passkey.
TPM_CREDENTIAL_ATTRIBUTES = (
    TPMA_FIXED_TPM
    | TPMA_FIXED_PARENT
    | TPMA_SENSITIVE_DATA_ORIGIN
    | TPMA_USER_WITH_AUTH
    | TPMA_NO_DA
    | TPMA_SIGN
)
TPM_RSA_KEY_BITS = 2048
TPM_RSA_DEFAULT_EXPONENT = 0  # TPMS_RSA_PARMS.exponent: zero means the default 2**16 + 1
# The AIK certificate: subject empty, a critical SubjectAlternativeName with a directoryName of
# the TPM's manufacturer, model and firmware version, and this extended key usage.
TCG_AT_TPM_MANUFACTURER = x509.ObjectIdentifier("2.23.133.2.1")
TCG_AT_TPM_MODEL = x509.ObjectIdentifier("2.23.133.2.2")
TCG_AT_TPM_VERSION = x509.ObjectIdentifier("2.23.133.2.3")
TCG_KP_AIK_CERTIFICATE = x509.ObjectIdentifier("2.23.133.8.3")
# The manufacturer as "id:" and its four ASCII letters in hex: MSFT, the TCG vendor ID of
# Microsoft (whose software TPM stands in for a laptop's chip here).
SOFT_TPM_MANUFACTURER, SOFT_TPM_MODEL, SOFT_TPM_VERSION = "id:4D534654", "Soft TPM", "id:00020008"
SOFT_TPM_FIRMWARE_VERSION = 0x0002000800000000  # TPMS_ATTEST.firmwareVersion: 2.8 as a UINT64

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


def tpm2b(content: bytes) -> bytes:
    """A TPM2B_* sized buffer (Part 2 §10.4): UINT16 size, then that many octets."""
    return struct.pack(">H", len(content)) + content


def tpm_name(public_area: bytes) -> bytes:
    """The Name of an object (Part 1 §16): its nameAlg, then the nameAlg hash of its TPMT_PUBLIC
    (here always SHA-256)."""
    return struct.pack(">H", TPM_ALG_SHA256) + hashlib.sha256(public_area).digest()


def tpm_qualified_name(parent_qualified_name: bytes, name: bytes) -> bytes:
    """The Qualified Name of an object (Part 1 §16): nameAlg || H(parent's QN || Name)."""
    digest = hashlib.sha256(parent_qualified_name + name).digest()
    return struct.pack(">H", TPM_ALG_SHA256) + digest


def tpm_rsa_public_area(
    public_key: rsa.RSAPublicKey, attributes: int = TPM_CREDENTIAL_ATTRIBUTES
) -> bytes:
    """TPMT_PUBLIC (Part 2 §12.2.4) of an RSA signing key: type, nameAlg, objectAttributes,
    authPolicy (empty), TPMS_RSA_PARMS {symmetric NULL, scheme NULL (the key may sign with any
    scheme), keyBits, exponent}, unique = TPM2B_PUBLIC_KEY_RSA (the modulus)."""
    numbers = public_key.public_numbers()
    exponent = TPM_RSA_DEFAULT_EXPONENT if numbers.e == 2**16 + 1 else numbers.e
    modulus = numbers.n.to_bytes(public_key.key_size // 8, "big")
    return (
        struct.pack(">HHI", TPM_ALG_RSA, TPM_ALG_SHA256, attributes)
        + tpm2b(b"")  # authPolicy
        + struct.pack(">HHHI", TPM_ALG_NULL, TPM_ALG_NULL, public_key.key_size, exponent)
        + tpm2b(modulus)
    )


def tpm_ecc_public_area(
    public_key: ec.EllipticCurvePublicKey, attributes: int = TPM_CREDENTIAL_ATTRIBUTES
) -> bytes:
    """TPMT_PUBLIC of a NIST P-256 signing key: TPMS_ECC_PARMS {symmetric NULL, scheme NULL,
    curveID, kdf NULL}, unique = TPMS_ECC_POINT {x, y} (Part 2 §11.2.5.2, §12.2.3.6)."""
    numbers = public_key.public_numbers()
    return (
        struct.pack(">HHI", TPM_ALG_ECC, TPM_ALG_SHA256, attributes)
        + tpm2b(b"")  # authPolicy
        + struct.pack(">HHHH", TPM_ALG_NULL, TPM_ALG_NULL, TPM_ECC_NIST_P256, TPM_ALG_NULL)
        + tpm2b(numbers.x.to_bytes(32, "big"))
        + tpm2b(numbers.y.to_bytes(32, "big"))
    )


def tpm_public_area(public_key, attributes: int = TPM_CREDENTIAL_ATTRIBUTES) -> bytes:
    """The TPMT_PUBLIC of an RSA or P-256 key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return tpm_rsa_public_area(public_key, attributes)
    return tpm_ecc_public_area(public_key, attributes)


def tpm_clock_info(clock: int, reset_count: int, restart_count: int, safe: bool = True) -> bytes:
    """TPMS_CLOCK_INFO (Part 2 §10.11.1): clock (ms), resetCount, restartCount, safe."""
    return struct.pack(">QIIB", clock, reset_count, restart_count, int(safe))


def tpm_certify_info(name: bytes, qualified_name: bytes) -> bytes:
    """TPMS_CERTIFY_INFO (Part 2 §10.12.3): the certified object's Name and Qualified Name."""
    return tpm2b(name) + tpm2b(qualified_name)


def tpm_attest_certify(
    *,
    qualified_signer: bytes,
    extra_data: bytes,
    certified_name: bytes,
    certified_qualified_name: bytes,
    clock_info: bytes,
    firmware_version: int,
) -> bytes:
    """TPMS_ATTEST (Part 2 §10.12.12) as TPM2_Certify writes it: magic TPM_GENERATED_VALUE, type
    TPM_ST_ATTEST_CERTIFY, qualifiedSigner, extraData (the caller's qualifying data), clockInfo,
    firmwareVersion, then attested = TPMS_CERTIFY_INFO."""
    return (
        struct.pack(">IH", TPM_GENERATED_VALUE, TPM_ST_ATTEST_CERTIFY)
        + tpm2b(qualified_signer)
        + tpm2b(extra_data)
        + clock_info
        + struct.pack(">Q", firmware_version)
        + tpm_certify_info(certified_name, certified_qualified_name)
    )


def aik_subject_alternative_name(
    manufacturer: str = SOFT_TPM_MANUFACTURER,
    model: str = SOFT_TPM_MODEL,
    version: str = SOFT_TPM_VERSION,
) -> x509.SubjectAlternativeName:
    """The AIK certificate's SAN (EK Credential Profile §3.2.9): one directoryName holding
    tcg-at-tpmManufacturer, tcg-at-tpmModel and tcg-at-tpmVersion."""
    directory = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(TCG_AT_TPM_MANUFACTURER, manufacturer),
                    x509.NameAttribute(TCG_AT_TPM_MODEL, model),
                    x509.NameAttribute(TCG_AT_TPM_VERSION, version),
                ]
            )
        ]
    )
    return x509.SubjectAlternativeName([x509.DirectoryName(directory)])


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

    def certify_aik(
        self,
        public_key: rsa.RSAPublicKey,
        aaguid: uuid.UUID | None,
        *,
        expired: bool = False,
    ) -> bytes:
        """An AIK certificate (DER) as WebAuthn §8.3.1 requires: version 3, empty subject, a
        critical SubjectAlternativeName naming the TPM, extended key usage tcg-kp-AIKCertificate,
        CA false, and (when `aaguid` is given) the AAGUID extension."""
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=400), now - timedelta(days=1))
            if expired
            else (now - timedelta(days=1), now + timedelta(days=365))
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(aik_subject_alternative_name(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([TCG_KP_AIK_CERTIFICATE]), critical=False)
        )
        if aaguid is not None:
            value = der_octet_string(aaguid.bytes)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(AAGUID_EXTENSION, value), critical=False
            )
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
    fmt: str = "packed"  # packed | packed-self | fido-u2f | none | apple | android-key | tpm
    authority: CertificateAuthority | None = None
    expired_certificate: bool = False
    sign_count: int = 0
    credentials: dict = field(default_factory=dict)  # credential id → private key
    # apple / android-key / tpm: the certificate (for tpm: certInfo's extraData) binds the
    # credential to another clientDataHash than the one signed (OTHER_CLIENT_DATA_HASH), as a
    # replayed or forged statement would.
    wrong_challenge: bool = False
    # apple / android-key / tpm: the certificate holds another key than the credential's (for
    # android-key that other key also signs; for tpm, pubArea describes it and certInfo certifies
    # it, so only the key comparison can catch it).
    foreign_certificate_key: bool = False
    # android-key: keywords for `android_key_description` (origin=, purposes=, all_applications=).
    android_authorizations: dict = field(default_factory=dict)
    # tpm: the credential key, "rsa" (RSA-2048, RS256, as Windows Hello makes it) or "ecc" (P-256).
    tpm_key: str = "rsa"
    # tpm: the AAGUID the AIK certificate names in its extension 1.3.6.1.4.1.45724.1.1.4 (None:
    # the key's own); with aik_aaguid_extension=False the certificate has no such extension.
    aik_aaguid: uuid.UUID | None = None
    aik_aaguid_extension: bool = True

    def __post_init__(self):
        self.attestation_key = self.attestation_certificate = None
        self.platform_ca = None  # apple / android-key: the vendor's intermediate CA
        if self.fmt in PLATFORM_FORMATS:
            self.authority = self.authority or CertificateAuthority()
            self.platform_ca = self.authority.subordinate(
                {
                    "apple": "Soft Keys WebAuthn CA",
                    "android-key": "Soft Keys Android Attestation",
                    "tpm": "Soft Keys TPM AIK CA",
                }[self.fmt]
            )
        if self.fmt == "tpm":  # the TPM's attestation identity key, certified by the AIK CA
            self.attestation_key = rsa.generate_private_key(65537, TPM_RSA_KEY_BITS)
            self.attestation_certificate = self.platform_ca.certify_aik(
                self.attestation_key.public_key(),
                (self.aik_aaguid or self.aaguid) if self.aik_aaguid_extension else None,
                expired=self.expired_certificate,
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
        key = self._new_credential_key()
        self.credentials[credential_id] = key
        cose = RS256 if isinstance(key, rsa.RSAPrivateKey) else ES256
        cose_key = cose.from_cryptography_key(key.public_key())
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
        user_verified: bool = True,
    ) -> dict:
        """What `credential.toJSON()` gives after navigator.credentials.get() (with the user
        verified by PIN or biometrics unless `user_verified` is False)."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data_json = json.dumps(
            {"type": "webauthn.get", "challenge": b64url(challenge), "origin": origin}
        ).encode()
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([FLAG_USER_PRESENT | (FLAG_USER_VERIFIED if user_verified else 0)])
            + struct.pack(">I", self.sign_count)
        )
        signature = _sign(
            self.credentials[credential_id], auth_data + hashlib.sha256(client_data_json).digest()
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
        if self.fmt == "tpm":
            return self._tpm_statement(auth_data, client_data_hash, key)
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

    def _new_credential_key(self):
        """A fresh credential key: RSA-2048 for a TPM that makes RSA keys, P-256 otherwise."""
        if self.fmt == "tpm" and self.tpm_key == "rsa":
            return rsa.generate_private_key(65537, TPM_RSA_KEY_BITS)
        return ec.generate_private_key(ec.SECP256R1())

    def _certified_key(self, key):
        """The key a platform certificate holds (see `foreign_certificate_key`)."""
        return self._new_credential_key() if self.foreign_certificate_key else key

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

    def _tpm_statement(self, auth_data, client_data_hash, key) -> dict:
        """WebAuthn §8.3: the TPM certifies the credential key (pubArea) with TPM2_Certify, its
        qualifying data (extraData) the SHA-256 of attToBeSigned; the AIK signs certInfo (RS256).
        Like Windows, x5c is the AIK certificate and the AIK CA, without the root."""
        public_area = tpm_public_area(self._certified_key(key).public_key())
        extra_data = hashlib.sha256(auth_data + self._bound_client_data_hash(client_data_hash))
        owner = struct.pack(">I", TPM_RH_OWNER)  # the Name of a hierarchy is its handle
        # The AIK as the TPM knows it: a restricted signing key under the owner hierarchy.
        aik_name = tpm_name(
            tpm_rsa_public_area(
                self.attestation_key.public_key(),
                TPM_CREDENTIAL_ATTRIBUTES | TPMA_RESTRICTED,
            )
        )
        credential_name = tpm_name(public_area)
        cert_info = tpm_attest_certify(
            qualified_signer=tpm_qualified_name(owner, aik_name),
            extra_data=extra_data.digest(),
            certified_name=credential_name,
            certified_qualified_name=tpm_qualified_name(owner, credential_name),
            clock_info=tpm_clock_info(
                clock=int.from_bytes(os.urandom(4), "big"), reset_count=3, restart_count=1
            ),
            firmware_version=SOFT_TPM_FIRMWARE_VERSION,
        )
        return {
            "ver": "2.0",
            "alg": COSE_RS256,
            "x5c": [self.attestation_certificate, self.platform_ca.der],
            "sig": _sign(self.attestation_key, cert_info),
            "certInfo": cert_info,
            "pubArea": public_area,
        }


def _sign(private_key, data: bytes) -> bytes:
    """A signature with SHA-256: RSASSA-PKCS1-v1_5 (RS256) or ECDSA (ES256) by the key's type."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
