"""Security-sensitive changes of an account: the password and the contacts."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from mojeid.messaging import queue_email

from .. import ratelimit
from ..audit import record
from ..backends import find_user, normalize_identifier
from ..models import AuditEvent, User
from ..notifications import tell
from .contacts import send_code


class ResetTokenGenerator(PasswordResetTokenGenerator):
    """Password-reset links that die with any sign-in, password change or session reset.

    Django's own generator relies on `User.last_login`, which this portal does not keep (the
    audit log is the one record of sign-ins): the newest sign-in's audit id stands in for it, and
    the session epoch (raised by a two-factor reset) joins the password hash.
    """

    key_salt = "accounts.services.security.ResetTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        last_sign_in = (
            AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGIN)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        changing = [user.pk, user.password, user.session_epoch, last_sign_in, user.email]
        return ":".join(str(part) for part in [*changing, timestamp])


reset_tokens = ResetTokenGenerator()


def change_password(
    user: User, new_password: str, *, actor: User, request: HttpRequest | None = None
) -> None:
    """Set a new password (by the user, or by staff for them), record who did it, tell the user.

    Every session of the user signed in with the old password ends with it.
    """
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        record(AuditEvent.Kind.PASSWORD_CHANGED, user=user, actor=actor, request=request)
        tell(user, "password_changed")


def start_contact_change(
    user: User, channel: str, new_value: str, *, request: HttpRequest | None = None
) -> None:
    """Send a code to a new e-mail address or phone; it replaces the old one once confirmed.

    An address another account has confirmed gets no code (its owner is told; see `contacts`),
    so this answer never tells whether an address has an account.
    """
    send_code(user, channel, new_value, request=request)


def send_password_reset(
    identifier: str,
    *,
    request: HttpRequest,
    reset_path: Callable[[str, str], str],
    actor: User | None = None,
) -> None:
    """E-mail a password-reset link to the account named by username or e-mail, if there is one.

    Says nothing either way: the caller shows the same answer whether or not the account exists.
    Only a confirmed address gets the link; an unconfirmed one may not belong to the user.
    """
    user = find_user(normalize_identifier(identifier))
    if user is None or not user.is_active or not user.profile.email_confirmed:
        return
    try:
        # Three links an hour are plenty for one person; more would be somebody flooding them.
        ratelimit.hit("password-reset-account", str(user.pk), limit=3, per_seconds=3600)
    except ratelimit.RateLimited:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = reset_tokens.make_token(user)
    link = request.build_absolute_uri(reset_path(uid, token))
    with transaction.atomic():
        # `actor`: the staff member who sent it for the user (helpdesk); else nobody signed in.
        record(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, user=user, actor=actor, request=request)
        queue_email(
            user.profile.email,
            "password_reset",
            {"user": user, "link": link, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            user.language,
        )


def user_for_reset_token(uid: str, token: str) -> User | None:
    """The user a reset link is for, while the link is valid (unused, unexpired)."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uid)))
    except (ValueError, OverflowError, User.DoesNotExist):
        return None
    if not user.is_active or not reset_tokens.check_token(user, token):
        return None
    return user


def end_other_sessions(user: User) -> None:
    """Sign the user out everywhere: every session made before this no longer matches.

    The caller signs the current browser in again (or calls update_session_auth_hash).
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
