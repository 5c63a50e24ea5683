"""Writing audit events."""

from django.http import HttpRequest

from .models import AuditEvent, User


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as the web server saw it (a TLS proxy in front must set REMOTE_ADDR)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class _Self:
    """The default actor: the user acting on their own account."""


SELF = _Self()


def record(
    kind: str,
    *,
    user: User | None,
    actor: User | _Self | None = SELF,
    request: HttpRequest | None = None,
    **details,
) -> AuditEvent:
    """Append an audit event.

    `actor` is who did it: by default the user themself; None means the system (a periodic task,
    a command, register data), which the helpdesk then sees as no person.
    """
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        actor=user if actor is SELF else actor,
        ip_address=client_address(request),
        details=details,
    )
