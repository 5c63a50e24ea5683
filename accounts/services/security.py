"""Security-sensitive changes of an account: the password and the contacts."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from mojeid.messaging import queue_email

from .. import ratelimit
from ..audit import record
from ..backends import find_user, normalize_identifier
from ..models import AuditEvent, User
from .contacts import ContactCodeError, channel_taken, send_code


def change_password(user: User, new_password: str, *, request: HttpRequest | None = None) -> None:
    """Set a new password, record it and tell the user by e-mail."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        password_was_set(user, actor=user, request=request)


def password_was_set(user: User, *, actor: User | None, request: HttpRequest | None) -> None:
    """Audit and announce a password that was just set (by the user, or by staff in the admin)."""
    record(AuditEvent.Kind.PASSWORD_CHANGED, user=user, actor=actor, request=request)
    if user.profile.email:
        queue_email(user.profile.email, "password_changed", {"user": user}, user.language)


def start_contact_change(
    user: User, channel: str, new_value: str, *, request: HttpRequest | None = None
) -> None:
    """Send a code to a new e-mail address or phone; it replaces the old one once confirmed."""
    if channel_taken(channel, new_value, exclude_user=user):
        raise ContactCodeError(_("An account with this e-mail address already exists."))
    send_code(user, channel, new_value, request=request)


def send_password_reset(
    identifier: str, *, request: HttpRequest, reset_path: Callable[[str, str], str]
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
    token = default_token_generator.make_token(user)
    link = request.build_absolute_uri(reset_path(uid, token))
    with transaction.atomic():
        record(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, user=user, actor=None, request=request)
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
    if not user.is_active or not default_token_generator.check_token(user, token):
        return None
    return user


def end_other_sessions(user: User) -> None:
    """Sign the user out everywhere: every session made before this no longer matches.

    The caller signs the current browser in again (or calls update_session_auth_hash).
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
