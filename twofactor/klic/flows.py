"""Request-bound steps of MojeID Klíč: a sign-in request tied to the browser session that asked.

The session keeps the request's id and a secret whose hash is stored with the request, so only
the browser that started a sign-in can take its approval, once. The same machinery serves the
re-authentication of a user whose second factor is the app.
"""

import time

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import ratelimit
from accounts.audit import client_address
from accounts.models import User

from ..models import KlicDevice
from . import services

LOGIN, REAUTHENTICATE = "login", "reauthenticate"
SESSION_KEY = "mojeid_klic_{}"
REQUESTS_PER_USER = 10  # in REQUEST_WINDOW_SECONDS: a page reload asks again, a script cannot flood
REQUEST_WINDOW_SECONDS = 600
REQUESTS_PER_ADDRESS = 60

NOT_USABLE = _("MojeID Klíč is blocked after five wrong PINs. Sign in another way, or unblock it.")
TOO_MANY = _("Too many sign-in requests. Wait a few minutes and try again.")


class KlicUnavailable(Exception):
    """The app cannot be asked now; the message is for the user."""


def usable_device(user: User) -> KlicDevice | None:
    device = services.active_device(user)
    return device if device and not device.blocked else None


def ask(request: HttpRequest, user: User, *, purpose: str, service: str) -> None:
    """Send a sign-in request to the user's app and remember it in this session."""
    device = usable_device(user)
    if device is None:
        raise KlicUnavailable(NOT_USABLE)
    try:
        ratelimit.hit(
            "klic-request",
            str(user.pk),
            limit=REQUESTS_PER_USER,
            per_seconds=REQUEST_WINDOW_SECONDS,
        )
        # Per address too: one visitor with passwords must not flood several users' apps.
        ratelimit.hit(
            "klic-request-address",
            str(client_address(request)),
            limit=REQUESTS_PER_ADDRESS,
            per_seconds=REQUEST_WINDOW_SECONDS,
        )
    except ratelimit.RateLimited:
        raise KlicUnavailable(TOO_MANY) from None
    login, secret = services.create_login_request(device, service=service, http_request=request)
    request.session[SESSION_KEY.format(purpose)] = {
        "request": str(login.public_id),
        "secret": secret,
        "user": user.pk,
        "at": time.time(),
    }


def answer(
    request: HttpRequest, user: User, *, purpose: str, take: bool = True
) -> tuple[str, KlicDevice | None]:
    """What became of this session's request: ("approved", device) once, else (state, None).

    take=False only reports an approval, leaving it to be taken by the next step.
    """
    asked = request.session.get(SESSION_KEY.format(purpose))
    if not asked or asked.get("user") != user.pk:
        return "gone", None
    state, device = services.take_approval(asked["request"], asked["secret"], user, take=take)
    if state in ("denied", "gone") or device is not None:
        request.session.pop(SESSION_KEY.format(purpose), None)
    return state, device
