"""Writing audit events."""

from django.http import HttpRequest

from .models import AuditEvent, User


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as the web server saw it (a TLS proxy in front must set REMOTE_ADDR)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    kind: str,
    *,
    user: User | None,
    actor: User | None = None,
    request: HttpRequest | None = None,
    **details,
) -> AuditEvent:
    """Append an audit event; `actor` defaults to the user acting on their own account."""
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor if actor is not None else user,
        ip_address=client_address(request),
        details=details,
    )
