"""Registering a new account, and forgetting registrations that were never confirmed.

Registration never tells whether an e-mail address has an account, as sign-in and the password
reset do not: the form accepts an address another account has confirmed, the registrant goes on
to the confirmation page as always, and a code for it is held exactly as if it had been sent. It
is not sent: the owner of the address gets a notice instead ("somebody tried to register with
your address"), so the registrant, who cannot read that mailbox, learns nothing, and the owner
learns what happened. The confirm step refuses the address anyway: it is somebody else's.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from mojeid.crypto import keyed_digest

from .. import ratelimit
from ..audit import record
from ..models import AuditEvent, ContactCode, Profile, User
from ..notifications import tell
from .contacts import CODE_LIFETIME, CODE_PURPOSE, Channel, send_code

# Notices to one owner an hour: enough to be told, not enough for somebody to flood the mailbox.
NOTICES_PER_OWNER_PER_HOUR = 3


def register_account(
    *,
    username: str,
    password: str,
    email: str,
    phone: str,
    first_name: str,
    last_name: str,
    language: str,
    request: HttpRequest | None = None,
) -> User:
    """Create the account and send PIN1 to the e-mail address and PIN2 to the phone.

    If another account has confirmed `email`, PIN1 is held back and that account's owner is told
    instead (see the module's docstring); nothing the registrant sees differs.
    """
    with transaction.atomic():
        owner = confirmed_owner(email)
        user = User.objects.create_user(
            username,
            password,
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            language=language,
        )
        record(AuditEvent.Kind.REGISTERED, user=user, request=request)
        if owner is None:
            send_code(user, Channel.EMAIL, request=request)
        else:
            _hold_email_code(user, email)
            _tell_owner(owner, request=request)
        send_code(user, Channel.PHONE, request=request)
    return user


def confirmed_owner(email: str) -> User | None:
    """The account that has confirmed `email`, if any."""
    profile = (
        Profile.objects.select_related("user")
        .filter(email=email, email_confirmed_at__isnull=False)
        .first()
    )
    return profile.user if profile else None


def _hold_email_code(user: User, email: str) -> None:
    """A pending PIN1 for `email` that nobody was sent and no PIN matches.

    The confirmation page then reads as after any registration ("we sent a code to …"), and a
    guess is refused and counted like a wrong PIN.
    """
    now = timezone.now()
    unknowable = secrets.token_urlsafe(32)  # not a PIN: no typed code can match it
    ContactCode.objects.create(
        user=user,
        channel=Channel.EMAIL,
        target=email,
        code_hash=keyed_digest(CODE_PURPOSE, user.pk, Channel.EMAIL, email, unknowable),
        created_at=now,
        expires_at=now + CODE_LIFETIME[Channel.EMAIL],
    )


def _tell_owner(owner: User, *, request: HttpRequest | None) -> None:
    """E-mail the owner of an address that somebody registered with (a few times an hour)."""
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


UNCONFIRMED_ACCOUNT_LIFETIME = timedelta(days=7)


def delete_unconfirmed_accounts(older_than: timedelta = UNCONFIRMED_ACCOUNT_LIFETIME) -> int:
    """Delete accounts whose e-mail was never confirmed within `older_than` of registering.

    They hold an address nobody proved, so they only keep a username and an address from their
    owners. Staff accounts and locked profiles are never touched. Each deletion is audited (the
    audit row keeps the username; the account itself is gone).
    """
    stale = User.objects.filter(
        date_joined__lt=timezone.now() - older_than,
        profile__email_confirmed_at__isnull=True,
        profile__locked_at__isnull=True,
        is_staff=False,
        is_superuser=False,
    )
    deleted = 0
    for pk in stale.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            # Checked again under a lock: the owner may have confirmed a moment ago.
            user = stale.select_for_update(of=("self",)).filter(pk=pk).first()
            if user is None:
                continue
            record(
                AuditEvent.Kind.UNCONFIRMED_ACCOUNT_DELETED,
                user=None,
                actor=None,
                username=user.username,
                joined=user.date_joined.isoformat(),
            )
            user.delete()
            deleted += 1
    return deleted
