"""Celery tasks of the outbox."""

from celery import shared_task

from . import messaging


@shared_task(name="mojeid.deliver_message")
def deliver_message(message_id: int) -> bool:
    return messaging.deliver(message_id)


@shared_task(name="mojeid.drain_outbox")
def drain_outbox() -> int:
    return messaging.drain()
