"""The app's JSON API (`/api/klic/v2/…`), as the README documents it. Thin: authenticate the
call by its signature, parse, call a service, answer. Every refusal is a 4xx JSON error: the
services raise typed exceptions with the README's error codes, and `STATUSES` below is the one
place that gives each code its HTTP status.

Version 2 added number matching (`numbers` in `requests`, `number` in `approve`). Version 1 let
an approval through without it, so every call to it answers 410 `upgrade_required`.

No cookies are involved (the app signs each call), so CSRF protection does not apply here, and any
web origin may call it (CORS): a page elsewhere gains nothing a signature does not give it. That
lets the phone-app simulator run on the simulator's own origin.
"""

import time
import unicodedata
import uuid
from collections.abc import Callable
from functools import wraps

from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from accounts import ratelimit
from mojeid.db import BUSY_RETRY_SECONDS, database_busy

from ..exceptions import KlicError, MalformedCall, UnknownLoginRequest
from ..internal.klic import (
    VERIFIER_BYTES,
    b64url_decode,
    device_id_from_header,
    load_public_key,
    parse_body,
    picked_number,
    string_field,
    verify_signature,
)
from ..models import KlicDevice
from . import services

PAIRINGS_PER_ADDRESS_PER_HOUR = 20
CALLS_PER_DEVICE_PER_HOUR = 3600  # polling every 2 s is 1800

# The HTTP status of each error code of the README.
STATUSES = {
    "bad_request": 400,
    "bad_signature": 401,
    "replayed": 401,
    "unknown_device": 404,
    "invalid_code": 400,
    "not_active": 409,
    "blocked": 423,
    "unknown_request": 404,
    "wrong_challenge": 400,
    "expired": 410,
    "not_pending": 409,
    "wrong_pin": 403,
    "wrong_number": 403,
    "rate_limited": 429,
    "method_not_allowed": 405,
    "upgrade_required": 410,
    "busy": 503,
}

# The messages the app may show its user, in the user's language (Accept-Language).
MESSAGES = {
    "bad_request": _("The app sent a request the portal cannot read."),
    "bad_signature": _("The request is not signed by this app."),
    "replayed": _("The request was sent before, or the phone's clock is wrong."),
    "unknown_device": _("This app is not paired with any MojeID account."),
    "invalid_code": _("The activation code is not valid. It may have expired or been used."),
    "not_active": _("Confirm the pairing by signing in to MojeID in your browser first."),
    "blocked": _("The app is blocked after five wrong PINs."),
    "unknown_request": _("There is no such sign-in for this app."),
    "wrong_challenge": _("The approval does not belong to this sign-in."),
    "expired": _("This sign-in has expired."),
    "not_pending": _("This sign-in was decided already."),
    "wrong_pin": _("Wrong PIN."),
    "wrong_number": _(
        "This is not the number your browser shows, so the sign-in was denied. If you are "
        "signing in yourself, try again and pick the number shown in the browser."
    ),
    "rate_limited": _("Too many requests. Try again later."),
    "method_not_allowed": _("Use POST."),
    "upgrade_required": _("This version of the app is no longer supported. Update MojeID Klíč."),
    "busy": _("MojeID is busy at the moment. Try again in a few seconds."),
}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "Content-Type, X-Klic-Signature, X-Klic-Device",
    "Access-Control-Max-Age": "3600",
}


def _error(code: str, **extra: object) -> JsonResponse:
    body = {"error": code, "message": str(MESSAGES[code]), **extra}
    return JsonResponse(body, status=STATUSES[code])


def _with_cors(response: JsonResponse) -> JsonResponse:
    for header, value in CORS_HEADERS.items():
        response[header] = value
    return response


def _endpoint(signed_by_device: bool) -> Callable:
    """Wrap an API view: POST only, errors as JSON, and (unless pairing) the device's signature."""

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest) -> JsonResponse:
            return _with_cors(_answer(request))

        def _answer(request: HttpRequest) -> JsonResponse:
            if request.method == "OPTIONS":  # a browser's preflight for a cross-origin call
                return JsonResponse({}, status=200)
            if request.method != "POST":
                return _error("method_not_allowed")
            try:
                if not signed_by_device:
                    return view(request)
                device = services.device_for_api(
                    device_id_from_header(request.headers.get("X-Klic-Device"))
                )
                verify_signature(
                    load_public_key(bytes(device.public_key)),
                    request.body,
                    request.headers.get("X-Klic-Signature"),
                )
                body = parse_body(request.body, time.time())
                services.remember_nonce(services.nonce_owner(device.public_key), body.nonce)
                ratelimit.hit(
                    "klic-api",
                    f"device:{device.pk}",
                    limit=CALLS_PER_DEVICE_PER_HOUR,
                    per_seconds=3600,
                )
                return view(request, device, body.data)
            except KlicError as problem:
                return _error(
                    problem.code if problem.code in STATUSES else "bad_request", **problem.extra
                )
            except ratelimit.RateLimited:
                return _error("rate_limited")
            except (ValueError, TypeError, UnicodeError, OverflowError):
                # A safety net for input shapes the checks above did not foresee: still the
                # app's fault, so a 400 and not a 500.
                return _error("bad_request")
            except OperationalError as problem:
                if not database_busy(problem):
                    raise
                # The transaction was rolled back: the app sends the call again, newly signed.
                response = _error("busy")
                response["Retry-After"] = str(BUSY_RETRY_SECONDS)
                return response

        return endpoint

    return wrap


@csrf_exempt
def upgrade_required(request: HttpRequest) -> JsonResponse:
    """Every call of API version 1, which approved without number matching: 410.

    A preflight is still answered, so that a cross-origin app can read the 410 and its message.
    """
    if request.method == "OPTIONS":
        return _with_cors(JsonResponse({}, status=200))
    return _with_cors(_error("upgrade_required"))


@_endpoint(signed_by_device=False)
def pair(request: HttpRequest) -> JsonResponse:
    """Pair a new app; the call is signed by the key it brings (proof that it holds it)."""
    ratelimit.hit_address(request, "klic-pair", limit=PAIRINGS_PER_ADDRESS_PER_HOUR)
    body = parse_body(request.body, time.time())
    data = body.data
    spki = b64url_decode(data.get("public_key"), "public_key")
    verify_signature(load_public_key(spki), request.body, request.headers.get("X-Klic-Signature"))
    services.remember_nonce(services.nonce_owner(spki), body.nonce)
    verifier = b64url_decode(data.get("pin_verifier"), "pin_verifier", length=VERIFIER_BYTES)
    biometrics = data.get("biometrics", False)
    if not isinstance(biometrics, bool):
        raise MalformedCall("biometrics must be true or false")
    device = services.pair(
        activation_code=data.get("activation_code"),
        public_key=spki,
        pin_verifier=verifier,
        biometrics=biometrics,
        device_name=device_name(data),
        request=request,
    )
    return JsonResponse({"device_id": str(device.device_id), "status": "pending"}, status=201)


def device_name(data: dict) -> str:
    """The name the app gives itself, without control or invisible characters."""
    name = string_field(data, "device_name", max_length=100, required=False) or "MojeID Klíč"
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name):
        raise MalformedCall("device_name has control or invisible characters")
    return name


@_endpoint(signed_by_device=True)
def status(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    """The app's state: pending, active or blocked, and the PIN tries left."""
    return JsonResponse(services.device_status(device))


@_endpoint(signed_by_device=True)
def requests(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    """The sign-ins waiting for this app, each with the numbers to pick from."""
    return JsonResponse(
        {
            "requests": [
                {
                    "id": str(login.public_id),
                    "challenge": login.challenge,
                    "numbers": login.number_choices,
                    "service": login.service,
                    "browser": login.browser,
                    "ip_address": login.ip_address,
                    "created_at": login.created_at.isoformat(),
                    "expires_at": login.expires_at.isoformat(),
                }
                for login in services.pending_requests(device)
            ]
        }
    )


@_endpoint(signed_by_device=True)
def approve(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    """Approve a sign-in: the number the user picked, then the PIN proof."""
    method = data.get("method", "pin")
    if method not in ("pin", "biometrics"):
        raise MalformedCall("method must be pin or biometrics")
    services.decide(
        device,
        request_id=_request_id(data),
        challenge=data.get("challenge"),
        approve=True,
        number=picked_number(data.get("number")),
        pin_proof=b64url_decode(data.get("pin_proof"), "pin_proof", length=VERIFIER_BYTES),
        method=method,
        http_request=request,
    )
    return JsonResponse({"status": "approved"})


@_endpoint(signed_by_device=True)
def deny(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    """Deny a sign-in."""
    services.decide(
        device,
        request_id=_request_id(data),
        challenge=data.get("challenge"),
        approve=False,
        http_request=request,
    )
    return JsonResponse({"status": "denied"})


def _request_id(data: dict) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get("request")))
    except ValueError:
        raise UnknownLoginRequest("no such sign-in request for this device") from None
