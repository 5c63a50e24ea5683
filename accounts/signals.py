"""Every way of signing in or out (our pages, the admin, a test's force_login) is audited the same;
signing in also starts the session clocks."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from .audit import record
from .models import AuditEvent
from .reauth import mark_authenticated


@receiver(user_logged_in, dispatch_uid="accounts.session_started")
def session_started(sender, request, user, **kwargs) -> None:
    # A sign-in through the second step carries the device that proved it (django-otp).
    with_factor = getattr(user, "otp_device", None) is not None
    mark_authenticated(request, new_session=True, with_second_factor=with_factor)
    record(AuditEvent.Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.session_ended")
def session_ended(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(AuditEvent.Kind.LOGOUT, user=user, request=request)
