"""Services in the simulator's admin: metadata checked on save, API keys made there."""

import pytest

from govsim.api import key_hash
from govsim.nia.idp import service_provider_metadata
from govsim.nia.models import ServiceProvider
from govsim.tests.people import make_operator, signed_in_as

pytestmark = pytest.mark.django_db

ADMIN = "/sim/admin/sim_nia/"
ENTITY = "https://sp.example.test/saml/metadata/"
ACS = "https://sp.example.test/saml/acs/"


@pytest.fixture
def admin_client(client, db):
    return signed_in_as(client, make_operator())


def form(**fields) -> dict:
    return {
        "name": "Test SP",
        "entity_id": ENTITY,
        "metadata_xml": service_provider_metadata(ENTITY, ACS),
        "active": "on",
    } | fields


@pytest.mark.parametrize(
    "page",
    [
        "serviceprovider/",
        "serviceprovider/add/",
        "authenticatorregistration/",
        "providernotification/",
        "pseudonym/",
    ],
)
def test_the_admin_pages_open(admin_client, page):
    assert admin_client.get(ADMIN + page).status_code == 200


def test_a_service_is_added_with_good_metadata(admin_client):
    response = admin_client.post(ADMIN + "serviceprovider/add/", form())

    assert response.status_code == 302, response.content.decode()[:3000]
    assert ServiceProvider.objects.get().entity_id == ENTITY


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"metadata_xml": "<not xml"}, "not XML"),
        ({"entity_id": "https://other.example.test/"}, "entityID"),
        ({"metadata_xml": "<x/>"}, "EntityDescriptor"),
        ({"encrypt_assertions": "on"}, "certificate"),
        (
            {
                "encrypt_assertions": "on",
                "metadata_xml": service_provider_metadata(ENTITY, ACS, "bm90IGEgY2VydA=="),
            },
            "not an X.509 certificate",
        ),
    ],
)
def test_unusable_metadata_is_refused(admin_client, fields, problem):
    response = admin_client.post(ADMIN + "serviceprovider/add/", form(**fields))

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not ServiceProvider.objects.exists()


def test_the_admin_generates_an_api_key_shown_once(admin_client):
    service = ServiceProvider.objects.create(
        entity_id=ENTITY, name="Test SP", metadata_xml=service_provider_metadata(ENTITY, ACS)
    )

    response = admin_client.post(
        ADMIN + "serviceprovider/",
        {"action": "generate_api_key", "_selected_action": [service.pk]},
        follow=True,
    )

    service.refresh_from_db()
    page = response.content.decode()
    key = page.split("(shown only now): ", 1)[1].split("<", 1)[0].strip()
    assert service.api_key_hash == key_hash(key)
    assert key not in service.api_key_hash
