"""Registering a new account, and forgetting registrations that were never confirmed.

Registration never tells whether an e-mail address has an account, as sign-in and the password
reset do not: the form accepts an address another account has confirmed, the registrant goes on
to the confirmation page as always, and `contacts.send_code` holds the code instead of sending it
and tells the address's owner.
"""

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ..audit import record
from ..models import AuditEvent, User
from .contacts import Channel, send_code


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
    """Create the account and send PIN1 to the e-mail address and PIN2 to the phone."""
    with transaction.atomic():
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
        send_code(user, Channel.EMAIL, request=request)
        send_code(user, Channel.PHONE, request=request)
    return user


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
