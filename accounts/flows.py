"""Request-bound steps: signing in and out, re-authentication, and the sensitive changes.

Each sensitive flow checks the re-authentication window itself (not only its view), counts
against its rate limits — per account here, per client address through `ratelimit.hit_address` —
then calls the domain service, which audits (naming the acting user) and notifies.
"""

from collections.abc import Callable

from django.contrib import auth
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict

from . import ratelimit
from .adapter import get_adapter
from .audit import record
from .backends import UsernameOrEmailBackend
from .models import AuditEvent, User
from .reauth import mark_authenticated, raise_if_reauthentication_required
from .services import security
from .services.profile import update_profile as update_profile_service

BACKEND_PATH = f"{UsernameOrEmailBackend.__module__}.{UsernameOrEmailBackend.__name__}"
SENSITIVE_CHANGES_PER_HOUR = 5
PROFILE_CHANGES_PER_HOUR = 20
# Staff setting other users' passwords: enough for a busy shift, not for a script.
PASSWORDS_SET_BY_STAFF_PER_HOUR = 20
REGISTRATION_ATTEMPTS_PER_ADDRESS_PER_HOUR = 20
PASSWORD_RESET_REQUESTS_PER_ADDRESS_PER_HOUR = 10


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
    # The adapter asked for the second factor if the user has one, and it answered.
    with_factor = get_adapter().reauthentication_template(request, user) is not None
    mark_authenticated(request, new_session=False, with_second_factor=with_factor)
    record(AuditEvent.Kind.REAUTHENTICATED, user=user, request=request)
    return True


def count_registration_attempt(request: HttpRequest) -> None:
    """Count a registration attempt from this client; RateLimited past the hourly cap.

    Called before the form is validated: its answers ("this username is taken") would otherwise
    let anybody test names and addresses without limit.
    """
    ratelimit.hit_address(request, "register", limit=REGISTRATION_ATTEMPTS_PER_ADDRESS_PER_HOUR)


def send_password_reset(
    request: HttpRequest, identifier: str, reset_path: Callable[[str, str], str]
) -> None:
    """E-mail a reset link if the account exists (see the service); limited per client too."""
    ratelimit.hit_address(
        request, "password-reset", limit=PASSWORD_RESET_REQUESTS_PER_ADDRESS_PER_HOUR
    )
    security.send_password_reset(identifier, request=request, reset_path=reset_path)


def change_password(request: HttpRequest, new_password: str) -> None:
    """The signed-in user sets a new password; this session stays signed in."""
    raise_if_reauthentication_required(request)
    user = request.user
    ratelimit.hit(
        "password-change", str(user.pk), limit=SENSITIVE_CHANGES_PER_HOUR, per_seconds=3600
    )
    security.change_password(user, new_password, actor=user, request=request)
    # Keep this session; every other session of the user ends with the old password hash.
    auth.update_session_auth_hash(request, user)


def may_manage(actor: User, user: User) -> bool:
    """Whether staff member `actor` may change `user`'s account: any citizen's, and their own;
    other staff accounts only a superuser (else a helpdesk operator could set a superuser's
    password and sign in as them)."""
    if actor.is_superuser or actor.pk == user.pk:
        return True
    return not (user.is_staff or user.is_superuser)


def set_password_for(request: HttpRequest, user: User, new_password: str) -> None:
    """Staff set another user's password (the helpdesk admin); the user is told by e-mail.

    PermissionDenied when the staff member may not manage `user` (see `may_manage`).
    """
    if not may_manage(request.user, user):
        raise PermissionDenied
    raise_if_reauthentication_required(request)
    ratelimit.hit(
        "password-set-by-staff",
        str(request.user.pk),
        limit=PASSWORDS_SET_BY_STAFF_PER_HOUR,
        per_seconds=3600,
    )
    security.change_password(user, new_password, actor=request.user, request=request)
    if user.pk == request.user.pk:
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


def update_profile(request: HttpRequest, changes: dict) -> list[str]:
    """The signed-in user edits their identity fields (the lock still refuses locked ones)."""
    raise_if_reauthentication_required(request)
    user = request.user
    ratelimit.hit("profile-update", str(user.pk), limit=PROFILE_CHANGES_PER_HOUR, per_seconds=3600)
    return update_profile_service(user, changes, actor=user, request=request)
