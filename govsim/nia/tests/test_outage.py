"""While NIA is switched off, its pages answer a 503 page and its API 503 JSON."""

import pytest
from django.urls import reverse

from govsim.outage import set_down

from .conftest import start_login

pytestmark = pytest.mark.django_db


def test_the_pages_answer_503_while_nia_is_down(client, sp):
    login, _ = start_login(client, sp)
    url, _ = sp.login_url()
    set_down("nia", True)

    for page in (
        reverse("govsim:nia:metadata"),
        url,
        login,
        login + "eobcanka/",
        login + "consent/",
    ):
        response = client.get(page)
        assert response.status_code == 503, page
        assert "temporarily unavailable" in response.content.decode()
        assert response["Retry-After"]
    assert client.post(login + "cancel/").status_code == 503


def test_the_api_answers_503_json_while_nia_is_down(client):
    set_down("nia", True)

    for response in (
        client.post(
            "/sim/nia/api/v1/submit/TR_NOTIFIKACE_IDP",
            '{"NotifikaceIdpPosledniId": 0}',
            content_type="application/json",
        ),
        client.post("/sim/nia/api/v1/submit/TR_ZTOTOZNENI", "{}", content_type="application/json"),
        client.get("/sim/nia/api/v1/submit/TR_NOTIFIKACE_IDP"),
    ):
        assert response.status_code == 503
        assert response.json()["error"] == "unavailable"


def test_the_environment_switch_works_too(client, settings):
    settings.GOVSIM_OUTAGES = ["nia"]

    assert client.get(reverse("govsim:nia:metadata")).status_code == 503
