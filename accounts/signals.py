"""Every way of signing in (our page, the admin, a test's force_login) starts the session clocks."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .audit import record
from .models import AuditEvent
from .reauth import mark_authenticated


@receiver(user_logged_in, dispatch_uid="accounts.session_started")
def session_started(sender, request, user, **kwargs) -> None:
    mark_authenticated(request, new_session=True)
    record(AuditEvent.Kind.LOGIN, user=user, request=request)
