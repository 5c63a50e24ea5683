"""The simulator's admin: boxes with access, persons with a password set there, messages
read-only."""

import pytest

from govsim.isds.models import DataBox, Message, Person
from govsim.tests.people import make_operator, signed_in_as

from .conftest import sign_in

pytestmark = pytest.mark.django_db

ADMIN = "/sim/admin/sim_isds/"


@pytest.fixture
def admin_client(client, world):
    return signed_in_as(client, make_operator())


@pytest.mark.parametrize("page", ["databox/", "person/", "message/", "databox/add/", "person/add/"])
def test_the_admin_pages_open(admin_client, page):
    assert admin_client.get(ADMIN + page).status_code == 200


def test_a_box_page_shows_who_has_access(admin_client, world):
    box = DataBox.objects.get(box_id="peknov1")

    html = admin_client.get(f"{ADMIN}databox/{box.pk}/change/").content.decode()

    assert "karel" in html and "jana" in html


def test_the_admin_sets_a_persons_password(admin_client, world, client):
    person = world.stranger
    url = f"{ADMIN}person/{person.pk}/change/"
    form = {
        "username": "eva",
        "first_names": "Eva",
        "last_name": "Cizí",
        "birth_date": "",
        "citizen": "",
        "is_active": "on",
        "new_password": "nove-heslo-2026",
        "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.check_password("nove-heslo-2026")
    assert "nove-heslo-2026" not in person.password
    assert sign_in(client, "eva", "nove-heslo-2026").status_code == 302


def test_an_empty_password_field_keeps_the_password(admin_client, world):
    person = world.stranger
    before = Person.objects.get(pk=person.pk).password
    form = {
        "username": "eva",
        "first_names": "Eva",
        "last_name": "Cizí",
        "is_active": "on",
        "new_password": "",
        "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0",
    }

    assert admin_client.post(f"{ADMIN}person/{person.pk}/change/", form).status_code == 302
    assert Person.objects.get(pk=person.pk).password == before


def test_messages_are_read_only(admin_client, world):
    box = DataBox.objects.get(box_id="jnovak1")
    message = Message.objects.create(
        sender_box=box,
        recipient_box=world.portal,
        sender_box_type="FO",
        sender_box_name=box.name,
        subject="S",
    )

    assert admin_client.get(f"{ADMIN}message/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}message/{message.pk}/change/").status_code == 200
    assert (
        admin_client.post(f"{ADMIN}message/{message.pk}/change/", {"subject": "X"}).status_code
        == 403
    )
    assert admin_client.get(f"{ADMIN}message/{message.pk}/delete/").status_code == 403
    message.refresh_from_db()
    assert message.subject == "S"


def test_issuing_an_api_key_shows_it_once_and_stores_its_hash(admin_client, world, client):
    response = admin_client.post(
        f"{ADMIN}databox/",
        {"action": "issue_api_key", "_selected_action": [world.portal.pk]},
        follow=True,
    )

    html = response.content.decode()
    key = html.split("mojeid1: ", 1)[1].split("<", 1)[0].strip()
    world.portal.refresh_from_db()
    assert key not in world.portal.api_key_hash
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    assert client.get("/sim/isds/api/v1/messages").status_code == 200


def test_a_box_page_never_shows_the_hash_of_its_api_key(admin_client, world):
    box = world.portal
    assert box.api_key_hash

    html = admin_client.get(f"{ADMIN}databox/{box.pk}/change/").content.decode()

    assert box.api_key_hash not in html


def test_a_box_that_is_no_number_is_a_form_error_not_a_server_error(admin_client, world):
    """The autocomplete widget must not look the posted "x" up when it shows the form again."""
    person = world.stranger
    response = admin_client.post(
        f"{ADMIN}person/{person.pk}/change/",
        {
            "username": person.username,
            "first_names": person.first_names,
            "last_name": person.last_name,
            "is_active": "on",
            "access-TOTAL_FORMS": "1",
            "access-INITIAL_FORMS": "0",
            "access-MIN_NUM_FORMS": "0",
            "access-MAX_NUM_FORMS": "1000",
            "access-0-box": "x",
            "access-0-role": "owner",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
