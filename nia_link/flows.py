"""Request-bound steps of the NIA link: the re-authentication is checked here, inside the flow,
so that no view (or a later caller) can file a request on a session that proved nothing lately.
"""

from django.http import HttpRequest

from accounts.reauth import raise_if_reauthentication_required

from . import completion, eobcanka, services
from .models import Link


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
