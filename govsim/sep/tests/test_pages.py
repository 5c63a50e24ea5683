"""The demo service's metadata, its registration at NIA, its place on the simulator's home
page, and the one answer each request gets."""

import base64

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.test import Client, RequestFactory
from django.urls import reverse
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from govsim.nia import eidas, idp
from govsim.nia.models import ServiceProvider
from govsim.sep import saml, services

from .conftest import HOME, posted_form

pytestmark = pytest.mark.django_db

NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}
ENTITY_ID = "http://testserver/sim/sep/metadata/"


def test_the_metadata_names_the_service_and_carries_its_certificate(browser):
    response = browser.get(reverse("govsim:sep:metadata"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(response.content)
    assert root.get("entityID") == ENTITY_ID
    assert root.get("validUntil") is None
    descriptor = root.find("md:SPSSODescriptor", NS)
    assert descriptor.get("AuthnRequestsSigned") == "true"
    assert descriptor.get("WantAssertionsSigned") == "true"
    consumer = descriptor.find("md:AssertionConsumerService", NS)
    assert consumer.get("Location") == "http://testserver/sim/sep/acs/"
    assert consumer.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    certificates = {
        key.get("use"): "".join(key.find(".//ds:X509Certificate", NS).text.split())
        for key in descriptor.findall("md:KeyDescriptor", NS)
    }
    assert set(certificates) == {"signing", "encryption"}
    assert certificates["signing"] == certificates["encryption"] == saml.key_pair().cert_base64
    # What NIA requires of a service's metadata, pysaml2's reading included.
    assert idp.metadata_problems(response.content.decode(), ENTITY_ID, need_certificate=True) == []


def test_the_key_pair_is_made_once_under_var_dir(settings):
    first = saml.key_pair()

    assert first.key_file.parent == settings.VAR_DIR / "govsim" / "sep"
    assert first.key_file.stat().st_mode & 0o077 == 0  # the private key is the owner's only
    assert saml.key_pair().cert_pem == first.cert_pem


def test_the_home_page_registers_the_service_at_nia_and_offers_the_levels(browser):
    assert not ServiceProvider.objects.filter(entity_id=ENTITY_ID).exists()

    page = browser.get(HOME)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in through NIA" in html
    assert 'value="substantial"' in html and 'value="high"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    service = ServiceProvider.objects.get(entity_id=ENTITY_ID)
    assert service.name == "Portál občana (simulace)"
    assert service.encrypt_assertions and service.active
    assert service.metadata_xml == browser.get(reverse("govsim:sep:metadata")).content.decode()


def test_changed_metadata_is_registered_again_and_the_operators_switches_kept(browser):
    browser.get(HOME)
    ServiceProvider.objects.filter(entity_id=ENTITY_ID).update(
        metadata_xml="<old/>", encrypt_assertions=False
    )

    browser.get(HOME)

    service = ServiceProvider.objects.get(entity_id=ENTITY_ID)
    assert service.metadata_xml.startswith("<md:EntityDescriptor")
    assert not service.encrypt_assertions
    assert ServiceProvider.objects.filter(entity_id=ENTITY_ID).count() == 1


def test_the_entity_id_follows_where_the_service_is_served():
    request = RequestFactory().get("/", HTTP_HOST="localhost:8001", secure=True)

    assert saml.entity_id(request) == "https://localhost:8001" + reverse("govsim:sep:metadata")
    assert saml.acs_url(request) == "https://localhost:8001" + reverse("govsim:sep:acs")


@pytest.mark.urls("govsim.standalone_urls")
def test_standalone_the_service_is_at_sep():
    request = RequestFactory().get("/", HTTP_HOST="localhost:8001")

    assert saml.entity_id(request) == "http://localhost:8001/sep/metadata/"
    assert saml.acs_url(request) == "http://localhost:8001/sep/acs/"


def test_the_sign_in_needs_the_csrf_token(db):
    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")

    assert strict.post(HOME, {"level": "substantial"}).status_code == 403


def test_a_request_is_answered_once_even_from_two_copies_of_the_session():
    """Two posts at once each read the session before either wrote it: the cache decides."""
    first, second = RequestFactory().post("/"), RequestFactory().post("/")
    first.session, second.session = SessionStore(), SessionStore()
    for request in (first, second):
        services.remember_request(request, "_request-1", eidas.LOA_HIGH)

    assert services.pending_level(first, "_request-1") == eidas.LOA_HIGH
    assert services.claim_answer(first, "_request-1") is True
    assert services.claim_answer(second, "_request-1") is False
    assert services.pending_level(first, "_request-1") is None


def test_the_simulators_home_page_links_to_the_demo_service(browser):
    html = browser.get("/sim/").content.decode()

    assert 'data-system="sep"' in html
    assert f'href="{reverse("govsim:sep:home")}"' in html


def test_the_request_carries_no_xml_declaration(browser):
    _, fields = posted_form(browser.post(HOME, {"level": "substantial"}))
    xml = base64.b64decode(fields["SAMLRequest"])

    assert xml.startswith(b"<samlp:AuthnRequest")
    # Still a valid signature once the declaration is cut off.
    cert = OneLogin_Saml2_Utils.format_cert(saml.key_pair().cert_base64)
    assert OneLogin_Saml2_Utils.validate_sign(
        xml, cert, xpath="/samlp:AuthnRequest/ds:Signature", raise_exceptions=True
    )
