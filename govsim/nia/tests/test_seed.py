"""The seed registers the MojeID portal with NIA, once."""

import pytest

from govsim.nia.idp import metadata_problems
from govsim.nia.models import ServiceProvider
from govsim.nia.seed import DEVELOPMENT_API_KEY, seed

pytestmark = pytest.mark.django_db


def notifications(client, key: str):
    """The portal's first page of notifications, read with this API key."""
    return client.post(
        "/sim/nia/api/v1/submit/TR_NOTIFIKACE_IDP",
        {"NotifikaceIdpPosledniId": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_the_seed_registers_the_portal_and_is_idempotent(client):
    first = seed("http://localhost:8000/")
    second = seed("http://localhost:8000")

    service = ServiceProvider.objects.get()
    assert first["created"] and not second["created"]
    assert service.entity_id == "http://localhost:8000/nia/saml/metadata/"
    assert 'Location="http://localhost:8000/nia/saml/acs/"' in service.metadata_xml
    assert not service.encrypt_assertions
    assert metadata_problems(service.metadata_xml, service.entity_id, need_certificate=False) == []
    response = notifications(client, DEVELOPMENT_API_KEY)
    assert response.status_code == 200  # authenticated
    assert response.json() == {
        "Status": "OK",
        "Notifikace": [],
        "ExistujiDalsiNotifikace": False,
    }


def test_the_api_key_follows_the_setting(client, settings):
    settings.GOVSIM_NIA_API_KEY = "from-the-settings"
    seed()

    assert notifications(client, "from-the-settings").status_code == 200
    assert notifications(client, DEVELOPMENT_API_KEY).status_code == 401
