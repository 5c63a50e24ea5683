"""Signing in to a public administration service with MojeID through NIA: the service's request
at the simulated NIA, the choice of MojeID, NIA's AuthnRequest to the portal's identity provider,
the password and a registered key there, the portal's encrypted answer checked by the hub, NIA's
consent and its own answer to the service, read by the service with python3-saml."""

import pytest

from accounts.models import AuditEvent
from conftest import PASSWORD

from .idp_world import add_key, citizen_jana, link, metadata_for_keys
from .idp_world import world as world

pytestmark = pytest.mark.django_db(transaction=True)
NP = "http://eidas.europa.eu/attributes/naturalperson/"


def test_a_linked_citizen_signs_in_to_the_service_at_substantial(world, make_user):
    metadata_for_keys()
    user = make_user("jana")
    key = add_key(user)
    citizen = citizen_jana()
    link(user, citizen, world.mojeid, keys=[key.stored])

    page = world.service_asks("substantial")
    assert "MojeID" in page
    asked = world.choose_mojeid(page)
    after_password = world.sign_in_with_password(asked)
    assert after_password.status_code == 302, after_password.content[:2000]
    verified = world.key_step(key)
    assert verified.status_code == 200, verified.content
    at_consent = world.answer_to_nia()
    assert "Level of assurance of this login: substantial" in at_consent.content.decode()
    to_service = world.consent(at_consent)
    response = world.service_reads(to_service)

    assert response.is_valid(
        {"https": "on", "http_host": "sep.test", "script_name": "/acs/", "post_data": {}},
        request_id=world.request_id,
        raise_exceptions=True,
    )
    attributes = response.get_attributes()
    assert attributes[NP + "CurrentGivenName"] == ["Jana"]
    assert attributes[NP + "PersonIdentifier"][0].startswith("CZ/CZ/")
    assert response.get_authn_contexts() == ["http://eidas.europa.eu/LoA/substantial"]
    event = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN)
    assert event.details["service"] == "Portál občana (test)"
    assert event.details["level"] == "substantial"
    assert event.details["authenticator"] == "Klíč od úřadu"
    assert PASSWORD
