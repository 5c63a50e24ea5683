"""A stand-in for the FIDO Alliance's signing PKI: a root, an intermediate, a BLOB signer, CRLs.

The real BLOB is signed by mds.fidoalliance.org under GlobalSign (Root CA - R3, and since
August 2026 GCC R46 EV TLS CA 2025 under Root R46, which R3 cross-signs); tests point
settings.FIDO_MDS_ROOT_CERTIFICATE at this root instead and sign BLOBs of their own. The signer
carries the real name and key usage, so the shipped FIDO_MDS_SIGNER_NAME applies unchanged.
"""

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

SIGNER_NAME = "mds.fidoalliance.org"  # the real MDS3 signer's common name (the setting's default)


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def key_usage(**allowed: bool) -> x509.KeyUsage:
    """A KeyUsage allowing exactly the named uses, e.g. key_usage(digital_signature=True)."""
    uses = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return x509.KeyUsage(**{**uses, **allowed})


CA_USAGE = key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)
SIGNER_USAGE = key_usage(digital_signature=True)
_DEFAULT = object()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test FIDO Alliance"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate(
    subject: str,
    key,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key=None,
    ca: bool,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    usage=_DEFAULT,
) -> x509.Certificate:
    """A certificate for `key`; `usage` a KeyUsage, None for none, default what CAs/signers have."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=30))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is _DEFAULT:
        usage = CA_USAGE if ca else SIGNER_USAGE
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


def der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def write_pem(path: Path, *items) -> str:
    """Certificates and/or CRLs into one PEM file; returns its path."""
    path.write_bytes(b"".join(item.public_bytes(serialization.Encoding.PEM) for item in items))
    return str(path)


@dataclass
class MdsPki:
    """Root → intermediate → signer, like the real chain; every part can be swapped by a test."""

    root_name: str = "Test MDS Root"
    root_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    intermediate_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def __post_init__(self):
        self.root = certificate(self.root_name, self.root_key, ca=True)
        self.intermediate = certificate(
            "Test MDS CA",
            self.intermediate_key,
            issuer=self.root,
            issuer_key=self.root_key,
            ca=True,
        )
        self.use_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def use_signer(
        self, key, *, common_name: str = SIGNER_NAME, usage=_DEFAULT, **validity
    ) -> None:
        """A new BLOB-signing certificate for `key`, issued by the intermediate."""
        self.signer_key = key
        self.signer = certificate(
            common_name,
            key,
            issuer=self.intermediate,
            issuer_key=self.intermediate_key,
            ca=False,
            usage=usage,
            **validity,
        )

    def successor(self) -> "MdsPki":
        """A PKI under a new root whose root this one cross-signs (`.cross`), as R3 does R46."""
        new = MdsPki(root_name="Test MDS Root R46")
        new.cross = certificate(
            new.root_name, new.root_key, issuer=self.root, issuer_key=self.root_key, ca=True
        )
        return new

    def write_root(self, directory: Path) -> str:
        return write_pem(directory / "mds-root.pem", self.root)

    def crl(
        self,
        *revoked: x509.Certificate,
        by: str = "intermediate",
        key=None,
        last_update: datetime | None = None,
        next_update: datetime | None = None,
    ) -> x509.CertificateRevocationList:
        """A CRL of the root or intermediate (`by`) listing `revoked`; `key` signs it instead."""
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(getattr(self, by).subject)
            .last_update(last_update or now - timedelta(days=1))
            .next_update(next_update or now + timedelta(days=7))
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(now - timedelta(hours=1))
                .build()
            )
        return builder.sign(key or getattr(self, f"{by}_key"), hashes.SHA256())

    def sign(self, payload: dict, *, alg: str = "RS256", x5c: list | None = None) -> bytes:
        """A compact JWS over `payload` with the signer's key, chain in the header."""
        chain = x5c if x5c is not None else [der_b64(self.signer), der_b64(self.intermediate)]
        header = b64url(json.dumps({"alg": alg, "typ": "JWT", "x5c": chain}).encode())
        body = b64url(json.dumps(payload).encode())
        signed = header + b"." + body
        digest = {"256": hashes.SHA256(), "384": hashes.SHA384()}[alg[2:]]
        if alg.startswith("ES"):
            r, s = decode_dss_signature(self.signer_key.sign(signed, ec.ECDSA(digest)))
            size = (self.signer_key.curve.key_size + 7) // 8
            signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        elif alg.startswith("PS"):
            signature = self.signer_key.sign(
                signed,
                padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size),
                digest,
            )
        else:
            signature = self.signer_key.sign(signed, padding.PKCS1v15(), digest)
        return signed + b"." + b64url(signature)


def payload(number: int, entries: list, *, next_update: str | None = None) -> dict:
    next_update = next_update or (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    return {"legalHeader": "test", "no": number, "nextUpdate": next_update, "entries": entries}
