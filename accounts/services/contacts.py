"""Proving control of an e-mail address (PIN1) or a phone number (PIN2).

A code is sent to a *target*: the contact on the profile (after registration) or a new one the
user wants instead. Confirming the code makes the target the profile's confirmed contact. Codes are
stored as keyed hashes, expire, are single-use, allow a few wrong guesses, and only a few can be
sent an hour.

An e-mail address another account has confirmed is never revealed as such, at registration or at
a change of address: a code is held for it as if it had been sent (a secret no typed PIN matches
stands in for the PIN), nothing goes to the address but a notice to its owner ("somebody tried to
register with your address"), and the confirm step refuses the address anyway.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mojeid.crypto import digest_matches, keyed_digest
from mojeid.messaging import queue_email, queue_sms

from .. import ratelimit
from ..audit import record
from ..models import AuditEvent, ContactCode, Profile, User
from ..notifications import tell
from ..validators import format_phone

Channel = ContactCode.Channel

CODE_LIFETIME = {Channel.EMAIL: timedelta(hours=24), Channel.PHONE: timedelta(minutes=15)}
CODE_DIGITS = {Channel.EMAIL: 8, Channel.PHONE: 6}
MAX_FAILED_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
MAX_CODES_PER_HOUR = 5
# Notices to one owner an hour: enough to be told, not enough for somebody to flood the mailbox.
NOTICES_PER_OWNER_PER_HOUR = 3
TAKEN = _("This address already belongs to another account.")


class ContactCodeError(Exception):
    """A code could not be sent or confirmed; the message is for the user."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class PendingConfirmation:
    channel: str
    target: str
    expires_at: datetime

    @property
    def display_target(self) -> str:
        return format_phone(self.target) if self.channel == Channel.PHONE else self.target


CODE_PURPOSE = "contact-code"


def _current_contact(profile: Profile, channel: str) -> str:
    return profile.email if channel == Channel.EMAIL else profile.phone


def send_code(
    user: User, channel: str, target: str | None = None, *, request: HttpRequest | None = None
) -> ContactCode:
    """Send a new code for `channel` to `target` (default: the profile's contact)."""
    now = timezone.now()
    with transaction.atomic():
        # Serialise concurrent requests of one user so that the limits below hold.
        User.objects.select_for_update().filter(pk=user.pk).first()
        profile = Profile.objects.get(pk=user.pk)
        target = target or _current_contact(profile, channel)
        if not target:
            raise ContactCodeError(_("There is no contact to confirm."))
        recent = ContactCode.objects.filter(
            user=user, channel=channel, created_at__gte=now - timedelta(hours=1)
        )
        if recent.filter(created_at__gt=now - RESEND_INTERVAL).exists():
            raise ContactCodeError(_("A code was sent a moment ago. Wait a minute for another."))
        if recent.count() >= MAX_CODES_PER_HOUR:
            raise ContactCodeError(_("Too many codes were sent. Try again in an hour."))
        ContactCode.objects.filter(
            user=user, channel=channel, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        owner = confirmed_owner(target, exclude_user=user) if channel == Channel.EMAIL else None
        pin = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS[channel]))
        if owner is not None:
            # Held, not sent: a secret no typed PIN can match stands in for the PIN.
            pin = secrets.token_urlsafe(32)
        code = ContactCode.objects.create(
            user=user,
            channel=channel,
            target=target,
            code_hash=keyed_digest(CODE_PURPOSE, user.pk, channel, target, pin),
            created_at=now,
            expires_at=now + CODE_LIFETIME[channel],
        )
        context = {"user": user, "pin": pin, "expires_at": code.expires_at}
        if owner is not None:
            _tell_owner(owner, request=request)
        elif channel == Channel.EMAIL:
            queue_email(target, "contact_code", context, user.language)
        else:
            queue_sms(target, "contact_code", context, user.language)
        record(AuditEvent.Kind.CONTACT_CODE_SENT, user=user, request=request, channel=channel)
    return code


def _tell_owner(owner: User, *, request: HttpRequest | None) -> None:
    """E-mail the owner of an address somebody else asked a code for (a few times an hour)."""
    record(AuditEvent.Kind.REGISTRATION_EMAIL_TAKEN, user=owner, actor=None, request=request)
    try:
        ratelimit.hit(
            "registration-notice",
            str(owner.pk),
            limit=NOTICES_PER_OWNER_PER_HOUR,
            per_seconds=3600,
        )
    except ratelimit.RateLimited:
        return  # told already this hour; the audit log keeps every attempt
    links = {}
    if request is not None:
        links = {
            "login_url": request.build_absolute_uri(reverse("accounts:login")),
            "reset_url": request.build_absolute_uri(reverse("accounts:password_forgotten")),
        }
    tell(owner, "registration_attempt", **links)


def confirm_code(user: User, channel: str, pin: str, *, request: HttpRequest | None = None) -> str:
    """Check `pin` against the user's current code; on success the target becomes the contact.

    Returns the confirmed contact. Raises ContactCodeError with a message for the user; a wrong
    guess is counted even so.
    """
    pin = "".join(pin.split())
    now = timezone.now()
    error = None
    with transaction.atomic():
        code = (
            ContactCode.objects.select_for_update()
            .filter(user=user, channel=channel, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if code is None:
            confirmed = _confirmed_by(user, channel, pin, now)
            if confirmed:
                return confirmed
            raise ContactCodeError(_("The code has expired or was never sent. Ask for a new one."))
        if code.failed_attempts >= MAX_FAILED_ATTEMPTS:
            raise ContactCodeError(_("Too many wrong attempts. Ask for a new code."))
        if not digest_matches(code.code_hash, CODE_PURPOSE, user.pk, channel, code.target, pin):
            code.failed_attempts += 1
            code.save(update_fields=["failed_attempts"])
            error = _("That code is not right. Check it and try again.")
        else:
            try:
                # A savepoint: if another account confirmed the same address a moment ago, the
                # constraint refuses this one and the code stays unused.
                with transaction.atomic():
                    _apply_confirmed_contact(user, code, now, request)
            except IntegrityError:
                error = TAKEN
    if error:
        raise ContactCodeError(error)
    return code.target


def _confirmed_by(user: User, channel: str, pin: str, now: datetime) -> str | None:
    """The contact that `pin` has just confirmed, if it is the code used last and still current.

    The same form sent twice (a double click, two tabs, a reload) is answered like its first copy:
    the contact is confirmed. Nothing changes, nothing is audited and no try is counted, since a
    used code opens nothing.
    """
    used = (
        ContactCode.objects.filter(
            user=user, channel=channel, used_at__isnull=False, expires_at__gt=now
        )
        .order_by("-used_at")
        .first()
    )
    if used is None or not digest_matches(
        used.code_hash, CODE_PURPOSE, user.pk, channel, used.target, pin
    ):
        return None
    profile = Profile.objects.get(pk=user.pk)
    still = profile.email_confirmed if channel == Channel.EMAIL else profile.phone_confirmed
    return used.target if still and _current_contact(profile, channel) == used.target else None


def _apply_confirmed_contact(
    user: User, code: ContactCode, now: datetime, request: HttpRequest | None
) -> None:
    profile = Profile.objects.select_for_update().get(pk=user.pk)
    if channel_taken(code.channel, code.target, exclude_user=user):
        raise ContactCodeError(TAKEN)
    previous = _current_contact(profile, code.channel)
    code.used_at = now
    code.save(update_fields=["used_at"])
    if code.channel == Channel.EMAIL:
        profile.email, profile.email_confirmed_at = code.target, now
        fields, kind = ["email", "email_confirmed_at"], AuditEvent.Kind.EMAIL_CONFIRMED
    else:
        profile.phone, profile.phone_confirmed_at = code.target, now
        fields, kind = ["phone", "phone_confirmed_at"], AuditEvent.Kind.PHONE_CONFIRMED
    profile.save(update_fields=[*fields, "updated_at"])
    changed = previous != code.target
    record(kind, user=user, request=request, changed=changed)
    # Tell the old address, so that a hijacked session cannot move the account quietly.
    notify_to = previous if code.channel == Channel.EMAIL else profile.email
    if changed and previous and notify_to:
        queue_email(
            notify_to,
            "contact_changed",
            {"user": user, "channel": code.channel, "new": code.target},
            user.language,
        )


def confirmed_owner(email: str, *, exclude_user: User | None = None) -> User | None:
    """The account that has confirmed `email` (other than `exclude_user`), if any."""
    owners = User.objects.filter(profile__email=email, profile__email_confirmed_at__isnull=False)
    if exclude_user is not None:
        owners = owners.exclude(pk=exclude_user.pk)
    return owners.first()


def channel_taken(channel: str, target: str, *, exclude_user: User | None = None) -> bool:
    """Whether another account has confirmed this e-mail (phones may be shared).

    An address typed but never confirmed does not count: it proves nothing about its owner.
    """
    return (
        channel == Channel.EMAIL and confirmed_owner(target, exclude_user=exclude_user) is not None
    )


def delete_old_codes(older_than: timedelta = timedelta(days=7)) -> int:
    """Codes are needed for an hour's rate limit at most; keep a week for support, then go."""
    deleted, _ = ContactCode.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted


def pending_confirmations(user: User) -> list[PendingConfirmation]:
    """Codes sent and still waiting to be typed in, newest per channel."""
    now = timezone.now()
    pending = {}
    for code in ContactCode.objects.filter(
        user=user, used_at__isnull=True, expires_at__gt=now
    ).order_by("created_at"):
        pending[code.channel] = PendingConfirmation(code.channel, code.target, code.expires_at)
    return [pending[channel] for channel in (Channel.EMAIL, Channel.PHONE) if channel in pending]
