"""Registering a new account."""

from django.db import transaction
from django.http import HttpRequest

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
