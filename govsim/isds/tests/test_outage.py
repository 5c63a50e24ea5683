"""While the data box system is switched off, its API answers 503 JSON and its pages a 503 page,
and nothing is read or written."""

import pytest

from govsim.isds.models import Message
from govsim.outage import set_down

from .conftest import (
    API_URL,
    CONCEPT_URL,
    LOGIN_URL,
    concept_link,
    post_message,
    read_feed,
    sign_in,
)

pytestmark = pytest.mark.django_db

PAGES = [LOGIN_URL, "/sim/isds/", "/sim/isds/box/jnovak1/", "/sim/isds/message/1/", CONCEPT_URL]


def test_the_api_answers_503_json_while_switched_off(client, world):
    set_down("isds", True)

    response = read_feed(client)

    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert response["Retry-After"]


def test_the_api_answers_503_even_without_a_key(client, world):
    set_down("isds", True)

    assert client.get(API_URL).status_code == 503


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_answer_503_while_switched_off(client, world, url):
    set_down("isds", True)

    response = client.get(url)

    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_nothing_is_sent_while_switched_off(client, world):
    sign_in(client, "jana")
    set_down("isds", True)

    response = client.post(
        CONCEPT_URL, {"to": "mojeid1", "subject": "S", "sender": "jnovak1", "token": "t" * 20}
    )
    login = client.post(LOGIN_URL, {"username": "jana", "password": "x"})

    assert response.status_code == login.status_code == 503
    assert not Message.objects.exists()


def test_nothing_is_sent_over_the_api_while_switched_off(client, world):
    set_down("isds", True)

    response = post_message(client)

    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert not Message.objects.exists()


def test_the_environment_switch_works_too(client, world, settings):
    settings.GOVSIM_OUTAGES = ["isds"]

    assert read_feed(client).status_code == 503
    assert client.get(concept_link()).status_code == 503


def test_back_up_it_answers_again(client, world):
    set_down("isds", True)
    set_down("isds", False)

    assert read_feed(client).status_code == 200
