"""The transactional outbox: rendering, delivery, retries and housekeeping.

Plain-text e-mails are not HTML-escaped; a failed delivery stays in the outbox and is retried
later by the drain, exactly once; delivering a row twice sends it once; a delivered row keeps no
body (it held a code) but what support needs; the daily housekeeping removes expired sessions and
blanks messages that were never delivered; and an SMS row never shows its text (a confirmation
code) in its string form.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone

from mojeid import messaging
from mojeid.models import OutboxMessage
from mojeid.tasks import housekeeping

pytestmark = pytest.mark.django_db

FAILING_BACKEND = f"{__name__}.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise OSError("smtp down")


def _pin(text: str, digits: int) -> str:
    return re.search(rf"\b(\d{{{digits}}})\b", text).group(1)


def _queue_password_notice(to: str = "jana@example.cz") -> OutboxMessage:
    return messaging.queue_email(to, "password_changed", {}, "en")


# --- Rendering ------------------------------------------------------------------------------


def test_a_new_address_with_quote_and_ampersand_is_mailed_and_announced_literally(
    signed_in, user, deliver
):
    new_address = "o'brien&co@example.cz"

    response = signed_in.post("/settings/contact/email/", {"email": new_address})

    assert response["Location"] == "/account/confirm/"
    emails, _ = deliver()
    [code_mail] = emails
    assert code_mail.to == [new_address]

    confirmed = signed_in.post("/account/confirm/email/", {"code": _pin(code_mail.body, 8)})

    assert confirmed.status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.email == new_address
    emails, _ = deliver()
    [notice] = emails[1:]
    assert notice.to == ["jana@example.cz"], "the old address is told about the change"
    assert new_address in notice.body
    assert "&#x27;" not in notice.body
    assert "&amp;" not in notice.body


def test_mail_text_is_rendered_in_the_recipients_language():
    english = messaging.queue_email("jana@example.cz", "password_changed", {}, "en")
    czech = messaging.queue_email("petr@example.cz", "password_changed", {}, "cs")

    assert english.subject == "Your MojeID password was changed"
    assert czech.subject != english.subject
    assert "MojeID" in czech.subject


# --- Delivery and retries -------------------------------------------------------------------


def test_a_failed_delivery_stays_in_the_outbox_for_a_later_attempt():
    message = _queue_password_notice()

    with override_settings(EMAIL_BACKEND=FAILING_BACKEND):
        before = timezone.now()
        assert messaging.deliver(message.pk) is False

    message.refresh_from_db()
    assert message.attempts == 1
    assert message.last_error == "smtp down"
    assert message.next_attempt_at > before
    assert message.sent_at is None
    assert mail.outbox == []


def test_a_failed_message_is_not_retried_before_its_next_attempt():
    message = _queue_password_notice()
    with override_settings(EMAIL_BACKEND=FAILING_BACKEND):
        messaging.deliver(message.pk)

    assert messaging.drain() == 0
    assert mail.outbox == []


def test_the_drain_sends_a_failed_message_once_when_it_is_due():
    message = _queue_password_notice()
    with override_settings(EMAIL_BACKEND=FAILING_BACKEND):
        messaging.deliver(message.pk)
    message.refresh_from_db()

    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1), tick=False):
        assert messaging.drain() == 1
        assert messaging.drain() == 0

    assert [sent.to for sent in mail.outbox] == [["jana@example.cz"]]
    assert mail.outbox[0].subject == "Your MojeID password was changed"
    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.attempts == 2
    assert message.last_error == ""


def test_repeated_failures_back_off_further_each_time():
    message = _queue_password_notice()
    delays = []
    with override_settings(EMAIL_BACKEND=FAILING_BACKEND):
        for _ in range(3):
            message.refresh_from_db()
            with time_machine.travel(message.next_attempt_at, tick=False):
                now = timezone.now()
                messaging.drain()
            message.refresh_from_db()
            delays.append(message.next_attempt_at - now)

    assert message.attempts == 3
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_delivering_the_same_message_twice_sends_one_e_mail():
    message = _queue_password_notice()

    assert messaging.deliver(message.pk) is True
    assert messaging.deliver(message.pk) is False

    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_message_already_sent_is_not_sent_again_by_the_drain(deliver):
    message = _queue_password_notice()
    messaging.deliver(message.pk)

    emails, _ = deliver()

    assert len(emails) == 1


# --- Housekeeping ---------------------------------------------------------------------------


def test_housekeeping_deletes_expired_sessions_and_keeps_valid_ones():
    now = timezone.now()
    Session.objects.create(
        session_key="expired" + "x" * 25, session_data="", expire_date=now - timedelta(minutes=1)
    )
    Session.objects.create(
        session_key="valid" + "y" * 27, session_data="", expire_date=now + timedelta(hours=1)
    )

    housekeeping()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["valid" + "y" * 27]


def test_a_delivered_message_keeps_what_support_needs_but_not_its_code(user):
    message = messaging.queue_sms(
        "+420601123456", "contact_code", {"user": user, "pin": "482913"}, "en"
    )

    assert messaging.deliver(message.pk) is True

    message.refresh_from_db()
    assert message.body == "", "the code is gone as soon as the SMS is on its way"
    stored = OutboxMessage.objects.filter(pk=message.pk).values().get()
    assert not any("482913" in str(value) for value in stored.values())
    assert (message.channel, message.recipient, message.template) == (
        "sms",
        "+420601123456",
        "contact_code",
    )
    assert message.sent_at is not None and message.attempts == 1


@override_settings(EMAIL_BACKEND=FAILING_BACKEND)
def test_a_message_that_could_not_be_sent_keeps_its_text_for_the_retry():
    message = _queue_password_notice()

    assert messaging.deliver(message.pk) is False

    message.refresh_from_db()
    assert "password" in message.body and message.template == "password_changed"


def test_housekeeping_blanks_messages_that_gave_up_over_a_week_ago():
    now = timezone.now()
    abandoned = _queue_password_notice("old@example.cz")
    waiting = _queue_password_notice("waiting@example.cz")
    OutboxMessage.objects.filter(pk=abandoned.pk).update(
        created_at=now - timedelta(days=8), attempts=messaging.MAX_ATTEMPTS
    )

    housekeeping()

    abandoned.refresh_from_db()
    waiting.refresh_from_db()
    assert abandoned.body == ""
    assert abandoned.subject == "Your MojeID password was changed", "the helpdesk still sees it"
    assert "password" in waiting.body, "a message still to be sent keeps its text"


# --- The string form ------------------------------------------------------------------------


def test_an_sms_row_never_shows_its_code_as_a_string(user):
    message = messaging.queue_sms(
        "+420601123456", "contact_code", {"user": user, "pin": "482913"}, "en"
    )
    assert "482913" in message.body

    text = str(message)

    assert "482913" not in text
    assert message.body not in text
    assert "+420601123456" in text
