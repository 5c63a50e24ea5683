"""Writing audit events."""

from django.conf import settings
from django.http import HttpRequest

from .models import AuditEvent, User


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_HOPS proxies the address the
    outermost trusted proxy put into X-Forwarded-For (what the client sent itself is ignored)."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
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
