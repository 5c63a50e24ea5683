"""Verifying a signed FIDO MDS3 BLOB: a JWS whose header carries the signing chain (`x5c`).

Pure logic, no database, no settings. `verify_blob` accepts a BLOB only when

- the signer, the first certificate of `x5c`, is the FIDO metadata service: its subject common
  name is `signer_name` and its key usage allows digitalSignature. The FIDO root (GlobalSign) is
  a public web root, so the chain alone would let anyone holding a web certificate under it sign
  a BLOB of their own;
- a certification path leads from the signer to one of the trusted roots. It is built from the
  certificates of `x5c` in any order, not necessarily all of them: FIDO's x5c carries the new
  root (GlobalSign Root R46) cross-signed by the old one (Root CA - R3), so that either can be
  trusted. On the path every issuer is a CA whose key usage allows keyCertSign, within its path
  length, and every certificate, root included, is valid at the given moment;
- no certificate of the path is listed by its issuer's CRL among the CRLs given. A CRL counts
  only if its signature verifies under a certificate of its issuer (from x5c or the roots) and
  it is current; one that names a CA we hold yet fails either check refuses the BLOB, since the
  revocations it should apply are unknown. CRLs are optional: a CA of the path without a CRL is
  not checked, and a CRL of a CA outside the chain covers nothing and is ignored;
- the JWS signature verifies with the signer's key. Only then is the payload parsed.

python-fido2's `parse_blob` checks signatures only. What is compared with stored state (the
BLOB number `no` must grow) and the payload's own dates (`nextUpdate`) are checked by the caller,
`twofactor.metadata.load_blob`. Every refusal is a `BlobError` subclass whose message is one line.
"""

import base64
import binascii
import json
import re
from collections import deque
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

# JWS algorithms (RFC 7518) that MDS3 may use: RSA PKCS#1 v1.5, RSA-PSS and ECDSA.
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
ALGORITHMS = {f"{family}{bits}" for family in ("RS", "PS", "ES") for bits in _HASHES}
# The subject common name of the real MDS3 signing certificate (settings.FIDO_MDS_SIGNER_NAME).
FIDO_SIGNER_NAME = "mds.fidoalliance.org"
# Real chains hold three certificates; the bound keeps path building (a search) cheap.
MAX_CHAIN = 10
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)

Crl = x509.CertificateRevocationList


class BlobError(ValueError):
    """The BLOB is not a FIDO-signed metadata BLOB we can trust; the message says why."""


class MalformedBlob(BlobError):
    """The BLOB is not a JWS we can read: parts, header, algorithm or certificates."""


class WrongSigner(BlobError):
    """The signing certificate is not the FIDO metadata service's, or may not sign."""


class CertificateNotValid(BlobError):
    """A certificate of the path is expired or not yet valid."""


class UntrustedChain(BlobError):
    """No certification path leads from the signer to a trusted root."""


class RevokedCertificate(BlobError):
    """A certificate of the path is listed by its issuer's CRL."""


class UnusableCrl(BlobError):
    """A CRL given cannot be read, does not verify under its issuer's key, or is not current."""


class BadSignature(BlobError):
    """The JWS signature does not verify with the signer's key."""


def _b64url(part: bytes, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise MalformedBlob(f"the {what} is not base64url") from None


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise MalformedBlob(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedBlob(f"the {what} is not a JSON object")
    return value


def _certificates(x5c) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise MalformedBlob("the header carries no certificate chain (x5c)")
    if len(x5c) > MAX_CHAIN:
        raise MalformedBlob(f"the certificate chain (x5c) holds more than {MAX_CHAIN} certificates")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (binascii.Error, ValueError):
        raise MalformedBlob("a certificate of the chain (x5c) cannot be read") from None


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _extension(certificate: x509.Certificate, kind: type):
    """The value of an extension of `kind`, None if absent; a malformed one refuses the BLOB."""
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # duplicate or unparsable extensions: parsed lazily by cryptography
        raise UntrustedChain(f"certificate {_name(certificate)} has malformed extensions") from None


def load_crls(data: bytes) -> list[Crl]:
    """The CRLs in `data`: DER, or PEM holding one or more. UnusableCrl if they cannot be read."""
    blocks = _PEM_CRL.findall(data) if b"-----BEGIN" in data else None
    if blocks == []:
        raise UnusableCrl("the PEM file holds no X509 CRL")
    try:
        if blocks:
            return [x509.load_pem_x509_crl(block) for block in blocks]
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        raise UnusableCrl("it is not a CRL in PEM or DER") from None


def _ca_key(certificate: x509.Certificate) -> tuple[bytes, bytes]:
    """A CA as its name and key: what a CRL or a child certificate is signed by.

    A root and its cross-signed copy (same subject, same key) are the same CA.
    """
    key = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return certificate.subject.public_bytes(), key


def _revocation_lists(
    crls: Sequence[Crl], candidates: list[x509.Certificate], at: datetime
) -> dict[tuple[bytes, bytes], list[Crl]]:
    """The CRLs that apply, by the CA (`_ca_key`) that signed them; UnusableCrl for a bad one."""
    applicable: dict[tuple[bytes, bytes], list[Crl]] = {}
    for crl in crls:
        issuer = crl.issuer.rfc4514_string()
        named = [c for c in candidates if c.subject == crl.issuer]
        if not named:
            continue  # a CRL of a CA outside this chain covers none of its certificates
        signers = []
        for candidate in named:
            try:
                if crl.is_signature_valid(candidate.public_key()):
                    signers.append(candidate)
            except (TypeError, ValueError):
                pass  # a key type CRLs cannot be signed with
        if not signers:
            raise UnusableCrl(f"the CRL of {issuer} does not verify under its issuer's key")
        for signer in signers:
            usage = _extension(signer, x509.KeyUsage)
            if usage is not None and not usage.crl_sign:
                raise UnusableCrl(f"the CRL of {issuer} is signed by a key that may not sign CRLs")
        if crl.next_update_utc is None:
            raise UnusableCrl(f"the CRL of {issuer} has no nextUpdate: it cannot be current")
        if crl.next_update_utc < at:
            raise UnusableCrl(
                f"the CRL of {issuer} is out of date: its nextUpdate "
                f"{crl.next_update_utc:%Y-%m-%d %H:%M} UTC has passed; fetch the current one"
            )
        if crl.last_update_utc > at:
            raise UnusableCrl(
                f"the CRL of {issuer} is issued only from {crl.last_update_utc:%Y-%m-%d %H:%M} UTC"
            )
        for signer in signers:
            applicable.setdefault(_ca_key(signer), []).append(crl)
    return applicable


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s name and key issued `child` (its name and signature match)."""
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid_at(certificate: x509.Certificate, at: datetime) -> CertificateNotValid | None:
    if certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        return None
    return CertificateNotValid(
        f"certificate {_name(certificate)} is valid only from "
        f"{certificate.not_valid_before_utc:%Y-%m-%d} to "
        f"{certificate.not_valid_after_utc:%Y-%m-%d}"
    )


def _refusal(
    child: x509.Certificate,
    issuer: x509.Certificate,
    intermediates: int,
    at: datetime,
    revocations: dict[tuple[bytes, bytes], list[Crl]],
) -> BlobError | None:
    """Why `issuer`, which signed `child`, may not be its issuer on the path; None if it may.

    `intermediates` counts the CA certificates between `issuer` and the signer (path length).
    """
    constraints = _extension(issuer, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        return UntrustedChain(f"{_name(issuer)} is not a CA: it cannot issue {_name(child)}")
    usage = _extension(issuer, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        return UntrustedChain(f"the CA {_name(issuer)} may not sign certificates (key usage)")
    if constraints.path_length is not None and intermediates > constraints.path_length:
        return UntrustedChain(
            f"the CA {_name(issuer)} may have at most {constraints.path_length} CAs below it"
        )
    if expired := _valid_at(issuer, at):
        return expired
    for crl in revocations.get(_ca_key(issuer), []):
        entry = crl.get_revoked_certificate_by_serial_number(child.serial_number)
        if entry is not None:
            return RevokedCertificate(
                f"certificate {_name(child)} is revoked (since "
                f"{entry.revocation_date_utc:%Y-%m-%d}, by the CRL of {_name(issuer)})"
            )
    return None


def _certification_path(
    signer: x509.Certificate,
    given: list[x509.Certificate],
    roots: list[x509.Certificate],
    at: datetime,
    revocations: dict[tuple[bytes, bytes], list[Crl]],
) -> list[x509.Certificate]:
    """The shortest acceptable path signer → … → trusted root through `given`, or BlobError.

    A breadth-first search: the issuers of a certificate are tried trusted roots first, then the
    certificates of x5c. An issuer refused on one path (revoked, expired) may still be avoided by
    another, as a cross-signed root allows. If no path is found, the first refusal met explains
    why; failing that, the certificate where the search got furthest is named.
    """
    pool = [c for c in given if c not in roots]  # a root sent along in x5c is the root itself
    parent: dict[x509.Certificate, x509.Certificate | None] = {signer: None}
    queue = deque([signer])
    refusals: list[BlobError] = []
    furthest = signer
    while queue:
        child = furthest = queue.popleft()
        path = [child]
        while (above := parent[path[-1]]) is not None:
            path.append(above)
        if child in roots:
            return path[::-1]
        # The CAs between the issuer and the signer; self-issued ones (key rollover) do not count.
        intermediates = sum(1 for c in path[:-1] if c.subject != c.issuer)
        for issuer in [*roots, *pool]:
            if issuer in parent or not _signed_by(child, issuer):
                continue
            if refusal := _refusal(child, issuer, intermediates, at, revocations):
                refusals.append(refusal)
                continue
            parent[issuer] = child
            queue.append(issuer)
    if refusals:
        raise refusals[0]
    raise UntrustedChain(
        f"{_name(furthest)} is not issued by the FIDO root nor by another certificate "
        "of the chain (x5c)"
    )


def _check_signer(certificate: x509.Certificate, signer_name: str) -> None:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [name.value for name in names] != [signer_name]:
        raise WrongSigner(
            f"the BLOB is signed by {_name(certificate)}, "
            f"not by the FIDO metadata service ({signer_name})"
        )
    usage = _extension(certificate, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise WrongSigner(
            f"the key usage of the signing certificate {_name(certificate)} "
            "does not allow digitalSignature"
        )


def _verify_signature(
    certificate: x509.Certificate, algorithm: str, signed: bytes, signature: bytes
) -> None:
    digest = _HASHES[algorithm[2:]]()
    key = certificate.public_key()
    try:
        if algorithm.startswith("ES"):
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise BadSignature(f"{algorithm} needs an EC key in the signing certificate")
            half = len(signature) // 2
            if len(signature) % 2 or not half:
                raise BadSignature("the signature is malformed")
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            key.verify(der, signed, ec.ECDSA(digest))
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                raise BadSignature(f"{algorithm} needs an RSA key in the signing certificate")
            scheme = (
                padding.PKCS1v15()
                if algorithm.startswith("RS")
                else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            )
            key.verify(signature, signed, scheme, digest)
    except InvalidSignature:
        raise BadSignature("the signature does not match the BLOB") from None


def verify_blob(
    token: bytes | str,
    roots: list[x509.Certificate],
    at: datetime,
    *,
    signer_name: str = FIDO_SIGNER_NAME,
    crls: Sequence[Crl] = (),
) -> dict:
    """The payload of a BLOB that `signer_name` signed under one of `roots`, checked at `at`.

    `crls` are applied to the certification path (see the module docstring); BlobError if not.
    """
    if isinstance(token, str):
        token = token.encode("ascii", "replace")
    parts = token.strip().split(b".")
    if len(parts) != 3:
        raise MalformedBlob("not a JWT: it needs three parts separated by dots")
    header = _json_object(_b64url(parts[0], "header"), "header")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise MalformedBlob(f"unsupported signature algorithm {algorithm!r}")
    given = _certificates(header.get("x5c"))
    signer = given[0]  # RFC 7515: the certificate of the signing key comes first
    _check_signer(signer, signer_name)
    if expired := _valid_at(signer, at):
        raise expired
    revocations = _revocation_lists(crls, [*given, *roots], at)
    _certification_path(signer, given[1:], roots, at, revocations)
    signature = _b64url(parts[2], "signature")
    _verify_signature(signer, algorithm, parts[0] + b"." + parts[1], signature)
    # Only a verified payload is parsed.
    return _json_object(_b64url(parts[1], "payload"), "payload")
