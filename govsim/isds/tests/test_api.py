"""The portal reads the messages of its own box: key required, replayable cursor, pages, JSON
errors. (Sending over the same address: test_send_api.)"""

import pytest
from django.test import Client
from django.utils import timezone

from govsim.isds.models import DataBox, Message

from .conftest import API_URL, PORTAL_KEY, read_feed

pytestmark = pytest.mark.django_db


def deliver(sender: DataBox, recipient: DataBox, subject: str) -> Message:
    return Message.objects.create(
        sender_box=sender,
        recipient_box=recipient,
        sender_box_type=sender.box_type,
        sender_box_name=sender.name,
        subject=subject,
        sent_at=timezone.now(),
    )


@pytest.fixture
def inbox(world) -> list[Message]:
    """Five messages to the portal's box and one to someone else, interleaved."""
    jana = DataBox.objects.get(box_id="jnovak1")
    eva = DataBox.objects.get(box_id="evacizi")
    messages = []
    for number in range(5):
        messages.append(deliver(jana, world.portal, f"zpráva {number}"))
        if number == 2:
            deliver(jana, eva, "not for the portal")
    return messages


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic bW9qZWlkOng="},
        {"HTTP_AUTHORIZATION": "Bearer wrong-key"},
        {"HTTP_AUTHORIZATION": "Bearer " + PORTAL_KEY + "x"},
    ],
)
def test_the_feed_needs_the_boxs_key(client, inbox, headers):
    response = client.get(API_URL, **headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "unauthorized"
    assert "items" not in response.json()


def test_the_key_of_an_inaccessible_box_is_refused(client, world, inbox):
    world.portal.is_active = False
    world.portal.save()

    assert read_feed(client).status_code == 401


def test_a_box_reads_only_its_own_messages(client, world, inbox):
    body = read_feed(client).json()

    assert [item["subject"] for item in body["items"]] == [f"zpráva {n}" for n in range(5)]
    assert body["cursor"] == inbox[-1].pk
    assert body["has_more"] is False


def test_the_feed_pages_after_the_cursor(client, inbox):
    first = read_feed(client, limit=2).json()
    second = read_feed(client, limit=2, after=first["cursor"]).json()
    third = read_feed(client, limit=2, after=second["cursor"]).json()
    end = read_feed(client, limit=2, after=third["cursor"]).json()

    assert [i["id"] for i in first["items"]] == [m.pk for m in inbox[:2]]
    assert [i["id"] for i in second["items"]] == [m.pk for m in inbox[2:4]]
    assert [i["id"] for i in third["items"]] == [inbox[4].pk]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert end == {"items": [], "cursor": third["cursor"], "has_more": False}


def test_reading_the_same_page_twice_gives_the_same_items(client, world, inbox):
    first = read_feed(client, after=inbox[0].pk, limit=2).json()
    deliver(DataBox.objects.get(box_id="pdvora2"), world.portal, "later")  # the feed grows
    again = read_feed(client, after=inbox[0].pk, limit=2).json()

    assert again == first


def test_an_item_carries_the_senders_details_as_sent(client, world, inbox):
    DataBox.objects.filter(box_id="jnovak1").update(name="Jana Nová")  # renamed afterwards

    item = read_feed(client, limit=1).json()["items"][0]

    assert item["sender_box_name"] == "Jana Nováková"
    assert item["sender_box_type"] == "FO"
    assert item["sender_person_name"] is None  # delivered by the system, not by a person
    assert item["sender_identity"] is None
    assert set(item) == {
        "id",
        "sender_box_id",
        "sender_box_type",
        "sender_box_name",
        "sender_person_name",
        "sender_person_role",
        "identity_published",
        "sender_identity",
        "recipient_box_id",
        "subject",
        "text",
        "sent_at",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"after": "abc"},
        {"after": "-1"},
        {"after": "1.5"},
        {"after": str(2**64)},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"after": "\x00"},
    ],
)
def test_bad_parameters_are_a_400_json_error(client, inbox, params):
    response = read_feed(client, **params)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize("method", ["put", "delete", "patch", "head"])
def test_other_methods_are_a_405_json_error(inbox, method):
    # A key-bearing client sends no CSRF token: it must get the API's answer, not a CSRF page.
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(API_URL, HTTP_AUTHORIZATION=f"Bearer {PORTAL_KEY}")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"  # POST: the box sends a message (test_send_api)
    if method != "head":
        assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/sim/isds/api/", "/sim/isds/api/v1/nothing", "/sim/isds/api/v1/messages/"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_api_path_is_a_404_json_error(inbox, path, method):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {PORTAL_KEY}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"
