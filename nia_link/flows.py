"""Request-bound steps of the NIA link: the re-authentication is checked here, inside the flow,
so that no view (or a later caller) can file a request on a session that proved nothing lately.
"""

from django.http import HttpRequest

from accounts import ratelimit
from accounts.reauth import raise_if_reauthentication_required
from twofactor.models import SecurityKey

from . import completion, eobcanka, services
from .models import Link, Registration

# "Get" for a later key: how often the citizen may go to NIA for it, and complete it.
KEY_ATTEMPTS = 20
KEY_WINDOW_SECONDS = 60 * 60


def start(request: HttpRequest, *, level: str, route: str) -> Link:
    """File a request for access; the session must have proved the password and the second
    factor within the re-authentication window."""
    raise_if_reauthentication_required(request, second_factor=True)
    return services.start_request(
        request.user, level=level, route=route, actor=request.user, request=request
    )


def verify_at_nia(request: HttpRequest) -> str:
    """Where to send the citizen to sign in at NIA for their filed eObčanka request. NIA's own
    sign-in (the ID card and its PIN) is what proves the identity: no re-authentication here."""
    return eobcanka.begin(request.user)


def remove_access(request: HttpRequest) -> bool:
    """Remove access: the citizen ends their active link. The session must have proved the
    password and the second factor lately; NIA must answer (NiaUnavailable: nothing changed)."""
    raise_if_reauthentication_required(request, second_factor=True)
    services.ensure_nia_answers(request.user, services.NOT_COMPLETED)
    return services.cancel_link(request.user, reason="user", actor=request.user)


def cancel(request: HttpRequest) -> bool:
    """The citizen cancels their request (a link NIA does not know yet): True if one was open."""
    return services.cancel_request(request.user, actor=request.user)


def complete(request: HttpRequest) -> Link:
    """Complete the verified link: NIA is told, the profile takes the register's data. The
    session must have proved the password and the second factor lately."""
    raise_if_reauthentication_required(request, second_factor=True)
    return completion.complete(request.user, actor=request.user, request=request)


def verify_key_at_nia(request: HttpRequest, key: SecurityKey, *, level: str | None = None) -> str:
    """Get → Using an existing authentication method → Verify, for a later key: where to send the
    citizen to sign in at NIA (with eObčanka, or MojeID and a key registered already). NIA's
    sign-in is the proof: no re-authentication here. Rate-limited per account."""
    ratelimit.hit(
        "nia-key-verify", str(request.user.pk), limit=KEY_ATTEMPTS, per_seconds=KEY_WINDOW_SECONDS
    )
    return eobcanka.begin_for_key(request.user, key, level=level)


def complete_key(request: HttpRequest, key: SecurityKey) -> Registration:
    """Complete, for a later key verified at NIA lately: it is registered with NIA. The session
    must have proved the password and the second factor lately; rate-limited per account."""
    raise_if_reauthentication_required(request, second_factor=True)
    ratelimit.hit(
        "nia-key-complete", str(request.user.pk), limit=KEY_ATTEMPTS, per_seconds=KEY_WINDOW_SECONDS
    )
    return completion.add_key(request.user, key, actor=request.user, request=request)
