"""A box with an API key sends a message (POST api/v1/messages): the portal answers a citizen in
their box. The sender's own reference makes a retry safe; every refusal is a 4xx JSON error."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from govsim.api import key_hash
from govsim.isds.models import DataBox, Message
from govsim.isds.views import MAX_SEND_BYTES

from .conftest import API_URL, message_url, post_message, read_feed, sign_in

pytestmark = pytest.mark.django_db

EVA_KEY = "test-isds-key-eva"


@pytest.fixture
def eva_reads_over_the_api(world) -> DataBox:
    """Eva's box has an API key too: another box that sends and reads with its own key."""
    box = DataBox.objects.get(box_id="evacizi")
    box.api_key_hash = key_hash(EVA_KEY)
    box.save()
    return box


def test_a_box_sends_a_message_with_its_key(client, world):
    response = post_message(client)

    assert response.status_code == 201
    message = Message.objects.get()
    assert response.json() == {
        "id": message.pk,
        "sender_box_id": "mojeid1",
        "sender_box_type": "PO",
        "sender_box_name": "CZ.NIC, z. s. p. o.",
        "sender_person_name": None,
        "sender_person_role": None,
        "identity_published": False,
        "sender_identity": None,
        "recipient_box_id": "jnovak1",
        "subject": "Ověření totožnosti dokončeno",
        "text": "Dobrý den,\nvaše totožnost je ověřena.",
        "sent_at": message.sent_at.isoformat(),
    }
    assert message.sender_person is None, "the box's system sent it, not a person"
    assert message.reference == "verification-42"


def test_the_same_reference_again_answers_the_first_message(client, world):
    first = post_message(client)
    again = post_message(client)
    changed = post_message(client, subject="Jiný předmět", recipient_box_id="pdvora1")

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 200)
    assert again.json() == first.json() == changed.json()
    assert Message.objects.count() == 1


def test_another_reference_sends_another_message(client, world):
    first = post_message(client, reference="a")
    second = post_message(client, reference="b")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_references_are_each_boxs_own(client, world, eva_reads_over_the_api):
    portal = post_message(client, reference="same")
    eva = post_message(client, reference="same", key=EVA_KEY)

    assert (portal.status_code, eva.status_code) == (201, 201)
    assert eva.json()["sender_box_id"] == "evacizi"
    assert Message.objects.count() == 2


def test_a_retry_is_answered_even_when_the_recipient_has_gone_since(client, world):
    first = post_message(client)
    DataBox.objects.filter(box_id="jnovak1").update(is_active=False)

    again = post_message(client)

    assert again.status_code == 200
    assert again.json() == first.json()


def test_the_citizen_sees_the_answer_in_their_box(client, world):
    sent = post_message(client, subject="Vaše ověření").json()
    sign_in(client, "jana")

    box = client.get("/sim/isds/box/jnovak1/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page = client.get(message_url(sent["id"]), HTTP_ACCEPT_LANGUAGE="en")

    assert "Vaše ověření" in box and "CZ.NIC, z. s. p. o." in box
    assert page.status_code == 200
    html = page.content.decode()
    assert "vaše totožnost je ověřena." in html
    assert 'data-testid="sent"' not in html, "she did not send it"


def test_a_recipient_with_a_key_reads_it_in_its_feed(client, world, eva_reads_over_the_api):
    sent = post_message(client, recipient_box_id="evacizi").json()

    (item,) = read_feed(client, key=EVA_KEY).json()["items"]

    assert item == sent
    assert read_feed(client).json()["items"] == [], "not in the sender's own feed"


def test_the_recipients_box_id_is_read_in_any_case(client, world):
    response = post_message(client, recipient_box_id="JNOVAK1")

    assert response.status_code == 201
    assert response.json()["recipient_box_id"] == "jnovak1"


@pytest.mark.parametrize("box_id", ["nobox99", "evacizi"])
def test_an_unknown_or_inaccessible_recipient_is_a_404(client, world, box_id):
    DataBox.objects.filter(box_id="evacizi").update(is_active=False)

    response = post_message(client, recipient_box_id=box_id)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "recipient_not_found"
    assert not Message.objects.exists()


VALID = {"recipient_box_id": "jnovak1", "subject": "S", "text": "T", "reference": "r-1"}


def without(name: str) -> dict:
    return {key: value for key, value in VALID.items() if key != name}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",
        b'{"subject": ',
        b"[" * 100_000,  # deeper than the parser goes
        b'{"reference": "\\ud800", "recipient_box_id": "jnovak1", "subject": "S", "text": ""}',
        [],
        None,
        1,
        "a message",
        [VALID],
        without("recipient_box_id"),
        without("subject"),
        without("text"),
        without("reference"),
        {**VALID, "recipient_box_id": None},
        {**VALID, "recipient_box_id": ["jnovak1"]},
        {**VALID, "recipient_box_id": "jnovak"},
        {**VALID, "recipient_box_id": "jnovak12"},
        {**VALID, "recipient_box_id": "jnovák1"},
        {**VALID, "recipient_box_id": "mojeid1"},  # the sending box itself
        {**VALID, "subject": ""},
        {**VALID, "subject": "   "},
        {**VALID, "subject": 42},
        {**VALID, "subject": "x" * 256},
        {**VALID, "subject": "Řádek\nřádek"},
        {**VALID, "subject": "S\x00"},
        {**VALID, "text": None},
        {**VALID, "text": "y" * 10_001},
        {**VALID, "text": "a\x00b"},
        {**VALID, "text": "\ud800"},
        {**VALID, "reference": ""},
        {**VALID, "reference": "r" * 65},
        {**VALID, "reference": 7},
        {**VALID, "reference": "r\n1"},
        {**VALID, "sender_box_id": "jnovak1"},  # not a field of the request
        {**VALID, "identity_published": True},
    ],
)
def test_a_bad_request_is_a_400_json_error(client, world, body):
    # json.dumps writes a lone surrogate as its escape, as a careless client would.
    response = post_message(client, body if body is not None else b"null")

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "bad_request"
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {**VALID, "text": "x" * (MAX_SEND_BYTES + 1)},
        b"{" + b" " * (MAX_SEND_BYTES * 4) + b"}",
    ],
)
def test_a_body_over_the_cap_is_a_413(client, world, body):
    response = post_message(client, body)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not Message.objects.exists()


def test_the_longest_message_is_not_over_the_cap(client, world):
    # An ASCII-only JSON encoder writes each emoji as a 12-byte surrogate pair escape.
    body = {
        "recipient_box_id": "jnovak1",
        "subject": "😀" * 255,
        "text": "😀" * 10_000,
        "reference": "😀" * 64,
    }

    response = post_message(client, body)

    assert response.status_code == 201
    assert Message.objects.get().text == "😀" * 10_000


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic bW9qZWlkOng="},
        {"HTTP_AUTHORIZATION": "Bearer wrong-key"},
    ],
)
def test_sending_needs_the_boxs_key(world, headers):
    client = Client(enforce_csrf_checks=True)  # a key-bearing client has no CSRF token

    response = client.post(API_URL, json.dumps(VALID), content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert not Message.objects.exists()


def test_an_inaccessible_box_cannot_send(client, world):
    world.portal.is_active = False
    world.portal.save()

    assert post_message(client).status_code == 401
    assert not Message.objects.exists()


def test_sending_goes_through_csrf_protection_untouched(world):
    client = Client(enforce_csrf_checks=True)

    assert post_message(client).status_code == 201


def test_an_unknown_key_is_refused_before_the_body_is_read(client, world):
    """Garbage from a stranger is a 401, whatever its size."""
    response = post_message(client, b"\xff" * (MAX_SEND_BYTES + 1), key="wrong")

    assert response.status_code == 401


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from([{}, VALID]),
    body=st.dictionaries(
        st.sampled_from([*VALID, "x"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
        | st.sampled_from(["jnovak1", "JNOVAK1", "mojeid1", "nobox99", "\x00", "\ud800"]),
        max_size=5,
    ),
)
def test_drawn_bodies_never_get_a_5xx(client, world, base, body):
    """The fuzz suite (tests/test_fuzz.py) reaches this address without a key only: here the
    key is valid and the body drawn (over a valid one, or alone), so the body's checks are
    what is fuzzed."""
    response = post_message(client, {**base, **body})

    assert response.status_code in (200, 201, 400, 404), (response.status_code, body)
    assert response["Content-Type"] == "application/json"
    if response.status_code in (200, 201):
        assert set(response.json()) >= {"id", "sender_box_id", "identity_published"}
