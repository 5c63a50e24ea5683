"""Writing a new message from a box: the box page's "New message" leads to a form (recipient box
ID, subject, text) and then to the same check-and-send page as a prepared message (concept)."""

import re

import pytest

from govsim.isds.models import DataBox, Message

from .conftest import CONCEPT_URL, message_url, read_feed, sign_in

pytestmark = pytest.mark.django_db

BOX_URL = "/sim/isds/box/{}/"
WRITE_URL = "/sim/isds/box/{}/new/"


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def hidden(response, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', response.content.decode()).group(1)


def errors_of(response) -> str:
    """The form's error messages, as shown next to the fields."""
    html = response.content.decode()
    return " ".join(re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html))


def write(client, box_id: str, **fields):
    data = {"to": "mojeid1", "subject": "Dotaz", "text": "Dobrý den,\r\nmám dotaz."}
    data.update(fields)
    return client.post(WRITE_URL.format(box_id), data)


def test_the_box_page_links_to_a_new_message(client, world):
    sign_in(client, "jana")

    html = client.get(BOX_URL.format("jnovak1")).content.decode()

    assert f'href="{WRITE_URL.format("jnovak1")}"' in html
    assert "New message" in html or "Nová zpráva" in html


def test_the_new_message_form_asks_for_recipient_subject_and_text(client, world):
    sign_in(client, "jana")

    response = client.get(WRITE_URL.format("jnovak1"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("to", "subject", "text"):
        assert f'name="{name}"' in html
        assert f'<label for="id_{name}"' in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert "jnovak1" in html, "says which box it is sent from"


def test_a_written_message_is_checked_then_sent_from_that_box(client, world):
    sign_in(client, "jana")

    check = write(client, "jnovak1", subject="Dotaz k ověření", text="Dobrý den,\r\nmám dotaz.")

    assert check.status_code == 200
    html = check.content.decode()
    assert 'data-testid="recipient"' in html and "CZ.NIC, z. s. p. o." in html
    assert 'data-testid="subject"' in html and "Dotaz k ověření" in html
    assert "mám dotaz." in html
    # Jana acts for two boxes, but the message was written in this one: no choice to make.
    assert 'data-testid="sender-choice"' not in html
    assert hidden(check, "sender") == "jnovak1"
    assert Message.objects.count() == 0, "nothing is sent before it is checked"

    sent = client.post(
        CONCEPT_URL,
        {
            "to": hidden(check, "to"),
            "subject": hidden(check, "subject"),
            "text": "Dobrý den,\nmám dotaz.",
            "sender": "jnovak1",
            "token": token_of(check),
        },
    )

    message = Message.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == message_url(message.pk) + "?sent=1"
    assert message.sender_box.box_id == "jnovak1"
    assert message.recipient_box.box_id == "mojeid1"
    assert message.text == "Dobrý den,\nmám dotaz."
    (item,) = read_feed(client).json()["items"]
    assert item["subject"] == "Dotaz k ověření"
    assert item["identity_published"] is False, "the box to publish it was left unticked"
    assert item["sender_person_name"] is None
    assert message.subject in client.get(BOX_URL.format("jnovak1")).content.decode()


def test_the_checked_message_can_be_edited_again(client, world):
    sign_in(client, "jana")
    check = write(client, "jnovak1", subject="Překlep")

    again = client.post(
        WRITE_URL.format("jnovak1"),
        {"to": "mojeid1", "subject": "Překlep", "text": "x", "edit": "1"},
    )

    assert again.status_code == 200
    html = again.content.decode()
    assert 'name="subject"' in html and 'value="Překlep"' in html
    assert 'data-testid="recipient"' not in html, "the form again, not the check"
    assert 'name="edit"' in check.content.decode(), "the check page offers to edit"


def test_an_unknown_recipient_is_a_form_error(client, world):
    sign_in(client, "jana")

    for to in ("nobody1", "xx", "evaci!1", "EVACIZ "):
        response = write(client, "jnovak1", to=to, HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 400, to
        assert "There is no accessible data box with this ID." in errors_of(response), to
        assert 'name="subject" value="Dotaz"' in response.content.decode(), "input kept"
    assert Message.objects.count() == 0


def test_an_inaccessible_recipient_is_a_form_error(client, world):
    DataBox.objects.filter(box_id="evacizi").update(is_active=False)
    sign_in(client, "jana")

    response = write(client, "jnovak1", to="evacizi")

    assert response.status_code == 400
    assert "There is no accessible data box with this ID." in errors_of(response)


def test_a_missing_subject_and_a_box_writing_to_itself_are_form_errors(client, world):
    sign_in(client, "jana")

    no_subject = write(client, "jnovak1", subject="   ")
    to_itself = write(client, "jnovak1", to="jnovak1")

    assert no_subject.status_code == 400
    assert "This field is required." in errors_of(no_subject)
    assert to_itself.status_code == 400
    assert "A data box cannot send a message to itself." in to_itself.content.decode()
    assert Message.objects.count() == 0


def test_too_long_or_nul_input_is_a_form_error(client, world):
    sign_in(client, "jana")

    too_long = write(client, "jnovak1", subject="x" * 1000)
    nul = write(client, "jnovak1", text="a\x00b")

    assert too_long.status_code == 400 and errors_of(too_long)
    assert nul.status_code == 400 and errors_of(nul)


def test_only_a_box_the_person_acts_for_can_write(client, world):
    sign_in(client, "jana")

    assert client.get(WRITE_URL.format("evacizi")).status_code == 404
    assert write(client, "evacizi").status_code == 404
    assert client.get(WRITE_URL.format("nobody1")).status_code == 404
    assert Message.objects.count() == 0


def test_signed_out_the_form_leads_through_the_login_back(client, world):
    response = client.get(WRITE_URL.format("jnovak1"))

    assert response.status_code == 302
    assert response["Location"].startswith("/sim/isds/login/?next=")
    assert sign_in(client, "jana", next_url=WRITE_URL.format("jnovak1"))["Location"] == (
        WRITE_URL.format("jnovak1")
    )


def test_a_signed_out_post_of_the_form_goes_to_the_login(client, world):
    response = write(client, "jnovak1")

    assert response.status_code == 302
    assert response["Location"].startswith("/sim/isds/login/")
    assert Message.objects.count() == 0


def test_a_recipient_gone_between_the_check_and_the_sending_is_shown_on_the_form(client, world):
    sign_in(client, "jana")
    check = write(client, "jnovak1", to="pdvora1", subject="Pozvánka")
    DataBox.objects.filter(box_id="pdvora1").update(is_active=False)

    response = client.post(
        CONCEPT_URL,
        {
            "to": "pdvora1",
            "subject": "Pozvánka",
            "text": hidden(check, "text"),
            "sender": "jnovak1",
            "token": token_of(check),
            "written_in": hidden(check, "written_in"),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "There is no accessible data box with this ID." in errors_of(response)
    assert 'value="Pozvánka"' in response.content.decode(), "the message is still there"
    assert Message.objects.count() == 0
