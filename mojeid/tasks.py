"""Celery tasks of the platform: the outbox, and the platform's own daily housekeeping."""

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
def housekeeping() -> dict:
    """Daily: expired sessions out, the text of messages that could not be delivered blanked."""
    call_command("clearsessions")
    return {"undeliverable_bodies_blanked": messaging.forget_undeliverable_bodies()}
