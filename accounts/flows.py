"""Request-bound steps: signing in and out, re-authentication, and the sensitive changes.

Each sensitive flow checks the re-authentication window itself (not only its view), counts
against a rate limit, then calls the domain service, which audits and notifies.
"""

from django.contrib import auth
from django.http import HttpRequest, QueryDict

from . import ratelimit
from .adapter import get_adapter
from .audit import record
from .backends import UsernameOrEmailBackend
from .models import AuditEvent, User
from .reauth import mark_authenticated, raise_if_reauthentication_required
from .services import security

BACKEND_PATH = f"{UsernameOrEmailBackend.__module__}.{UsernameOrEmailBackend.__name__}"
SENSITIVE_CHANGES_PER_HOUR = 5


def login(request: HttpRequest, user: User) -> None:
    """Start a new session (a new session key, so a planted one is useless) for `user`.

    The session clocks and the audit record are set by `accounts.signals` for every login path.
    """
    auth.login(request, user, backend=BACKEND_PATH)


def logout(request: HttpRequest) -> None:
    auth.logout(request)  # audited by accounts.signals, like the admin's logout


def reauthenticate(request: HttpRequest, password: str, posted: QueryDict) -> bool:
    """Prove the password again, and the second factor if the user has one.

    The password is throttled like a login. True opens the sudo window.
    """
    second_factor_ok = get_adapter().verify_reauthentication(request, request.user, posted)
    user = auth.authenticate(request, username=request.user.get_username(), password=password)
    if user is None or user.pk != request.user.pk or not second_factor_ok:
        return False
    mark_authenticated(request, new_session=False)
    record(AuditEvent.Kind.REAUTHENTICATED, user=user, request=request)
    return True


def change_password(request: HttpRequest, new_password: str) -> None:
    raise_if_reauthentication_required(request)
    user = request.user
    ratelimit.hit(
        "password-change", str(user.pk), limit=SENSITIVE_CHANGES_PER_HOUR, per_seconds=3600
    )
    security.change_password(user, new_password, request=request)
    # Keep this session; every other session of the user ends with the old password hash.
    auth.update_session_auth_hash(request, user)


def start_contact_change(request: HttpRequest, channel: str, new_value: str) -> None:
    raise_if_reauthentication_required(request)
    user = request.user
    ratelimit.hit(
        f"contact-change-{channel}",
        str(user.pk),
        limit=SENSITIVE_CHANGES_PER_HOUR,
        per_seconds=3600,
    )
    security.start_contact_change(user, channel, new_value, request=request)
