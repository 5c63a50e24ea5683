"""The prepared message ("concept") a service links to: sign in, choose the box, send."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from govsim.isds import services
from govsim.isds.models import BoxAccess, DataBox, Message, Role

from .conftest import CONCEPT_URL, LOGIN_URL, concept_link, message_url, read_feed, sign_in

pytestmark = pytest.mark.django_db


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def send(client, sender: str, link: str | None = None, **fields):
    """Open the concept and send it from `sender`, as the browser would."""
    page = client.get(link or concept_link())
    assert page.status_code == 200
    query = parse_qs(urlsplit(link or concept_link()).query)
    data = {name: values[0] for name, values in query.items()}
    data.update(sender=sender, token=token_of(page), **fields)
    return client.post(CONCEPT_URL, data)


def test_the_concept_link_leads_through_login_to_a_sent_message_in_the_portals_feed(client, world):
    link = concept_link(text="Kód žádosti: MID-7K3Q-92XA")

    first = client.get(link)
    assert first.status_code == 302
    login_page = first["Location"]
    assert login_page.startswith(LOGIN_URL)
    next_url = parse_qs(urlsplit(login_page).query)["next"][0]
    assert next_url == link

    back = sign_in(client, "jana", next_url=next_url)
    assert back["Location"] == link

    page = client.get(link)
    html = page.content.decode()
    assert 'data-testid="recipient"' in html
    assert "CZ.NIC, z. s. p. o." in html
    assert "mojeid1" in html
    assert "Ověření totožnosti" in html
    assert "MID-7K3Q-92XA" in html
    # Jana acts for her own box and for the bakery: she chooses.
    assert 'data-testid="sender-choice"' in html

    sent = client.post(
        CONCEPT_URL,
        {
            "to": "mojeid1",
            "subject": "Ověření totožnosti",
            "text": "Kód žádosti: MID-7K3Q-92XA",
            "sender": "jnovak1",
            "token": token_of(page),
        },
    )
    message = Message.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == message_url(message.pk) + "?sent=1"
    assert 'data-testid="sent"' in client.get(sent["Location"]).content.decode()

    items = read_feed(client).json()["items"]
    assert items == [
        {
            "id": message.pk,
            "sender_box_id": "jnovak1",
            "sender_box_type": "FO",
            "sender_box_name": "Jana Nováková",
            # Not published (the box was left unticked): the portal sees only the box.
            "sender_person_name": None,
            "sender_person_role": None,
            "identity_published": False,
            "sender_identity": None,
            "recipient_box_id": "mojeid1",
            "subject": "Ověření totožnosti",
            "text": "Kód žádosti: MID-7K3Q-92XA",
            "sent_at": message.sent_at.isoformat(),
        }
    ]


@pytest.mark.parametrize(
    "username, sender, box_type, role",
    [
        ("petr", "pdvora1", "FO", "owner"),
        ("petr", "pdvora2", "PFO", "owner"),
        ("jana", "peknov1", "PO", "authorised"),
    ],
)
def test_the_feed_gives_the_type_of_the_sending_box(
    client, world, username, sender, box_type, role
):
    sign_in(client, username)

    assert send(client, sender, publish="1").status_code == 302

    (item,) = read_feed(client).json()["items"]
    assert item["sender_box_id"] == sender
    assert item["sender_box_type"] == box_type
    assert item["sender_person_role"] == role
    citizen = world.petr_citizen if username == "petr" else world.jana_citizen
    assert item["sender_identity"]["last_name"] == citizen.last_name


def test_a_person_outside_the_register_publishes_no_address(client, world):
    sign_in(client, "karel")  # the bakery's owner, only box: no choice to make

    page = client.get(concept_link())
    assert 'data-testid="sender-choice"' not in page.content.decode()
    assert send(client, "peknov1", publish="1").status_code == 302

    (item,) = read_feed(client).json()["items"]
    assert item["sender_box_type"] == "PO"
    assert item["sender_person_name"] == "Karel Pekař"
    assert item["sender_identity"] == {
        "first_names": "Karel",
        "last_name": "Pekař",
        "birth_date": None,
        "address": None,
    }


@pytest.mark.parametrize("sender", ["evacizi", "pdvora1", "mojeid1", "nobox99", ""])
def test_a_person_cannot_send_from_a_box_they_do_not_act_for(client, world, sender):
    sign_in(client, "jana")

    response = send(client, sender)

    assert response.status_code in (400, 403)
    assert not Message.objects.exists()
    assert read_feed(client).json()["items"] == []


def test_the_service_itself_refuses_a_box_the_person_does_not_act_for(world):
    with pytest.raises(services.NotAllowed):
        services.send_message(world.jana, "evacizi", world.portal, "S", "T")
    BoxAccess.objects.create(
        box=DataBox.objects.get(box_id="pdvora1"), person=world.jana, role=Role.AUTHORISED
    )
    DataBox.objects.filter(box_id="pdvora1").update(is_active=False)  # box made inaccessible
    with pytest.raises(services.NotAllowed):
        services.send_message(world.jana, "pdvora1", world.portal, "S", "T")
    assert not Message.objects.exists()


def test_a_box_without_access_is_refused_with_a_403_page(client, world):
    sign_in(client, "jana")

    response = send(client, "evacizi")

    assert response.status_code == 403
    assert "You may not send messages from this data box." in response.content.decode()


def test_access_removed_while_the_form_was_open_stops_the_sending(client, world):
    sign_in(client, "jana")
    page = client.get(concept_link())
    world.jana.access.filter(box__box_id="peknov1").delete()

    response = client.post(
        CONCEPT_URL,
        {"to": "mojeid1", "subject": "S", "sender": "peknov1", "token": token_of(page)},
    )

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_sending_the_same_form_twice_sends_one_message(client, world):
    sign_in(client, "jana")
    page = client.get(concept_link())
    data = {"to": "mojeid1", "subject": "S", "sender": "jnovak1", "token": token_of(page)}

    first = client.post(CONCEPT_URL, data)
    again = client.post(CONCEPT_URL, data)

    assert first["Location"] == again["Location"]
    assert Message.objects.count() == 1


def test_a_box_cannot_send_to_itself(client, world):
    sign_in(client, "jana")

    response = send(client, "jnovak1", link=concept_link(to="jnovak1"))

    assert response.status_code == 400
    assert "cannot send a message to itself" in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?subject=S",  # no recipient
        "?to=mojeid1",  # no subject
        "?to=nobox99&subject=S",  # no such box
        "?to=MOJEID1x&subject=S",
        "?to=mojeid1&subject=" + "x" * 300,
        "?to=%00ojeid1&subject=S",
        "?to=mojeid1&subject=S%00",
        "?to=mojeid1&subject=S&text=" + "y" * 10_001,
    ],
)
def test_a_damaged_link_shows_what_is_wrong(client, world, query):
    sign_in(client, "jana")

    response = client.get(CONCEPT_URL + query)

    assert response.status_code == 400
    assert 'data-testid="concept-errors"' in response.content.decode()


def test_an_inaccessible_recipient_is_refused(client, world):
    world.portal.is_active = False
    world.portal.save()
    sign_in(client, "jana")

    assert client.get(concept_link()).status_code == 400


def test_the_box_id_is_read_in_any_case(client, world):
    sign_in(client, "jana")

    assert send(client, "jnovak1", link=concept_link(to="MOJEID1")).status_code == 302
    assert Message.objects.get().recipient_box == world.portal


def test_a_signed_out_send_returns_to_the_concept_after_login(client, world):
    response = client.post(
        CONCEPT_URL, {"to": "mojeid1", "subject": "S", "text": "T", "sender": "jnovak1"}
    )

    assert response.status_code == 302
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert urlsplit(next_url).path == CONCEPT_URL
    assert parse_qs(urlsplit(next_url).query) == {
        "to": ["mojeid1"],
        "subject": ["S"],
        "text": ["T"],
    }
    assert not Message.objects.exists()


def test_line_breaks_sent_by_a_browser_are_kept_as_in_the_link(client, world):
    sign_in(client, "jana")

    send(client, "jnovak1", text="Řádek 1\r\nŘádek 2")

    assert Message.objects.get().text == "Řádek 1\nŘádek 2"


def test_a_message_is_shown_only_to_those_who_act_for_its_boxes(client, world):
    sign_in(client, "jana")
    send(client, "jnovak1")
    pk = Message.objects.get().pk
    assert client.get(message_url(pk)).status_code == 200

    sign_in(client, "eva")
    assert client.get(message_url(pk)).status_code == 404
    assert client.get(message_url(10**30)).status_code == 404


def test_a_box_page_lists_its_messages_to_those_who_act_for_it(client, world):
    sign_in(client, "jana")
    send(client, "jnovak1", subject="Viditelný předmět")

    assert "Viditelný předmět" in client.get("/sim/isds/box/jnovak1/").content.decode()
    assert client.get("/sim/isds/box/evacizi/").status_code == 404
    assert client.get("/sim/isds/box/mojeid1/").status_code == 404
