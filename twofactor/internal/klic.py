"""MojeID Klíč, the pure parts: activation codes, the numbers to match, the app's signatures and
its messages.

No database and no request here. The protocol is the one the README documents ("The app API"):
the app signs the exact bytes of each JSON body with its P-256 key (WebCrypto's raw `r‖s`
signature), every body carries a timestamp and a single-use nonce, and the PIN is sent only as a
PBKDF2 verifier the app derives itself. Refusals are the typed exceptions of
`twofactor.exceptions`, each with the README's error code; the API maps them to HTTP statuses.
"""

import base64
import binascii
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

from ..exceptions import BadSignature, MalformedCall, ReplayedCall, UnknownDevice

# Letters and digits that cannot be mistaken for one another when retyped from a screen.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4
QR_SCHEME = "mojeidklic"
SIGNATURE_BYTES = 64  # P-256 r‖s
VERIFIER_BYTES = 32  # PBKDF2-HMAC-SHA256 output the app sends in place of the PIN
NONCE_MIN_BYTES = 16
MAX_BODY_BYTES = 16 * 1024
CLOCK_SKEW_SECONDS = 300
# Number matching: the browser shows one two-digit number, the app offers it among this many.
NUMBER_RANGE = range(10, 100)
NUMBER_CHOICES = 3
ACTIVATION_PURPOSE = "klic-activation"  # of `mojeid.crypto.keyed_digest`


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


def new_number_choices() -> tuple[int, list[int]]:
    """The number the browser shows, and the distinct numbers the app offers, in random order.

    Both the numbers and the place of the right one among them are random, so an approval
    pushed at someone who does not see the browser is a blind guess.
    """
    offered = secrets.SystemRandom().sample(NUMBER_RANGE, NUMBER_CHOICES)
    return secrets.choice(offered), offered


def picked_number(value: object) -> int:
    """The number an approval says the user picked: a JSON integer, else MalformedCall."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedCall("number must be an integer: the number the user picked")
    return value


def qr_content(code: str, portal_origin: str) -> str:
    """What the set-up page's QR code holds: the activation code and where the portal is."""
    return f"{QR_SCHEME}:activate?code={code}&portal={quote(portal_origin, safe='')}"


def b64url_decode(value, what: str, *, length: int | None = None) -> bytes:
    """The bytes of base64url field `what` (of `length` bytes if given), else MalformedCall."""
    if not isinstance(value, str) or not value:
        raise MalformedCall(f"{what} is missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise MalformedCall(f"{what} is not base64url") from None
    if length is not None and len(raw) != length:
        raise MalformedCall(f"{what} must be {length} bytes")
    return raw


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as the app API writes bytes."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_public_key(spki: bytes) -> ec.EllipticCurvePublicKey:
    """The app's key: P-256 only, as WebCrypto exports it (DER SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_der_public_key(spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise MalformedCall("public_key is not a DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise MalformedCall("public_key must be an ECDSA P-256 key")
    return key


def verify_signature(public_key: ec.EllipticCurvePublicKey, body: bytes, signature: str) -> None:
    """Check the X-Klic-Signature header over the exact body; BadSignature if it does not match."""
    try:
        raw = b64url_decode(signature, "X-Klic-Signature", length=SIGNATURE_BYTES)
    except MalformedCall:
        raise BadSignature("the signature is missing or malformed") from None
    half = SIGNATURE_BYTES // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise BadSignature("the signature does not match") from None


@dataclass(frozen=True)
class SignedBody:
    """A parsed app call: its JSON object, its timestamp and nonce."""

    data: dict
    timestamp: int
    nonce: str


def parse_body(body: bytes, now: float) -> SignedBody:
    """The JSON object of an app call, with a fresh timestamp and a well-formed nonce."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedCall("the body is too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedCall("the body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedCall("the body is not a JSON object")
    timestamp = data.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise MalformedCall("timestamp must be an integer (Unix seconds)")
    if abs(int(now) - timestamp) > CLOCK_SKEW_SECONDS:  # ints: a huge value must not overflow
        raise ReplayedCall("the timestamp is too far from the portal's clock")
    nonce = data.get("nonce")
    if len(b64url_decode(nonce, "nonce")) < NONCE_MIN_BYTES:
        raise MalformedCall(f"nonce must have at least {NONCE_MIN_BYTES} bytes")
    return SignedBody(data, timestamp, nonce)


def device_id_from_header(value) -> uuid.UUID:
    """The device id of the X-Klic-Device header; UnknownDevice if it cannot be one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise UnknownDevice("no such device") from None


def string_field(data: dict, name: str, *, max_length: int = 200, required: bool = True) -> str:
    """The stripped text field `name` of a call; MalformedCall if missing (when required) or odd."""
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise MalformedCall(f"{name} must be a text of 1 to {max_length} characters")
    return value.strip()


def challenges_match(expected: str, given) -> bool:
    """Whether the app's `given` challenge is the request's, compared in constant time."""
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
