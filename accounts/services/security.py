"""Security-sensitive changes of an account: the password and the contacts."""

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mojeid.messaging import queue_email

from ..audit import record
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
