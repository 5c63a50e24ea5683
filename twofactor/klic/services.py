"""MojeID Klíč domain operations. Each state change is one function in one transaction that locks
what it changes, writes an audit record naming who acted and tells the user by e-mail.

The app is authenticated by its own signature (see `twofactor.internal.klic`); these functions get
a device that has already proved itself, or the user's browser session for the pages. Refusals are
the typed exceptions of `twofactor.exceptions`, without HTTP: the API and the views map them.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import ratelimit
from accounts.audit import SELF, client_address, record
from accounts.models import AuditEvent, User
from accounts.notifications import tell
from mojeid.crypto import digest_matches, keyed_digest

from ..adapter import get_adapter
from ..exceptions import (
    InvalidActivationCode,
    KlicBlocked,
    KlicNotConfirmed,
    LoginRequestDecided,
    LoginRequestExpired,
    ReplayedCall,
    UnblockedRecently,
    UnknownDevice,
    UnknownLoginRequest,
    WrongChallenge,
    WrongNumber,
    WrongPin,
)
from ..internal.klic import (
    ACTIVATION_PURPOSE,
    challenges_match,
    describe_browser,
    new_activation_code,
    new_number_choices,
    normalise_code,
)
from ..models import KlicActivation, KlicDevice, KlicLoginRequest

ACTIVATION_LIFETIME = timedelta(minutes=10)
ACTIVATIONS_PER_HOUR = 10
# An app paired but not confirmed is forgotten after this: the user confirms while the set-up
# page is still open.
CONFIRMATION_WINDOW = timedelta(minutes=15)
LOGIN_REQUEST_LIFETIME = timedelta(minutes=2)
MAX_WRONG_PINS = 5
UNBLOCK_INTERVAL = timedelta(hours=24)
NONCE_MEMORY_SECONDS = 900  # longer than the accepted clock skew either way
BROWSER_SECRET_PURPOSE = "klic-browser-secret"  # noqa: S105 - a digest purpose, not a secret

Actor = User | type(SELF) | None  # who acted: a user (the owner or staff), SELF, None (the system)


# --- the PIN --------------------------------------------------------------------------------------


def hash_pin_verifier(verifier: bytes, salt: bytes | None = None) -> str:
    """What the portal keeps of the app's PIN verifier: a salted SHA-256.

    The verifier is already PBKDF2(PIN, a 128-bit salt that never leaves the phone): without that
    salt it cannot be guessed from its hash, so a slow hash here would add nothing but seconds of
    CPU to every approval while the device row is locked.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    return f"sha256${salt.hex()}${hashlib.sha256(salt + verifier).hexdigest()}"


def pin_verifier_matches(proof: bytes, stored: str) -> bool:
    """Whether the app's PIN proof is the verifier it sent at pairing (constant time)."""
    try:
        scheme, salt, _ = stored.split("$")
        expected = hash_pin_verifier(proof, bytes.fromhex(salt))
    except ValueError:
        return False
    return scheme == "sha256" and secrets.compare_digest(expected, stored)


# --- pairing --------------------------------------------------------------------------------------


def start_activation(user: User) -> tuple[str, KlicActivation]:
    """A new one-time activation code for `user` (any unused earlier one stops working).

    At most ACTIVATIONS_PER_HOUR (`RateLimited` beyond): each new code also voids the pairing
    under way. Nothing is audited yet: the pairing and its confirmation are.
    """
    ratelimit.hit("klic-activation", str(user.pk), limit=ACTIVATIONS_PER_HOUR, per_seconds=3600)
    code = new_activation_code()
    with transaction.atomic():
        user.klic_activations.filter(used_at=None).delete()
        user.klic_devices.filter(confirmed=False).delete()  # an unfinished earlier pairing
        activation = KlicActivation.objects.create(
            user=user,
            code_hash=keyed_digest(ACTIVATION_PURPOSE, normalise_code(code)),
            expires_at=timezone.now() + ACTIVATION_LIFETIME,
        )
    return code, activation


def pair(
    *,
    activation_code: object,
    public_key: bytes,
    pin_verifier: bytes,
    biometrics: bool,
    device_name: str,
    request: HttpRequest | None = None,
) -> KlicDevice:
    """Bind the app that proved `public_key` to the account of a valid activation code.

    The device starts unconfirmed: the user confirms the pairing by signing in again. The actor
    is the account's owner, whose code the app carries.
    """
    normalised = normalise_code(activation_code)
    if normalised is None:
        raise InvalidActivationCode("unknown, expired or used activation code")
    with transaction.atomic():
        activation = (
            KlicActivation.objects.select_for_update()
            .select_related("user")
            .filter(
                code_hash=keyed_digest(ACTIVATION_PURPOSE, normalised),
                used_at=None,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if activation is None:
            raise InvalidActivationCode("unknown, expired or used activation code")
        activation.used_at = timezone.now()
        activation.save(update_fields=["used_at"])
        user = activation.user
        user.klic_devices.filter(confirmed=False).delete()  # an earlier, unfinished pairing
        device = KlicDevice.objects.create(
            user=user,
            activation=activation,
            name=device_name[:100],
            public_key=public_key,
            pin_verifier=hash_pin_verifier(pin_verifier),
            biometrics=biometrics,
        )
        record(
            AuditEvent.Kind.KLIC_PAIRED,
            user=user,
            actor=SELF,
            request=request,
            device=device.name,
            biometrics=biometrics,
        )
    return device


def pending_pairing(user: User, activation_id: int | None) -> KlicDevice | None:
    """The app that paired with this activation code and waits for the user's confirmation."""
    if activation_id is None:
        return None
    return (
        user.klic_devices.filter(
            confirmed=False,
            activation_id=activation_id,
            paired_at__gt=timezone.now() - CONFIRMATION_WINDOW,
        )
        .order_by("-paired_at")
        .first()
    )


def confirm_pairing(
    device: KlicDevice, *, actor: Actor, request: HttpRequest | None = None
) -> bool:
    """The user signed in again: the app becomes their MojeID Klíč (replacing an older one).

    False if the device is gone meanwhile (a new pairing replaced it, or it was removed).
    """
    with transaction.atomic():
        device = (
            KlicDevice.objects.select_for_update()
            .select_related("user")
            .filter(pk=device.pk)
            .first()
        )
        if device is None:
            return False
        if device.confirmed:
            return True
        device.user.klic_devices.exclude(pk=device.pk).delete()
        device.confirmed, device.confirmed_at = True, timezone.now()
        device.save(update_fields=["confirmed", "confirmed_at"])
        record(AuditEvent.Kind.KLIC_CONFIRMED, user=device.user, actor=actor, request=request)
        tell(device.user, "klic_paired", device=device)
    return True


def remove_device(device: KlicDevice, *, actor: Actor, request: HttpRequest | None = None) -> None:
    """Remove the user's app, and any pairing of theirs still waiting for confirmation.

    `actor` is the user themself, or the staff member who removed it for them.
    """
    with transaction.atomic():
        user = device.user
        # Its registration with NIA ends with it (the flow has asked NIA to answer first).
        get_adapter().authenticator_removed(
            user, klic_device=device, actor=user if actor is SELF else actor
        )
        user.klic_devices.all().delete()
        record(AuditEvent.Kind.KLIC_REMOVED, user=user, actor=actor, request=request)
        tell(user, "klic_removed", device=device)


def active_device(user: User) -> KlicDevice | None:
    """The user's confirmed app, blocked or not."""
    return user.klic_devices.filter(confirmed=True).first()


# --- the app's calls ------------------------------------------------------------------------------


def device_for_api(device_id) -> KlicDevice:
    """The paired device an app call names, of an active account; UnknownDevice otherwise."""
    device = KlicDevice.objects.select_related("user").filter(device_id=device_id).first()
    if device is None or not device.user.is_active:
        raise UnknownDevice("no such device")
    return device


def nonce_owner(public_key: bytes) -> str:
    """Nonces are remembered per app key, so a signed pairing call cannot be replayed as a
    device call of the same app either."""
    return hashlib.sha256(bytes(public_key)).hexdigest()


def remember_nonce(owner: str, nonce: str) -> None:
    """Accept each nonce once per app key."""
    digest = hashlib.sha256(f"{owner}:{nonce}".encode()).hexdigest()
    if not cache.add(f"klic-nonce:{digest}", 1, NONCE_MEMORY_SECONDS):
        raise ReplayedCall("this call was made before")


def device_status(device: KlicDevice) -> dict:
    """What the app's `status` call answers."""
    state = "blocked" if device.blocked else "active" if device.confirmed else "pending"
    return {"status": state, "pin_attempts_left": max(0, MAX_WRONG_PINS - device.failed_pins)}


def _usable(device: KlicDevice) -> None:
    if not device.confirmed:
        raise KlicNotConfirmed("the pairing is not confirmed yet")
    if device.blocked:
        raise KlicBlocked("the app is blocked after five wrong PINs")


def pending_requests(device: KlicDevice) -> list[KlicLoginRequest]:
    """The sign-ins waiting for this app's decision, oldest first."""
    _usable(device)
    return list(
        device.requests.filter(
            status=KlicLoginRequest.Status.PENDING, expires_at__gt=timezone.now()
        ).order_by("created_at")
    )


def decide(
    device: KlicDevice,
    *,
    request_id,
    challenge: object,
    approve: bool,
    number: int | None = None,
    pin_proof: bytes | None = None,
    method: str = "pin",
    http_request: HttpRequest | None = None,
) -> KlicLoginRequest:
    """Approve (with the number the browser shows and the PIN) or deny one sign-in request.

    The number is checked first: a wrong pick denies the request for good and costs no PIN try.
    A wrong PIN is counted for good (the transaction commits) before the refusal is raised; the
    fifth blocks the app. The actor of either decision is the app's owner.
    """
    refusal = None
    with transaction.atomic():
        device = KlicDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        _usable(device)
        login = (
            KlicLoginRequest.objects.select_for_update()
            .filter(device=device, public_id=request_id)
            .first()
        )
        if login is None:
            raise UnknownLoginRequest("no such sign-in request for this device")
        if login.status != KlicLoginRequest.Status.PENDING:
            raise LoginRequestDecided("this sign-in was decided already")
        if login.expired:
            raise LoginRequestExpired("this sign-in request has expired")
        if not challenges_match(login.challenge, challenge):
            raise WrongChallenge("the challenge is not this request's")
        if approve and not _number_matches(login, number):
            _record_decision(device, login, False, method, http_request, reason="wrong_number")
            refusal = WrongNumber("the number picked is not the one the browser shows")
        elif approve and not pin_verifier_matches(pin_proof or b"", device.pin_verifier):
            refusal = _count_wrong_pin(device, http_request)
        else:
            _record_decision(device, login, approve, method, http_request)
    if refusal:
        raise refusal
    return login


def _number_matches(login: KlicLoginRequest, number: int | None) -> bool:
    # Not secret once decided, and one guess per request: a plain comparison will do. A request
    # made before number matching (number 0) matches nothing the app can send.
    return number is not None and login.number != 0 and number == login.number


def _record_decision(
    device: KlicDevice,
    login: KlicLoginRequest,
    approve: bool,
    method: str,
    http_request: HttpRequest | None,
    **details: object,
) -> None:
    now = timezone.now()
    login.status = KlicLoginRequest.Status.APPROVED if approve else KlicLoginRequest.Status.DENIED
    login.decided_at = now
    login.save(update_fields=["status", "decided_at"])
    if approve:
        device.failed_pins = 0  # the count is of wrong PINs in a row
    device.last_used_at = now
    device.save(update_fields=["failed_pins", "last_used_at"])
    record(
        AuditEvent.Kind.KLIC_LOGIN_APPROVED if approve else AuditEvent.Kind.KLIC_LOGIN_DENIED,
        user=device.user,
        actor=SELF,
        request=http_request,
        service=login.service,
        method=method if approve else None,
        **details,
    )


def _count_wrong_pin(
    device: KlicDevice, http_request: HttpRequest | None
) -> KlicBlocked | WrongPin:
    device.failed_pins += 1
    blocked = device.failed_pins >= MAX_WRONG_PINS
    if blocked:
        device.blocked_at = timezone.now()
    device.save(update_fields=["failed_pins", "blocked_at"])
    record(AuditEvent.Kind.KLIC_WRONG_PIN, user=device.user, actor=SELF, request=http_request)
    if blocked:
        record(AuditEvent.Kind.KLIC_BLOCKED, user=device.user, actor=None, request=http_request)
        tell(device.user, "klic_blocked", device=device)
        return KlicBlocked("five wrong PINs: the app is blocked")
    return WrongPin("wrong PIN", pin_attempts_left=MAX_WRONG_PINS - device.failed_pins)


# --- the browser's side of a sign-in --------------------------------------------------------------


def create_login_request(
    device: KlicDevice, *, service: str, http_request: HttpRequest
) -> tuple[KlicLoginRequest, str]:
    """A new request for the app to approve, and the secret only the asking browser keeps.

    The request's `number` is for the asking browser to show; the app gets `number_choices`.
    """
    secret = secrets.token_urlsafe(32)
    number, choices = new_number_choices()
    login = KlicLoginRequest.objects.create(
        device=device,
        challenge=secrets.token_urlsafe(32),
        browser_secret_hash=keyed_digest(BROWSER_SECRET_PURPOSE, secret),
        number=number,
        number_choices=choices,
        service=service[:200],
        browser=describe_browser(http_request.META.get("HTTP_USER_AGENT", ""))[:200],
        ip_address=client_address(http_request),
        expires_at=timezone.now() + LOGIN_REQUEST_LIFETIME,
    )
    return login, secret


def take_approval(
    request_id, secret: str, user: User, *, take: bool = True
) -> tuple[str, KlicDevice | None]:
    """The state of the browser's request; an approval is used up here, exactly once.

    Returns ("approved", device) the one time the approval is taken, else (state, None) with
    state one of pending, denied, expired, gone. With take=False an approval is only reported
    (the page learns it may go on; the form it then posts takes it).
    """
    # The page polls every two seconds: reading needs no lock (on SQLite a transaction would take
    # the database's only write lock), so only taking an approval opens one.
    state = _approval_state(_browser_request(request_id, secret, user))
    if state != "approved" or not take:
        return state, None
    with transaction.atomic():
        login = _browser_request(request_id, secret, user, lock=True)
        if _approval_state(login) != "approved":  # another poll took it a moment ago
            return "gone", None
        login.status = KlicLoginRequest.Status.COMPLETED
        login.save(update_fields=["status"])
        return "approved", login.device


def _browser_request(
    request_id, secret: str, user: User, *, lock: bool = False
) -> KlicLoginRequest | None:
    """The user's request with this id, if `secret` is the one its browser keeps."""
    requests = KlicLoginRequest.objects.select_related("device")
    login = (
        (requests.select_for_update() if lock else requests)
        .filter(public_id=request_id, device__user=user)
        .first()
    )
    if login is None or not digest_matches(
        login.browser_secret_hash, BROWSER_SECRET_PURPOSE, secret
    ):
        return None
    return login


def _approval_state(login: KlicLoginRequest | None) -> str:
    """approved (and not yet taken), pending, denied, expired or gone."""
    if login is None:
        return "gone"
    if login.status == KlicLoginRequest.Status.APPROVED:
        if not login.device.confirmed or login.device.blocked:
            return "gone"
        if login.decided_at < timezone.now() - LOGIN_REQUEST_LIFETIME:
            return "expired"  # an approval is for now, not to be kept for later
        return "approved"
    if login.status == KlicLoginRequest.Status.PENDING:
        return "expired" if login.expired else "pending"
    return "denied" if login.status == KlicLoginRequest.Status.DENIED else "gone"


# --- unblocking -----------------------------------------------------------------------------------


def unblock_by_user(
    device: KlicDevice, *, actor: Actor, request: HttpRequest | None = None
) -> bool:
    """The user unblocks the app, at most once in UNBLOCK_INTERVAL (else UnblockedRecently).

    That they proved another second factor first is the flow's to check (`flows.unblock`): it
    is a fact of the session. False if the app was not blocked.
    """
    with transaction.atomic():
        device = KlicDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        if not device.blocked:
            return False
        if (
            device.last_unblocked_at
            and timezone.now() - device.last_unblocked_at < UNBLOCK_INTERVAL
        ):
            raise UnblockedRecently("the user unblocked the app less than 24 hours ago")
        _unblock(device, actor=actor, request=request)
    return True


def unblock_by_helpdesk(
    device: KlicDevice, *, actor: User, request: HttpRequest | None = None
) -> bool:
    """Helpdesk (`actor`, a staff member) unblocks the app after checking who is calling; no
    daily limit applies. False if the app was not blocked."""
    with transaction.atomic():
        device = KlicDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        if not device.blocked:
            return False
        _unblock(device, actor=actor, request=request)
    return True


def _unblock(device: KlicDevice, *, actor: Actor, request: HttpRequest | None) -> None:
    device.failed_pins, device.blocked_at = 0, None
    device.last_unblocked_at = timezone.now()
    device.save(update_fields=["failed_pins", "blocked_at", "last_unblocked_at"])
    record(AuditEvent.Kind.KLIC_UNBLOCKED, user=device.user, actor=actor, request=request)
    tell(device.user, "klic_unblocked", device=device)
