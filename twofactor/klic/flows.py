"""Request-bound steps of MojeID Klíč: setting the app up, removing and unblocking it, and a
sign-in request tied to the browser session that asked.

Each sensitive step checks the re-authentication window itself (not only its view), then calls
the domain service, which audits and notifies. A sign-in request keeps its id and a secret in the
session (only a keyed digest of the secret is stored with the request), so only the browser that
started a sign-in can take its approval, once; the same machinery serves the re-authentication of
a user whose second factor is the app.
"""

import time

from django.http import HttpRequest
from django.utils import timezone

from accounts import ratelimit
from accounts.models import User
from accounts.reauth import ReauthenticationRequired, raise_if_reauthentication_required

from .. import flows as key_flows
from ..adapter import get_adapter
from ..exceptions import KlicNotUsable, NoOtherFactor
from ..models import KlicActivation, KlicDevice
from . import services

LOGIN, REAUTHENTICATE = "login", "reauthenticate"
SESSION_KEY = "mojeid_klic_{}"
ACTIVATION = "mojeid_klic_activation"  # the activation whose code this session showed
# The code itself, so that the set-up page can be shown again (a GET after the POST that made
# it, a refresh) while the code is valid; only this session ever sees it.
ACTIVATION_CODE = "mojeid_klic_activation_code"
REQUESTS_PER_USER = 10  # in REQUEST_WINDOW_SECONDS: a page reload asks again, a script cannot flood
REQUEST_WINDOW_SECONDS = 600
REQUESTS_PER_ADDRESS = 60


# --- setting up, removing, unblocking -------------------------------------------------------------


def start_set_up(request: HttpRequest) -> tuple[str, KlicActivation]:
    """A fresh activation code for the signed-in user, remembered as this session's.

    Needs a fresh re-authentication; `RateLimited` past the hourly number of codes.
    """
    raise_if_reauthentication_required(request)
    code, activation = services.start_activation(request.user)
    request.session[ACTIVATION] = activation.pk
    request.session[ACTIVATION_CODE] = code
    return code, activation


def shown_activation(request: HttpRequest) -> tuple[str, KlicActivation] | None:
    """The activation code this session showed and its activation, while it can still pair."""
    code = request.session.get(ACTIVATION_CODE)
    activation = (
        KlicActivation.objects.filter(
            pk=request.session.get(ACTIVATION),
            user=request.user,
            used_at=None,
            expires_at__gt=timezone.now(),
        ).first()
        if isinstance(code, str) and isinstance(request.session.get(ACTIVATION), int)
        else None
    )
    if activation is None:
        request.session.pop(ACTIVATION_CODE, None)  # used, expired or replaced: never again
        return None
    return code, activation


def pending_pairing(request: HttpRequest) -> KlicDevice | None:
    """The app that paired with the code this session showed, waiting for confirmation."""
    return services.pending_pairing(request.user, request.session.get(ACTIVATION))


def confirm_pairing(request: HttpRequest, device: KlicDevice) -> bool:
    """The user has just re-authenticated on the confirmation page: `device` becomes their app.

    False if it is gone meanwhile.
    """
    raise_if_reauthentication_required(request)
    if not services.confirm_pairing(device, actor=request.user, request=request):
        return False
    request.session.pop(ACTIVATION, None)
    request.session.pop(ACTIVATION_CODE, None)
    return True


def remove(request: HttpRequest) -> bool:
    """Remove the signed-in user's app (or the pairing under way); False if there was none."""
    raise_if_reauthentication_required(request)
    user = request.user
    device = services.active_device(user) or user.klic_devices.first()
    if device is None:
        return False
    # A Klíč registered with NIA needs NIA to answer first, outside the removal's transaction.
    get_adapter().ensure_linked_services_answer(user, klic_device=device)
    services.remove_device(device, actor=user, request=request)
    return True


def unblock(request: HttpRequest) -> bool:
    """The user unblocks their app: only with another second factor proved in this session, and
    at most once in 24 hours. False if the app was not blocked.

    NoOtherFactor: the user has no usable security key (the helpdesk unblocks);
    ReauthenticationRequired: they have one but have not used it in this session lately (the
    window may come from a sign-in with the blocked app itself); UnblockedRecently: once a day.
    """
    raise_if_reauthentication_required(request)
    user = request.user
    device = services.active_device(user)
    if device is None or not device.blocked:
        return False
    if not key_flows.usable_keys(user).exists():
        raise NoOtherFactor("no usable security key")
    if not key_flows.key_proved_recently(request):
        raise ReauthenticationRequired
    return services.unblock_by_user(device, actor=user, request=request)


# --- a sign-in request and its answer -------------------------------------------------------------


def usable_device(user: User) -> KlicDevice | None:
    """The user's confirmed app if it can be asked now (not blocked)."""
    device = services.active_device(user)
    return device if device and not device.blocked else None


def ask(request: HttpRequest, user: User, *, purpose: str, service: str) -> int:
    """Send a sign-in request to the user's app and remember it in this session.

    Returns the number the page must show, for the user to pick in the app. KlicNotUsable if the
    app cannot be asked; `RateLimited` past the limits per user and per client address.
    """
    device = usable_device(user)
    if device is None:
        raise KlicNotUsable("no confirmed, unblocked app")
    ratelimit.hit(
        "klic-request", str(user.pk), limit=REQUESTS_PER_USER, per_seconds=REQUEST_WINDOW_SECONDS
    )
    # Per address too: one visitor with passwords must not flood several users' apps.
    ratelimit.hit_address(
        request,
        "klic-request-address",
        limit=REQUESTS_PER_ADDRESS,
        per_seconds=REQUEST_WINDOW_SECONDS,
    )
    login, secret = services.create_login_request(device, service=service, http_request=request)
    request.session[SESSION_KEY.format(purpose)] = {
        "request": str(login.public_id),
        "secret": secret,
        "user": user.pk,
        "at": time.time(),
    }
    return login.number


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
    if device is not None:
        key_flows.remember_factor(request, klic_device=device, user_verified=True)
    return state, device
