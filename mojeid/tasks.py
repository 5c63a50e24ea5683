"""Celery tasks of the outbox."""

from celery import shared_task
from django.core.management import call_command

from . import messaging


@shared_task(name="mojeid.deliver_message")
def deliver_message(message_id: int) -> bool:
    return messaging.deliver(message_id)


@shared_task(name="mojeid.drain_outbox")
def drain_outbox() -> int:
    return messaging.drain()


@shared_task(name="mojeid.housekeeping")
def housekeeping() -> None:
    """Daily: expired sessions out, old message texts blanked, old confirmation codes deleted."""
    from accounts.services.contacts import delete_old_codes

    call_command("clearsessions")
    messaging.forget_sent_bodies()
    delete_old_codes()
