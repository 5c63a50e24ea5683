"""Signing in to public administration services with MojeID: the portal as NIA's identity
provider (DESIGN §2, §8).

NIA sends a citizen who chose MojeID with a signed AuthnRequest; `accept` checks it
(`internal.saml_idp`) against NIA's metadata and keeps it (`SignInRequest`) for the citizen's
sign-in page. The answer vouches for the person's BSI only when this session proved, within
NIA_IDP_FRESH_SECONDS, the account's password **and** an authenticator registered with NIA (and
confirmed by it) under the account's active link at the level asked for (`proof`); *high* takes
MojeID Klíč or a key registered at high used with its PIN or biometrics. Each request is answered
once (`answer` or `refuse` claim it), audited for the citizen, and answered with the level actually
proved and the authenticator's registered identifier.
"""

import re
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditEvent, User
from accounts.reauth import REAUTH_AT
from twofactor import flows as factor_flows
from twofactor.models import KlicDevice, SecurityKey

from .clients import saml
from .internal import keys, saml_idp
from .internal.saml_idp import RequestRefused
from .models import Level, Link, LinkState, Registration, RegistrationState, SignInRequest

# How long a citizen may take to sign in before NIA's request is forgotten.
PENDING = timedelta(minutes=15)
# Where this session's proof of the password for a sign-in (not a full login) is kept.
PASSWORD_PROOF = "mojeid_idp_password"  # noqa: S105 - a session key, not a password
RECENT_SIGN_INS = 10
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class AlreadyAnswered(Exception):
    """The request was answered already (another tab, a double click, a reload)."""


@dataclass(frozen=True)
class Proof:
    """What this session proved that NIA accepts: the registration and the level it reaches."""

    registration: Registration
    level: str  # "substantial" or "high"


@dataclass(frozen=True)
class Answer:
    """The form that carries an answer to NIA: where, the SAMLResponse, the RelayState."""

    acs_url: str
    saml_response: str
    relay_state: str


def accept(saml_request: str, binding: str, *, relay_state: str, query: str) -> SignInRequest:
    """Keep NIA's AuthnRequest for the citizen's sign-in page. RequestRefused when it is not
    acceptable or seen before; SystemUnavailable / SystemAnswerInvalid when NIA's metadata
    cannot be read."""
    received = saml_idp.receive(saml_request, binding, relay_state=relay_state, query=query)
    parsed = saml_idp.read_authn_request(
        received, requester=saml.nia_as_requester(), sso_url=saml.idp_sso_url()
    )
    SignInRequest.objects.filter(created_at__lt=timezone.now() - 2 * PENDING).delete()
    try:
        with transaction.atomic():
            return SignInRequest.objects.create(
                token=secrets.token_urlsafe(32),
                request_id=parsed.id,
                service_name=parsed.service_name,
                level=parsed.level,
                request=_as_json(parsed),
            )
    except IntegrityError:
        raise RequestRefused("replayed", parsed.id) from None


def _as_json(parsed: saml_idp.AuthnRequest) -> dict:
    data = asdict(parsed)
    data["issued_at"] = parsed.issued_at.isoformat()
    data["levels"] = list(parsed.levels)
    return data


def _parsed(sign_in: SignInRequest) -> saml_idp.AuthnRequest:
    data = dict(sign_in.request)
    data["issued_at"] = datetime.fromisoformat(data["issued_at"])
    data["levels"] = tuple(data["levels"])
    return saml_idp.AuthnRequest(**data)


def pending(token: str) -> SignInRequest | None:
    """The request a sign-in page is for, while it waits for its answer."""
    if not TOKEN.fullmatch(token or ""):
        return None  # not one of ours (and nothing for the database to choke on, such as NUL)
    return SignInRequest.objects.filter(
        token=token, answered_at=None, created_at__gte=timezone.now() - PENDING
    ).first()


def display_name(sign_in: SignInRequest) -> str:
    """The service as the citizen sees it, here and in MojeID Klíč: "NIA — Portál občana"."""
    return f"NIA — {sign_in.service_name}" if sign_in.service_name else "NIA"


# --- Who may answer ------------------------------------------------------------------------


def active_link(user: User) -> Link | None:
    return Link.objects.filter(user=user, state=LinkState.ACTIVE).first()


def registered(user: User, level: str) -> list[Registration]:
    """The registrations of the user's active link that NIA confirmed and that can reach `level`
    (a key registered at high reaches high only with its user verified, see `proof`)."""
    link = active_link(user)
    if link is None:
        return []
    registrations = link.registrations.filter(
        wanted=RegistrationState.ACTIVE, at_nia=RegistrationState.ACTIVE
    ).select_related("security_key", "klic_device")
    usable = []
    for registration in registrations:
        if level == Level.HIGH and registration.level != Level.HIGH:
            continue
        key, device = registration.security_key, registration.klic_device
        key_usable = key is not None and not key.possibly_cloned
        klic_usable = device is not None and device.confirmed and not device.blocked
        if key_usable or klic_usable:
            usable.append(registration)
    return usable


def registered_keys(user: User, level: str) -> list[SecurityKey]:
    return [r.security_key for r in registered(user, level) if r.security_key is not None]


def key_ceremony(user: User, sign_in: SignInRequest) -> dict:
    """How the key step of this sign-in asks the browser: its own ceremony, only the keys
    registered for the level, the key's PIN or biometrics for *high*."""
    return {
        "ceremony": f"nia-{sign_in.pk}",
        "only": registered_keys(user, sign_in.level),
        "user_verification": "required" if sign_in.level == Level.HIGH else "preferred",
    }


def registered_klic(user: User, level: str) -> KlicDevice | None:
    return next((r.klic_device for r in registered(user, level) if r.klic_device), None)


def password_fresh(request: HttpRequest, user: User, sign_in: SignInRequest) -> bool:
    """Whether this session proved `user`'s password recently enough for this request."""
    since = _fresh_since(sign_in)
    if request.user.is_authenticated and request.user.pk == user.pk:
        proved = request.session.get(REAUTH_AT)
        if isinstance(proved, int | float) and proved >= since:
            return True
    parked = request.session.get(PASSWORD_PROOF) or {}
    return (
        parked.get("token") == sign_in.token
        and parked.get("user") == user.pk
        and isinstance(parked.get("at"), int | float)
        and parked["at"] >= since
    )


def remember_password(request: HttpRequest, user: User, sign_in: SignInRequest) -> None:
    request.session[PASSWORD_PROOF] = {"token": sign_in.token, "user": user.pk, "at": time.time()}


def parked_user(request: HttpRequest, sign_in: SignInRequest) -> User | None:
    """Who proved their password on this sign-in page without being signed in to the portal."""
    parked = request.session.get(PASSWORD_PROOF) or {}
    if parked.get("token") != sign_in.token:
        return None
    return User.objects.filter(pk=parked.get("user"), is_active=True).first()


def _fresh_since(sign_in: SignInRequest) -> float:
    since = time.time() - settings.NIA_IDP_FRESH_SECONDS
    if sign_in.request.get("force_authn"):
        # ForceAuthn: only what was proved after the request arrived counts.
        since = max(since, sign_in.created_at.timestamp())
    return since


def proof(request: HttpRequest, user: User, sign_in: SignInRequest) -> Proof | None:
    """What this session proved lately for this request: the password and an authenticator
    registered with NIA that reaches the level asked for; None when something is missing."""
    if not password_fresh(request, user, sign_in):
        return None
    factor = factor_flows.factor_proof(request)
    if factor is None or factor["at"] < _fresh_since(sign_in):
        return None
    parsed = _parsed(sign_in)
    for registration in registered(user, Level.SUBSTANTIAL):
        if factor.get("key") and registration.security_key_id == factor["key"]:
            high = registration.level == Level.HIGH and factor.get("user_verified")
        elif factor.get("klic") and registration.klic_device_id == factor["klic"]:
            high = registration.level == Level.HIGH
        else:
            continue
        level = Level.HIGH if high else Level.SUBSTANTIAL
        if saml_idp.proves(level, parsed):
            return Proof(registration=registration, level=level)
    return None


# --- Answers -------------------------------------------------------------------------------


def _claim(sign_in: SignInRequest, *, user: User | None, outcome: str) -> None:
    claimed = SignInRequest.objects.filter(pk=sign_in.pk, answered_at=None).update(
        answered_at=timezone.now(), outcome=outcome, user=user
    )
    if not claimed:
        raise AlreadyAnswered(sign_in.request_id)


def answer(request: HttpRequest, user: User, sign_in: SignInRequest, proved: Proof) -> Answer:
    """Vouch to NIA for `user` at the level proved: the signed, encrypted assertion, once."""
    parsed = _parsed(sign_in)
    pair = keys.service_provider_pair()
    link = proved.registration.link
    saml_response = saml_idp.success_response(
        parsed,
        saml.nia_as_requester(),
        issuer=saml.entity_id(),
        bsi=link.bsi,
        level=proved.level,
        authenticator=proved.registration.identifier,
        key_pem=pair.key_pem,
        cert_pem=pair.cert_pem,
    )
    with transaction.atomic():
        _claim(sign_in, user=user, outcome="signed_in")
        record(
            AuditEvent.Kind.NIA_SIGN_IN,
            user=user,
            request=request,
            service=sign_in.service_name or "NIA",
            level=proved.level,
            authenticator=authenticator_name(proved.registration),
            registration=proved.registration.identifier,
        )
    return Answer(parsed.acs_url, saml_response, parsed.relay_state)


def refuse(
    request: HttpRequest,
    sign_in: SignInRequest,
    *,
    status: str,
    reason: str,
    user: User | None = None,
) -> Answer:
    """Tell NIA the citizen could not be signed in (no assertion), once; audited for them."""
    parsed = _parsed(sign_in)
    pair = keys.service_provider_pair()
    saml_response = saml_idp.error_response(
        parsed,
        issuer=saml.entity_id(),
        status=status,
        message=reason,
        key_pem=pair.key_pem,
        cert_pem=pair.cert_pem,
    )
    with transaction.atomic():
        _claim(sign_in, user=user, outcome=f"refused:{reason}"[:24])
        if user is not None:
            record(
                AuditEvent.Kind.NIA_SIGN_IN_REFUSED,
                user=user,
                request=request,
                service=sign_in.service_name or "NIA",
                level=sign_in.level,
                reason=reason,
            )
    return Answer(parsed.acs_url, saml_response, parsed.relay_state)


def authenticator_name(registration: Registration) -> str:
    if registration.klic_device_id:
        return "MojeID Klíč"
    return registration.security_key.name if registration.security_key else ""


def recent_sign_ins(user: User) -> list[AuditEvent]:
    """The user's latest sign-ins to public administration services (Settings)."""
    return list(
        AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN).order_by(
            "-created_at"
        )[:RECENT_SIGN_INS]
    )
