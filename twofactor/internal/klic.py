"""MojeID Klíč, the pure parts: activation codes, the app's signatures, its messages.

No database and no request here. The protocol is the one the README documents ("MojeID Klíč app
API"): the app signs the exact bytes of each JSON body with its P-256 key (WebCrypto's raw `r‖s`
signature), every body carries a timestamp and a single-use nonce, and the PIN is sent only as a
PBKDF2 verifier the app derives itself.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# Letters and digits that cannot be mistaken for one another when retyped from a screen.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4
QR_SCHEME = "mojeidklic"
SIGNATURE_BYTES = 64  # P-256 r‖s
VERIFIER_BYTES = 32  # PBKDF2-HMAC-SHA256 output the app sends in place of the PIN
NONCE_MIN_BYTES = 16
MAX_BODY_BYTES = 16 * 1024
CLOCK_SKEW_SECONDS = 300


class ApiError(Exception):
    """A refusal of an app call: the error code of the README, an HTTP status, a message."""

    def __init__(self, code: str, status: int, message: str = "", **extra):
        super().__init__(message or code)
        self.code, self.status, self.message, self.extra = code, status, message or code, extra


def new_activation_code() -> str:
    """XXXX-XXXX-XXXX from the unambiguous alphabet (60 bits)."""
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_code(typed: str) -> str | None:
    """The code as stored, whatever the case, spaces and dashes; None if it cannot be one."""
    if not isinstance(typed, str):
        return None
    compact = re.sub(r"[\s-]", "", typed).upper()
    if len(compact) != CODE_GROUPS * CODE_GROUP_LENGTH or set(compact) - set(CODE_ALPHABET):
        return None
    return compact


def code_hash(secret: str, normalised_code: str) -> str:
    """What is stored of an activation code: an HMAC under the site's secret."""
    return hmac.new(
        secret.encode(), f"klic-activation:{normalised_code}".encode(), hashlib.sha256
    ).hexdigest()


def qr_content(code: str, portal_origin: str) -> str:
    return f"{QR_SCHEME}:activate?code={code}&portal={quote(portal_origin, safe='')}"


def b64url_decode(value, what: str, *, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value:
        raise ApiError("bad_request", 400, f"{what} is missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ApiError("bad_request", 400, f"{what} is not base64url") from None
    if length is not None and len(raw) != length:
        raise ApiError("bad_request", 400, f"{what} must be {length} bytes")
    return raw


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_public_key(spki: bytes) -> ec.EllipticCurvePublicKey:
    """The app's key: P-256 only, as WebCrypto exports it (DER SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_der_public_key(spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ApiError("bad_request", 400, "public_key is not a DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ApiError("bad_request", 400, "public_key must be an ECDSA P-256 key")
    return key


def verify_signature(public_key: ec.EllipticCurvePublicKey, body: bytes, signature: str) -> None:
    """Check the X-Klic-Signature header over the exact body; ApiError if it does not match."""
    try:
        raw = b64url_decode(signature, "X-Klic-Signature", length=SIGNATURE_BYTES)
    except ApiError:
        raise ApiError("bad_signature", 401, "the signature is missing or malformed") from None
    half = SIGNATURE_BYTES // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ApiError("bad_signature", 401, "the signature does not match") from None


@dataclass(frozen=True)
class SignedBody:
    """A parsed app call: its JSON object, its timestamp and nonce."""

    data: dict
    timestamp: int
    nonce: str


def parse_body(body: bytes, now: float) -> SignedBody:
    """The JSON object of an app call, with a fresh timestamp and a well-formed nonce."""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError("bad_request", 400, "the body is too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("bad_request", 400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError("bad_request", 400, "the body is not a JSON object")
    timestamp = data.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise ApiError("bad_request", 400, "timestamp must be an integer (Unix seconds)")
    if abs(int(now) - timestamp) > CLOCK_SKEW_SECONDS:  # ints: a huge value must not overflow
        raise ApiError("replayed", 401, "the timestamp is too far from the portal's clock")
    nonce = data.get("nonce")
    if len(b64url_decode(nonce, "nonce")) < NONCE_MIN_BYTES:
        raise ApiError("bad_request", 400, f"nonce must have at least {NONCE_MIN_BYTES} bytes")
    return SignedBody(data, timestamp, nonce)


def device_id_from_header(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ApiError("unknown_device", 404, "no such device") from None


def string_field(data: dict, name: str, *, max_length: int = 200, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ApiError("bad_request", 400, f"{name} must be a text of 1 to {max_length} characters")
    return value.strip()


def challenges_match(expected: str, given) -> bool:
    if not isinstance(given, str):
        return False
    # surrogatepass: a lone surrogate in the JSON must compare unequal, not crash.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def describe_browser(user_agent: str) -> str:
    """ "Firefox on Windows": what the app shows the user about the browser signing in."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} ({system})"
    return browser or system or user_agent[:60]
