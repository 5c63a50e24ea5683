"""NIA reads a provider's metadata again from its address (docker-compose: the portal's metadata
cannot be given at seeding), so that MojeID appears in the choice of means once the portal
publishes its identity provider, and a broken document changes nothing."""

import pytest
from django.core.cache import cache

from govsim.nia import broker
from govsim.nia import seed as nia_seed
from govsim.nia.models import ServiceProvider
from nia_link.clients import saml

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal_at(live_server, settings, tmp_path):
    settings.PORTAL_URL = live_server.url
    settings.VAR_DIR = tmp_path
    settings.GOVSIM_PORTAL_METADATA_URL = f"{live_server.url}/nia/saml/metadata/"
    cache.clear()
    nia_seed.seed(live_server.url)  # no metadata given: made from the URLs, no sign-in role
    return live_server


def test_the_portal_is_offered_once_its_published_metadata_is_read(portal_at):
    service = ServiceProvider.objects.get(entity_id=saml.entity_id())
    assert service.metadata_url == f"{portal_at.url}/nia/saml/metadata/"
    assert not service.encrypt_assertions

    offered = broker.identity_providers()

    service.refresh_from_db()
    assert [provider.pk for provider in offered] == [service.pk]
    assert "IDPSSODescriptor" in service.metadata_xml and service.encrypt_assertions


def test_unusable_metadata_at_the_address_changes_nothing(portal_at):
    service = ServiceProvider.objects.get(entity_id=saml.entity_id())
    ServiceProvider.objects.filter(pk=service.pk).update(
        metadata_url=f"{portal_at.url}/sim/nia/saml/metadata/"  # NIA's own: another entity
    )
    before = service.metadata_xml

    assert broker.identity_providers() == []

    service.refresh_from_db()
    assert service.metadata_xml == before and not service.encrypt_assertions


def test_the_hub_publishes_the_browsers_addresses_whoever_fetches_its_metadata(settings, client):
    settings.GOVSIM_PUBLIC_URL = "http://localhost:8001"
    settings.ALLOWED_HOSTS = ["govsim"]

    metadata = client.get("/sim/nia/saml/broker/metadata/", HTTP_HOST="govsim").content.decode()

    assert 'entityID="http://localhost:8001/sim/nia/saml/broker/metadata/"' in metadata
    assert 'Location="http://localhost:8001/sim/nia/saml/broker/acs/"' in metadata
    assert "http://govsim" not in metadata
