"""Request-bound steps of the key ceremonies: challenges in the session, the pending login.

A challenge is bound to the ceremony and the user, expires, and is taken out of the session before
the answer is verified, so it can never be used twice.
"""

import json
import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.reauth import raise_if_reauthentication_required

from . import services
from .adapter import get_adapter
from .exceptions import TooManyKeys
from .internal import webauthn
from .internal.attestation import MalformedRegistration, parse_registration
from .internal.webauthn import CeremonyError
from .models import SecurityKey

CHALLENGE = "mojeid_webauthn_{}"
MAX_CREDENTIAL_JSON = 64 * 1024
PENDING_LOGIN = "mojeid_pending_login"
KEY_PROVED_AT = "mojeid_key_proved_at"
# The last second factor this session proved: which one, when, and whether its user was verified
# (a key's PIN or biometrics), for whoever must know more than "a factor" (NIA's sign-in).
FACTOR_PROOF = "mojeid_factor_proof"
REGISTER, AUTHENTICATE, REAUTHENTICATE = "register", "authenticate", "reauthenticate"
BAD_KEY_DATA = _("Registration failed, incorrect data from security key.")
BAD_ASSERTION = _("The security key could not be verified. Try again.")
ALL_KEYS_BLOCKED = _(
    "Every security key of this account is blocked. Contact MojeID support to set a new one."
)


def _remember_challenge(request: HttpRequest, ceremony: str, user: User, challenge: bytes) -> None:
    request.session[CHALLENGE.format(ceremony)] = {
        "challenge": webauthn.encode(challenge),
        "user": user.pk,
        "expires": time.time() + settings.WEBAUTHN_CHALLENGE_SECONDS,
    }


def _take_challenge(request: HttpRequest, ceremony: str, user: User) -> bytes:
    stored = request.session.pop(CHALLENGE.format(ceremony), None)
    if not stored or stored["user"] != user.pk or stored["expires"] < time.time():
        raise CeremonyError("no pending challenge for this ceremony")
    return webauthn.decode(stored["challenge"])


# --- adding a key ---------------------------------------------------------------------------------


def registration_options(request: HttpRequest) -> dict:
    """Start adding a key; TooManyKeys before any ceremony when the account is full."""
    raise_if_reauthentication_required(request)
    user = request.user
    if not services.has_room_for_a_key(user):
        raise TooManyKeys
    options, challenge = webauthn.registration_options(
        services.relying_party(),
        user_handle=services.user_handle(user),
        user_name=user.username,
        display_name=user.get_full_name(),
        existing=list(user.security_keys.values_list("credential_id", flat=True)),
    )
    _remember_challenge(request, REGISTER, user, challenge)
    return options


def register(
    request: HttpRequest, credential: dict, *, name: str, use_for_public_administration: bool
) -> SecurityKey:
    """Verify the browser's answer and store the key; CeremonyError stores nothing."""
    raise_if_reauthentication_required(request)
    user = request.user
    challenge = _take_challenge(request, REGISTER, user)
    try:
        parse_registration(credential)
    except MalformedRegistration as problem:
        raise CeremonyError(str(problem)) from None
    verified = webauthn.verify_registration(services.relying_party(), credential, challenge)
    if user.security_keys.filter(credential_id=webauthn.encode(verified.credential_id)).exists():
        raise CeremonyError("this key is registered already")
    return services.add_key(
        user,
        credential,
        verified,
        name=name,
        use_for_public_administration=use_for_public_administration,
        actor=user,
        request=request,
    )


def rename(request: HttpRequest, key: SecurityKey, name) -> None:
    """The owner renames a key (names show in e-mails and the audit log: a sensitive change)."""
    raise_if_reauthentication_required(request)
    services.rename_key(key, name, actor=request.user, request=request)


def remove(request: HttpRequest, key: SecurityKey) -> None:
    """The owner removes a key. A key registered with NIA needs NIA to answer first (outside the
    removal's transaction): LinkedServiceUnavailable, and nothing is removed, while it cannot."""
    raise_if_reauthentication_required(request)
    get_adapter().ensure_linked_services_answer(request.user, security_key=key)
    services.remove_key(key, actor=request.user, request=request)


# --- the second login step ------------------------------------------------------------------------


def park_login(request: HttpRequest, user: User, next_url: str) -> None:
    """The password was right; the login completes once a key answers."""
    request.session.cycle_key()
    request.session[PENDING_LOGIN] = {"user": user.pk, "next": next_url, "at": time.time()}


def pending_login(request: HttpRequest) -> tuple[User, str] | None:
    pending = request.session.get(PENDING_LOGIN)
    if not pending or time.time() - pending["at"] > settings.WEBAUTHN_CHALLENGE_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending["next"]) if user else None


def usable_keys(user: User):
    return user.security_keys.filter(possibly_cloned=False)


def authentication_options(
    request: HttpRequest,
    user: User,
    *,
    ceremony: str = AUTHENTICATE,
    only: list[SecurityKey] | None = None,
    user_verification: str = "preferred",
) -> dict:
    """Options for an assertion by one of `user`'s usable keys (or of those `only`), at sign-in,
    re-authentication or another ceremony; `user_verification` "required" asks for the key's PIN
    or biometrics."""
    keys = usable_keys(user)
    if only is not None:
        keys = keys.filter(pk__in=[key.pk for key in only])
    if not keys.exists():
        raise CeremonyError("every key of this account is blocked")
    options, challenge = webauthn.authentication_options(
        services.relying_party(),
        list(keys.values_list("credential_id", flat=True)),
        user_verification=user_verification,
    )
    _remember_challenge(request, ceremony, user, challenge)
    return options


def authenticate(
    request: HttpRequest,
    user: User,
    credential: dict,
    *,
    ceremony: str = AUTHENTICATE,
    only: list[SecurityKey] | None = None,
    user_verification: str = "preferred",
) -> SecurityKey:
    """Verify a key's assertion for `user` (by one of `only`, if given; with its user verified,
    if `user_verification` is "required"); CeremonyError if anything is off."""
    challenge = _take_challenge(request, ceremony, user)
    keys = usable_keys(user)
    if only is not None:
        keys = keys.filter(pk__in=[key.pk for key in only])
    key = keys.filter(credential_id=webauthn.assertion_credential_id(credential)).first()
    if key is None:
        raise CeremonyError("not a key of this account")
    verified = webauthn.verify_authentication(
        services.relying_party(), credential, challenge, bytes(key.public_key)
    )
    if not services.record_use(key, verified.new_sign_count, request=request):
        raise CeremonyError("sign count went backwards: the key may be cloned")
    if user_verification == "required" and not verified.user_verified:
        raise CeremonyError("the key did not verify its user")
    remember_factor(request, security_key=key, user_verified=verified.user_verified)
    if ceremony == AUTHENTICATE:
        request.session.pop(PENDING_LOGIN, None)
    return key


# --- re-authentication ----------------------------------------------------------------------------


def verify_reauthentication(request: HttpRequest, user: User, posted_credential: str) -> bool:
    """The key half of re-authentication; always spends the pending challenge."""
    try:
        if len(posted_credential or "") > MAX_CREDENTIAL_JSON:
            raise ValueError("too large")
        credential = json.loads(posted_credential or "null")
    except ValueError:
        credential = None
    try:
        if not isinstance(credential, dict):
            request.session.pop(CHALLENGE.format(REAUTHENTICATE), None)
            return False
        authenticate(request, user, credential, ceremony=REAUTHENTICATE)
    except CeremonyError:
        return False
    request.session[KEY_PROVED_AT] = time.time()
    return True


def remember_factor(
    request: HttpRequest, *, security_key=None, klic_device=None, user_verified: bool = False
) -> None:
    """This session just proved a second factor: which, when, with its user verified or not."""
    request.session[FACTOR_PROOF] = {
        "key": security_key.pk if security_key is not None else None,
        "klic": klic_device.pk if klic_device is not None else None,
        "user_verified": bool(user_verified),
        "at": time.time(),
    }


def factor_proof(request: HttpRequest) -> dict | None:
    """The last second factor this session proved (`remember_factor`), or None."""
    proof = request.session.get(FACTOR_PROOF)
    return proof if isinstance(proof, dict) and isinstance(proof.get("at"), int | float) else None


def key_proved_recently(request: HttpRequest) -> bool:
    """This session signed in with a security key, or re-authenticated with one just now."""
    if isinstance(getattr(request.user, "otp_device", None), SecurityKey):
        return True
    proved_at = request.session.get(KEY_PROVED_AT, 0)
    return time.time() - proved_at <= settings.REAUTHENTICATION_WINDOW_SECONDS
