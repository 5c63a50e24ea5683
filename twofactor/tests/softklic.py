"""A MojeID Klíč app for the tests, speaking the README's API with `cryptography`.

It does what the phone app does: makes a P-256 key pair, derives the PIN verifier with PBKDF2,
signs the exact body bytes (raw r‖s, base64url) with a fresh timestamp and nonce, and calls the
portal through a Django test client (or a live portal through `tests.races.Browser`, which posts
alike; `prepare` makes a call to be sent later, as a race sends it). Approving needs the number
the browser shows: the test reads it off the browser's side and picks it
(`approve(request, number=…)`), as the user would among the three `numbers` the request offers.
"""

import base64
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

API = "/api/klic/v2/"
PBKDF2_ITERATIONS = 200_000


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache  # 200,000 rounds: a race's many apps with one PIN and salt derive it once
def pin_verifier(pin: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PBKDF2_ITERATIONS, 32)


@dataclass
class SoftKlic:
    client: object  # django.test.Client: the app has no cookies, any client does
    pin: str = "2580"
    biometrics: bool = False
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    device_id: str | None = None
    last_body: bytes = b""
    last_headers: dict = field(default_factory=dict)

    @property
    def public_key(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def sign(self, body: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> str:
        r, s = decode_dss_signature((key or self.key).sign(body, ec.ECDSA(hashes.SHA256())))
        return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def call(self, endpoint: str, data: dict, *, signed: bool = True, key=None, device_id=None):
        """POST a signed body; returns the test client's response."""
        body, headers = self.prepare(endpoint, data, signed=signed, key=key, device_id=device_id)
        self.last_body, self.last_headers = body, headers
        return self.send(endpoint, body, headers)

    def prepare(
        self, endpoint: str, data: dict, *, signed: bool = True, key=None, device_id=None
    ) -> tuple[bytes, dict]:
        """The body (with a fresh timestamp and nonce) and headers of a call, not sent yet."""
        body = json.dumps(
            {**data, "timestamp": int(time.time()), "nonce": b64url(os.urandom(16))}
        ).encode()
        headers = {"X-Klic-Signature": self.sign(body, key)} if signed else {}
        if device_id or self.device_id:
            headers["X-Klic-Device"] = str(device_id or self.device_id)
        return body, headers

    def send(self, endpoint: str, body: bytes, headers: dict):
        return self.client.post(
            API + endpoint, body, content_type="application/json", headers=headers
        )

    def pair(self, code: str, **overrides):
        response = self.call("pair", self.pairing(code, **overrides))
        if response.status_code == 201:
            self.device_id = response.json()["device_id"]
        return response

    def pairing(self, code: str, **overrides) -> dict:
        """The data of a `pair` call with activation code `code`."""
        return {
            "activation_code": code,
            "public_key": self.public_key,
            "pin_verifier": b64url(pin_verifier(self.pin, self.salt)),
            "biometrics": self.biometrics,
            "device_name": "Pixel v kapse",
            **overrides,
        }

    def status(self):
        return self.call("status", {})

    def requests(self) -> list[dict]:
        response = self.call("requests", {})
        assert response.status_code == 200, response.content
        return response.json()["requests"]

    def approve(self, request: dict, *, number: int | None, pin: str | None = None, **overrides):
        """Approve `request` having picked `number` (None: send no number, as a v1 app did)."""
        return self.call("approve", self.approval(request, number=number, pin=pin, **overrides))

    def approval(
        self, request: dict, *, number: int | None, pin: str | None = None, **overrides
    ) -> dict:
        """The data of an `approve` call (see `approve`)."""
        proof = pin_verifier(self.pin if pin is None else pin, self.salt)
        picked = {} if number is None else {"number": number}
        return {
            "request": request["id"],
            "challenge": request["challenge"],
            "pin_proof": b64url(proof),
            "method": "pin",
            **picked,
            **overrides,
        }

    @staticmethod
    def decoy(request: dict, shown: int) -> int:
        """One of the numbers the app offers for `request` that is not the one the browser shows."""
        assert shown in request["numbers"], (shown, request["numbers"])
        return next(number for number in request["numbers"] if number != shown)

    def deny(self, request: dict):
        return self.call("deny", {"request": request["id"], "challenge": request["challenge"]})
