"""Sending e-mail and SMS through the transactional outbox.

`queue_email` and `queue_sms` are the one way any app sends a message. They render the text in the
recipient's language, store it, and ask Celery to deliver it once the surrounding transaction
commits. `deliver` and `drain` are what the worker runs. A delivered message keeps its channel,
recipient, template, subject and times, but not its body: bodies hold codes and links that nobody
should read once they are on their way.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from .models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def queue_email(to: str, template: str, context: dict, language: str) -> OutboxMessage:
    """Queue the e-mail `templates/mail/<template>.txt` (first line the subject) to `to`."""
    with translation.override(language):
        subject, _, body = render_to_string(f"mail/{template}.txt", context).partition("\n")
    return _queue(OutboxMessage.Channel.EMAIL, to, template, subject.strip(), body.strip() + "\n")


def queue_sms(to: str, template: str, context: dict, language: str) -> OutboxMessage:
    """Queue the SMS `templates/mail/<template>.sms.txt` to the E.164 number `to`."""
    with translation.override(language):
        body = render_to_string(f"mail/{template}.sms.txt", context).strip()
    return _queue(OutboxMessage.Channel.SMS, to, template, "", body)


def _queue(channel: str, recipient: str, template: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        channel=channel, recipient=recipient, template=template, subject=subject, body=body
    )
    transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    return message


def _enqueue_delivery(message_id: int) -> None:
    from .tasks import deliver_message

    try:
        # No retries here: a page must not hang on a dead broker. The drain sends it later.
        deliver_message.apply_async((message_id,), retry=False)
    except Exception as exc:  # kombu raises several unrelated types for "broker unreachable"
        logger.warning("Broker unavailable, message %s stays in the outbox: %s", message_id, exc)


def deliver(message_id: int) -> bool:
    """Send one queued message unless it was sent already; True when it went out now."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        try:
            _send(message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = str(exc)[:500]
            # Back off: 1, 2, 4 … minutes, at most an hour between tries.
            delay = min(2 ** (message.attempts - 1), 60)
            message.next_attempt_at = timezone.now() + timedelta(minutes=delay)
            message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            logger.warning("Delivery of message %s failed: %s", message_id, exc)
            return False
        message.sent_at = timezone.now()
        message.attempts += 1
        message.last_error = ""
        message.body = ""  # on its way: the codes in it are nobody's business here any more
        message.save(update_fields=["sent_at", "attempts", "last_error", "body"])
        return True


def drain(limit: int = 200) -> int:
    """Send every message that is due; returns how many went out."""
    due = OutboxMessage.objects.filter(
        sent_at__isnull=True, next_attempt_at__lte=timezone.now(), attempts__lt=MAX_ATTEMPTS
    ).order_by("next_attempt_at")
    return sum(deliver(pk) for pk in due.values_list("pk", flat=True)[:limit])


def forget_undeliverable_bodies(older_than: timedelta = timedelta(days=7)) -> int:
    """Blank the text of messages whose delivery gave up long ago (sent ones are blanked when
    they go; those still being retried keep theirs)."""
    return (
        OutboxMessage.objects.filter(
            sent_at__isnull=True,
            attempts__gte=MAX_ATTEMPTS,
            created_at__lt=timezone.now() - older_than,
        )
        .exclude(body="")
        .update(body="")
    )


def _send(message: OutboxMessage) -> None:
    if message.channel == OutboxMessage.Channel.EMAIL:
        EmailMessage(message.subject, message.body, to=[message.recipient]).send()
    else:
        sms_backend().send(message.recipient, message.body)


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
