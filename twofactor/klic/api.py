"""The app's JSON API (`/api/klic/v1/…`), as the README documents it. Thin: authenticate the
call by its signature, parse, call a service, answer. Every refusal is a 4xx JSON error.

No cookies are involved (the app signs each call), so CSRF protection does not apply here, and any
web origin may call it (CORS): a page elsewhere gains nothing a signature does not give it. That
lets the phone-app simulator run on the simulator's own origin.
"""

import time
import unicodedata
import uuid
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from accounts import ratelimit
from accounts.audit import client_address

from ..internal.klic import (
    VERIFIER_BYTES,
    ApiError,
    b64url_decode,
    device_id_from_header,
    load_public_key,
    parse_body,
    string_field,
    verify_signature,
)
from ..models import KlicDevice
from . import services

PAIRINGS_PER_ADDRESS_PER_HOUR = 20
CALLS_PER_DEVICE_PER_HOUR = 3600  # polling every 2 s is 1800

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
    "rate_limited": _("Too many requests. Try again later."),
    "method_not_allowed": _("Use POST."),
}


def _error(problem: ApiError) -> JsonResponse:
    body = {"error": problem.code, "message": str(MESSAGES.get(problem.code, problem.message))}
    return JsonResponse({**body, **problem.extra}, status=problem.status)


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "Content-Type, X-Klic-Signature, X-Klic-Device",
    "Access-Control-Max-Age": "3600",
}


def _endpoint(signed_by_device: bool) -> Callable:
    """Wrap an API view: POST only, errors as JSON, and (unless pairing) the device's signature."""

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest) -> JsonResponse:
            response = _answer(request)
            for header, value in CORS_HEADERS.items():
                response[header] = value
            return response

        def _answer(request: HttpRequest) -> JsonResponse:
            if request.method == "OPTIONS":  # a browser's preflight for a cross-origin call
                return JsonResponse({}, status=200)
            try:
                if request.method != "POST":
                    raise ApiError("method_not_allowed", 405)
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
                _limit(f"device:{device.pk}", CALLS_PER_DEVICE_PER_HOUR)
                return view(request, device, body.data)
            except ApiError as problem:
                return _error(problem)
            except (ValueError, TypeError, UnicodeError, OverflowError):
                # A safety net for input shapes the checks above did not foresee: still the
                # app's fault, so a 400 and not a 500.
                return _error(ApiError("bad_request", 400, "malformed request"))

        return endpoint

    return wrap


def _limit(key: str, per_hour: int) -> None:
    try:
        ratelimit.hit("klic-api", key, limit=per_hour, per_seconds=3600)
    except ratelimit.RateLimited:
        raise ApiError("rate_limited", 429) from None


@_endpoint(signed_by_device=False)
def pair(request: HttpRequest) -> JsonResponse:
    """Pair a new app; the call is signed by the key it brings (proof that it holds it)."""
    _limit(f"pair:{client_address(request)}", PAIRINGS_PER_ADDRESS_PER_HOUR)
    body = parse_body(request.body, time.time())
    data = body.data
    spki = b64url_decode(data.get("public_key"), "public_key")
    verify_signature(load_public_key(spki), request.body, request.headers.get("X-Klic-Signature"))
    services.remember_nonce(services.nonce_owner(spki), body.nonce)
    verifier = b64url_decode(data.get("pin_verifier"), "pin_verifier", length=VERIFIER_BYTES)
    biometrics = data.get("biometrics", False)
    if not isinstance(biometrics, bool):
        raise ApiError("bad_request", 400, "biometrics must be true or false")
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
    name = string_field(data, "device_name", max_length=100, required=False) or "MojeID Klíč"
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name):
        raise ApiError("bad_request", 400, "device_name has control or invisible characters")
    return name


@_endpoint(signed_by_device=True)
def status(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    return JsonResponse(services.device_status(device))


@_endpoint(signed_by_device=True)
def requests(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
    return JsonResponse(
        {
            "requests": [
                {
                    "id": str(login.public_id),
                    "challenge": login.challenge,
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
    method = data.get("method", "pin")
    if method not in ("pin", "biometrics"):
        raise ApiError("bad_request", 400, "method must be pin or biometrics")
    services.decide(
        device,
        request_id=_request_id(data),
        challenge=data.get("challenge"),
        approve=True,
        pin_proof=b64url_decode(data.get("pin_proof"), "pin_proof", length=VERIFIER_BYTES),
        method=method,
        http_request=request,
    )
    return JsonResponse({"status": "approved"})


@_endpoint(signed_by_device=True)
def deny(request: HttpRequest, device: KlicDevice, data: dict) -> JsonResponse:
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
        raise ApiError("unknown_request", 404, "no such sign-in request for this device") from None
