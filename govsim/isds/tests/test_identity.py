"""The sender's published identity: ticked on the check-and-send page ("Publish my identity"),
pre-ticked by the portal's link with `publish=1`, copied into the message at sending. The
recipient's API item names the sending person only then — and never their register identifier."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from govsim.isds.models import Message, Person
from govsim.rob.models import Citizen

from .conftest import CONCEPT_URL, concept_link, message_url, read_feed, sign_in
from .test_concept import send, token_of

pytestmark = pytest.mark.django_db

REGISTER_ADDRESS = {
    "street": "Milešovská",
    "house_number": "1136",
    "orientation_number": "5",
    "municipality_part": "Vinohrady",
    "municipality": "Praha",
    "postal_code": "13000",
    "address_point_code": 21721319,
}


@pytest.fixture
def jana_at_home(world):
    """Jana with her birth date known to the data box system and a permanent address in the
    register."""
    Person.objects.filter(pk=world.jana.pk).update(birth_date=datetime.date(1985, 3, 14))
    Citizen.objects.filter(pk=world.jana_citizen.pk).update(**REGISTER_ADDRESS)
    return world


def publish_box(response) -> str | None:
    """The "Publish my identity" checkbox of the check-and-send page, as HTML."""
    found = re.search(r'<input type="checkbox" name="publish"[^>]*>', response.content.decode())
    return found.group(0) if found else None


def test_a_published_identity_carries_the_register_address(client, jana_at_home):
    sign_in(client, "jana")

    assert send(client, "jnovak1", publish="1").status_code == 302

    (item,) = read_feed(client).json()["items"]
    assert item["identity_published"] is True
    assert item["sender_person_name"] == "Jana Nováková"
    assert item["sender_person_role"] == "owner"
    assert item["sender_identity"] == {
        "first_names": "Jana",
        "last_name": "Nováková",
        "birth_date": "1985-03-14",
        "address": REGISTER_ADDRESS,
    }
    assert "sender_person_identifier" not in item


def test_an_unpublished_identity_leaves_only_the_box(client, jana_at_home):
    sign_in(client, "jana")

    assert send(client, "jnovak1").status_code == 302

    response = read_feed(client)
    (item,) = response.json()["items"]
    assert item["identity_published"] is False
    assert item["sender_identity"] is None
    assert (item["sender_person_name"], item["sender_person_role"]) == (None, None)
    assert (item["sender_box_id"], item["sender_box_name"]) == ("jnovak1", "Jana Nováková")
    body = response.content.decode()
    assert str(jana_at_home.jana_citizen.identifier) not in body
    assert "Milešovská" not in body and "1985" not in body


def test_the_register_identifier_is_never_in_the_item(client, jana_at_home):
    sign_in(client, "jana")
    send(client, "jnovak1", publish="1")

    response = read_feed(client)

    assert "sender_person_identifier" not in response.json()["items"][0]
    assert str(jana_at_home.jana_citizen.identifier) not in response.content.decode()


def test_a_citizen_without_an_address_in_the_register_publishes_none(client, world):
    sign_in(client, "jana")  # her register entry has no permanent address here

    send(client, "jnovak1", publish="1")

    (item,) = read_feed(client).json()["items"]
    assert item["sender_identity"]["address"] is None
    assert item["sender_identity"]["last_name"] == "Nováková"


def test_a_sent_message_keeps_the_identity_published_then(client, jana_at_home):
    sign_in(client, "jana")
    send(client, "jnovak1", publish="1")
    citizen = jana_at_home.jana_citizen
    # She marries and moves afterwards: the data box system and the register change.
    Person.objects.filter(pk=jana_at_home.jana.pk).update(last_name="Svobodová")
    Citizen.objects.filter(pk=citizen.pk).update(
        last_name="Svobodová", street="Korunní", house_number="1", orientation_number=""
    )

    send(client, "jnovak1", publish="1")

    old, new = read_feed(client).json()["items"]
    assert old["sender_identity"]["last_name"] == "Nováková"
    assert old["sender_identity"]["address"] == REGISTER_ADDRESS
    assert old["sender_person_name"] == "Jana Nováková"
    assert new["sender_identity"]["last_name"] == "Svobodová"
    assert new["sender_identity"]["address"]["street"] == "Korunní"


@pytest.mark.parametrize(
    "suffix, ticked",
    [("&publish=1", True), ("", False), ("&publish=0", False), ("&publish=yes", False)],
)
def test_the_portals_link_may_pre_tick_publishing(client, world, suffix, ticked):
    sign_in(client, "jana")

    page = client.get(concept_link() + suffix)

    assert page.status_code == 200
    assert publish_box(page) is not None
    assert ("checked" in publish_box(page)) is ticked


def test_the_box_is_labelled_as_in_the_real_system(client, world):
    sign_in(client, "jana")

    czech = client.get(concept_link(), HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    english = client.get(concept_link(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Zveřejnit mou identitu v odesílané zprávě" in czech
    assert "Publish my identity with the message" in english


def test_a_pre_ticked_link_survives_the_sign_in(client, world):
    link = concept_link() + "&publish=1"

    to_login = client.get(link)
    next_url = parse_qs(urlsplit(to_login["Location"]).query)["next"][0]
    back = sign_in(client, "jana", next_url=next_url)

    assert "checked" in publish_box(client.get(back["Location"]))


@pytest.mark.parametrize("ticked", [True, False])
def test_the_choice_survives_a_sign_out_while_the_form_was_open(client, world, ticked):
    data = {"to": "mojeid1", "subject": "S", "text": "T", "sender": "jnovak1"}
    if ticked:
        data["publish"] = "1"

    response = client.post(CONCEPT_URL, data)

    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert (parse_qs(urlsplit(next_url).query).get("publish") == ["1"]) is ticked
    back = sign_in(client, "jana", next_url=next_url)
    assert ("checked" in publish_box(client.get(back["Location"]))) is ticked


@pytest.mark.parametrize("ticked", [True, False])
def test_the_choice_survives_an_error_on_the_page(client, world, ticked):
    sign_in(client, "jana")
    page = client.get(concept_link())
    data = {"to": "mojeid1", "subject": "S", "token": token_of(page)}  # no sending box chosen
    if ticked:
        data["publish"] = "1"

    response = client.post(CONCEPT_URL, data)

    assert response.status_code == 400
    assert ("checked" in publish_box(response)) is ticked
    assert not Message.objects.exists()


def test_a_message_written_in_a_box_may_publish_the_identity(client, jana_at_home):
    sign_in(client, "jana")
    check = client.post(
        "/sim/isds/box/jnovak1/new/", {"to": "mojeid1", "subject": "Dotaz", "text": "Text"}
    )
    assert "checked" not in publish_box(check), "unticked unless the person ticks it"

    client.post(
        CONCEPT_URL,
        {
            "to": "mojeid1",
            "subject": "Dotaz",
            "text": "Text",
            "sender": "jnovak1",
            "written_in": "jnovak1",
            "token": token_of(check),
            "publish": "1",
        },
    )

    (item,) = read_feed(client).json()["items"]
    assert item["identity_published"] is True
    assert item["sender_identity"]["birth_date"] == "1985-03-14"


def test_the_message_page_shows_what_was_published(client, jana_at_home):
    sign_in(client, "jana")
    send(client, "jnovak1", link=concept_link(to="evacizi"), publish="1")
    pk = Message.objects.get().pk

    sign_in(client, "eva")  # the recipient
    html = client.get(message_url(pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r'data-testid="identity-published">published', html)
    assert re.search(r'data-testid="identity-name">Jana Nováková<', html)
    assert re.search(r'data-testid="identity-birth-date">14. 3. 1985<', html)
    assert "Milešovská 1136/5, Vinohrady, 130 00 Praha" in html
    assert 'data-testid="sent-by"' in html


def test_the_recipient_does_not_see_an_unpublished_sender(client, jana_at_home):
    sign_in(client, "jana")
    send(client, "jnovak1", link=concept_link(to="evacizi"))
    pk = Message.objects.get().pk
    own = client.get(message_url(pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    sign_in(client, "eva")
    html = client.get(message_url(pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r'data-testid="identity-published">not published', html)
    assert 'data-testid="sent-by"' not in html and "Milešovská" not in html
    assert "Jana Nováková" in html, "the sending box's name, as on every envelope"
    # The sender's own side knows who sent it.
    assert 'data-testid="sent-by"' in own
    assert re.search(r'data-testid="identity-published">not published', own)
