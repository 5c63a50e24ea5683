"""The seed registers the MojeID portal with NIA, once."""

import pytest

from govsim.nia.idp import metadata_problems
from govsim.nia.models import ServiceProvider
from govsim.nia.seed import DEVELOPMENT_API_KEY, seed

pytestmark = pytest.mark.django_db


def test_the_seed_registers_the_portal_and_is_idempotent(client):
    first = seed("http://localhost:8000/")
    second = seed("http://localhost:8000")

    service = ServiceProvider.objects.get()
    assert first["created"] and not second["created"]
    assert service.entity_id == "http://localhost:8000/nia/saml/metadata/"
    assert 'Location="http://localhost:8000/nia/saml/acs/"' in service.metadata_xml
    assert not service.encrypt_assertions
    assert metadata_problems(service.metadata_xml, service.entity_id, need_certificate=False) == []
    response = client.get(
        "/sim/nia/api/v1/means",
        {"citizen": "8a7f2c1e-5b0d-4b8e-9d43-2f6a1c0e9b11"},
        HTTP_AUTHORIZATION=f"Bearer {DEVELOPMENT_API_KEY}",
    )
    assert response.status_code == 404  # authenticated; the register has no such citizen


def test_the_api_key_follows_the_setting(client, settings):
    settings.GOVSIM_NIA_API_KEY = "from-the-settings"
    seed()

    def status(key):
        return client.get(
            "/sim/nia/api/v1/means",
            {"person": "CZ/CZ/" + "0" * 64},  # well formed, given to nobody
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ).status_code

    assert status("from-the-settings") == 404
    assert status(DEVELOPMENT_API_KEY) == 401
