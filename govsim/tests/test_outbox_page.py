"""The development outbox page, /sim/outbox/: what the portal would have delivered.

Every confirmation code is readable there, so outside DEBUG only the simulator's operators see it
(signed in on the simulator admin's page; the portal's staff are not the simulator's). It lists
what the real file backends wrote (e-mails as .eml, SMS as JSON), newest first, in Czech as well
as English, with message text escaped.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.mail import EmailMessage
from django.test import Client, override_settings

from conftest import PASSWORD
from govsim.tests.people import PASSWORD as OPERATORS_PASSWORD
from govsim.tests.people import make_clerk, make_operator
from mojeid import messaging
from mojeid.sms import FileSmsBackend

pytestmark = pytest.mark.django_db

URL = "/sim/outbox/"
# 10:00 UTC in January is 11:00 in Prague.
MORNING = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def folders(tmp_path):
    """Point both file backends (and the page) at empty folders of this test."""
    with override_settings(
        EMAIL_BACKEND="mojeid.mail_backends.EmlFileBackend",
        MAIL_FILE_DIR=tmp_path / "mail",
        SMS_FILE_DIR=tmp_path / "sms",
    ):
        yield tmp_path


@pytest.fixture
def staff_browser(db):
    """A browser signed in as an operator of the simulator, on the simulator admin's page."""
    make_operator("spravce")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = browser.post(
        "/sim/admin/login/", {"username": "spravce", "password": OPERATORS_PASSWORD}
    )
    assert response.status_code == 302, "the simulator admin's login should accept an operator"
    return browser


@pytest.fixture
def portal_staff_browser(make_user):
    """A browser signed in to the portal as its helpdesk superuser."""
    make_user("helpdesk", is_staff=True, is_superuser=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = browser.post("/login/", {"login": "helpdesk", "password": PASSWORD})
    assert response.status_code == 302, "the portal's login should accept the staff user"
    return browser


def _send_mail(subject: str, body: str, to: str = "jana@example.cz") -> None:
    EmailMessage(subject, body, to=[to]).send()


def _send_sms(text: str, number: str = "+420601123456") -> None:
    FileSmsBackend().send(number, text)


# --- Who may see it -------------------------------------------------------------------------


def test_outside_debug_an_anonymous_visitor_is_sent_to_the_simulator_admins_login(client, folders):
    _send_sms("MojeID: your code (PIN2) is 482913.")

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/sim/admin/login/?next=/sim/outbox/"
    assert "482913" not in response.content.decode()


def test_outside_debug_a_portal_account_is_sent_to_the_simulator_admins_login(signed_in, folders):
    _send_sms("MojeID: your code (PIN2) is 482913.")

    response = signed_in.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/sim/admin/login/")
    assert "482913" not in response.content.decode()


def test_outside_debug_the_portals_staff_do_not_see_the_outbox(portal_staff_browser, folders):
    _send_sms("MojeID: your code (PIN2) is 482913.")

    response = portal_staff_browser.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/sim/admin/login/")
    assert "482913" not in response.content.decode()


def test_outside_debug_a_clerk_who_is_no_operator_does_not_see_the_outbox(client, folders):
    clerk = make_clerk("urednik")
    client.post("/sim/czechpoint/login/", {"username": "urednik", "password": OPERATORS_PASSWORD})
    _send_sms("MojeID: your code (PIN2) is 482913.")

    response = client.get(URL)

    assert clerk.is_clerk and not clerk.is_operator
    assert response.status_code == 302
    assert "482913" not in response.content.decode()


def test_outside_debug_staff_see_the_outbox(staff_browser, folders):
    _send_sms("MojeID: your code (PIN2) is 482913.")

    response = staff_browser.get(URL)

    assert response.status_code == 200
    assert "Sent e-mails and SMS" in response.content.decode()
    assert "482913" in response.content.decode()


def test_in_debug_an_anonymous_developer_sees_the_outbox(client, folders):
    _send_sms("MojeID: your code (PIN2) is 482913.")

    with override_settings(DEBUG=True):
        response = client.get(URL)

    assert response.status_code == 200
    assert "482913" in response.content.decode()


# --- What it lists --------------------------------------------------------------------------


def test_messages_from_both_backends_are_listed_newest_first(staff_browser, folders):
    with time_machine.travel(MORNING, tick=False):
        _send_mail("First e-mail", "Body of the first e-mail", to="first@example.cz")
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        _send_sms("Text of the SMS", number="+420602000111")
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        _send_mail("Third e-mail", "Body of the third e-mail", to="third@example.cz")

    page = staff_browser.get(URL).content.decode()

    order = [
        page.index("third@example.cz"),
        page.index("Third e-mail"),
        page.index("Body of the third e-mail"),
        page.index("+420602000111"),
        page.index("Text of the SMS"),
        page.index("first@example.cz"),
        page.index("First e-mail"),
        page.index("Body of the first e-mail"),
    ]
    assert order == sorted(order)


def test_the_time_sent_is_shown_in_local_time(staff_browser, folders):
    with time_machine.travel(MORNING, tick=False):
        _send_sms("Text of the SMS")

    page = staff_browser.get(URL).content.decode()

    assert "15. 1. 2026 11:00:00" in page


def test_czech_subject_and_body_display_correctly(staff_browser, folders):
    _send_mail("Potvrzovací kód", "Příliš žluťoučký kůň úpěl ďábelské ódy.")
    _send_sms("Příliš žluťoučký kůň")

    page = staff_browser.get(URL).content.decode()

    assert "<h2>Potvrzovací kód</h2>" in page
    assert "Příliš žluťoučký kůň úpěl ďábelské ódy." in page
    assert "<pre>Příliš žluťoučký kůň</pre>" in page
    assert "=?utf-8?" not in page.lower(), "no undecoded MIME header"


def test_html_in_a_message_is_shown_as_text(staff_browser, folders):
    _send_mail("<b>bold</b> subject", "<script>alert(1)</script>")
    _send_sms("<script>alert(2)</script>")

    page = staff_browser.get(URL).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "<script>alert(2)</script>" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; subject" in page


def test_a_message_queued_by_the_portal_shows_up_once_delivered(staff_browser, folders, user):
    message = messaging.queue_email(
        "jana@example.cz", "contact_code", {"user": user, "pin": "73920561"}, "cs"
    )
    assert "73920561" not in staff_browser.get(URL).content.decode(), "not sent yet"

    assert messaging.deliver(message.pk) is True

    page = staff_browser.get(URL).content.decode()
    assert "jana@example.cz" in page
    assert message.subject in page
    assert "73920561" in page


def test_only_the_newest_fifty_messages_are_shown(staff_browser, folders):
    for number in range(51):
        with time_machine.travel(MORNING + timedelta(seconds=number), tick=False):
            _send_sms(f"Message number {number:02d}.")

    page = staff_browser.get(URL).content.decode()

    assert "Message number 50." in page
    assert "Message number 01." in page
    assert "Message number 00." not in page


# --- An empty outbox ------------------------------------------------------------------------


def test_an_outbox_never_written_says_nothing_was_sent(staff_browser, folders):
    page = staff_browser.get(URL).content.decode()

    assert "Nothing sent yet." in page


def test_empty_outbox_folders_say_nothing_was_sent(staff_browser, folders):
    (folders / "mail").mkdir()
    (folders / "sms").mkdir()

    page = staff_browser.get(URL).content.decode()

    assert "Nothing sent yet." in page
