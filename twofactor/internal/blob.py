"""Verifying a signed FIDO MDS3 BLOB: a JWS whose header carries the signing chain (`x5c`).

Pure logic, no database. `verify_blob` checks the signature with the first certificate of the
chain, that each certificate is issued by the next one, that the chain ends in one of the trusted
roots (the FIDO Alliance root is GlobalSign Root CA - R3), and that every certificate, root
included, is valid at the given moment. python-fido2's `parse_blob` checks signatures only.

What is compared with stored state (the BLOB number `no` must grow) and the payload's own dates
(`nextUpdate`) are checked by the caller, `twofactor.metadata.load_blob`.
"""

import base64
import binascii
import itertools
import json
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# JWS algorithms (RFC 7518) that MDS3 may use: RSA PKCS#1 v1.5, RSA-PSS and ECDSA.
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
ALGORITHMS = {f"{family}{bits}" for family in ("RS", "PS", "ES") for bits in _HASHES}


class BlobError(ValueError):
    """The BLOB is not a FIDO-signed metadata BLOB we can trust; the message says why."""


def _b64url(part: bytes, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise BlobError(f"the {what} is not base64url") from None


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BlobError(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise BlobError(f"the {what} is not a JSON object")
    return value


def _certificates(x5c) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise BlobError("the header carries no certificate chain (x5c)")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (binascii.Error, ValueError):
        raise BlobError("a certificate of the chain (x5c) cannot be read") from None


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False  # a certificate that is not a CA issues nothing
    if not constraints.ca:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chain_to_root(
    chain: list[x509.Certificate], roots: list[x509.Certificate]
) -> list[x509.Certificate]:
    """The whole path, leaf to trusted root, or BlobError."""
    for child, issuer in itertools.pairwise(chain):
        if not _issued_by(child, issuer):
            raise BlobError(f"{_name(child)} is not issued by {_name(issuer)}")
    last = chain[-1]
    for root in roots:
        if last == root:
            return chain
        if _issued_by(last, root):
            return [*chain, root]
    raise BlobError(f"the chain ends in {_name(last)}, which is not issued by the FIDO root")


def _verify_signature(
    certificate: x509.Certificate, algorithm: str, signed: bytes, signature: bytes
) -> None:
    digest = _HASHES[algorithm[2:]]()
    key = certificate.public_key()
    try:
        if algorithm.startswith("ES"):
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise BlobError(f"{algorithm} needs an EC key in the signing certificate")
            half = len(signature) // 2
            if len(signature) % 2 or not half:
                raise BlobError("the signature is malformed")
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            key.verify(der, signed, ec.ECDSA(digest))
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                raise BlobError(f"{algorithm} needs an RSA key in the signing certificate")
            scheme = (
                padding.PKCS1v15()
                if algorithm.startswith("RS")
                else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            )
            key.verify(signature, signed, scheme, digest)
    except InvalidSignature:
        raise BlobError("the signature does not match the BLOB") from None


def verify_blob(token: bytes | str, roots: list[x509.Certificate], at: datetime) -> dict:
    """The payload of a BLOB signed by a chain to one of `roots`, all valid at `at`."""
    if isinstance(token, str):
        token = token.encode("ascii", "replace")
    parts = token.strip().split(b".")
    if len(parts) != 3:
        raise BlobError("not a JWT: it needs three parts separated by dots")
    header = _json_object(_b64url(parts[0], "header"), "header")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise BlobError(f"unsupported signature algorithm {algorithm!r}")
    chain = _certificates(header.get("x5c"))
    path = _chain_to_root(chain, roots)
    for certificate in path:
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise BlobError(
                f"certificate {_name(certificate)} is valid only from "
                f"{certificate.not_valid_before_utc:%Y-%m-%d} to "
                f"{certificate.not_valid_after_utc:%Y-%m-%d}"
            )
    signature = _b64url(parts[2], "signature")
    _verify_signature(chain[0], algorithm, parts[0] + b"." + parts[1], signature)
    # Only a verified payload is parsed.
    return _json_object(_b64url(parts[1], "payload"), "payload")
