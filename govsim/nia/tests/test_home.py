"""NIA's own page at /sim/nia/: what the simulated NIA is, where its SAML metadata and its
back-channel are, the authenticators registered lately, and that a sign-in starts at a service,
not here."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from govsim.nia.models import AuthenticatorRegistration, ServiceProvider
from govsim.outage import set_down

pytestmark = pytest.mark.django_db

URL = "/sim/nia/"


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_the_nia_page_says_what_it_is_and_where_its_endpoints_are(browser):
    ServiceProvider.objects.create(
        entity_id="http://localhost:8000/nia/saml/metadata/",
        name="MojeID",
        metadata_xml="<md/>",
        active=True,
    )
    ServiceProvider.objects.create(
        entity_id="https://old.example/", name="Old service", metadata_xml="<md/>", active=False
    )

    response = browser.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="nia-home"' in html
    assert f'href="{reverse("govsim:nia:metadata")}"' in html
    assert reverse("govsim:nia:sso") in html
    operations = re.search(r'data-testid="operations">(.*?)</dl>', html, re.S).group(1)
    for operation in (
        "TR_ZTOTOZNENI",
        "TR_EVIDENCE_VIP_ZAPIS",
        "TR_EVIDENCE_VIP_ZMENA",
        "TR_NOTIFIKACE_IDP",
    ):
        assert reverse("govsim:nia:api_submit", args=[operation]) in operations
    assert "None yet: providers register authenticators" in html
    assert "starts at the service" in html
    services = re.search(r'data-testid="services">(.*?)</ul>', html, re.S).group(1)
    assert "MojeID" in services and "Old service" not in services
    assert 'href="/sim/"' in html, "back to the simulator's home page"


def test_the_nia_page_lists_recent_registrations_without_the_person(browser, make_citizen):
    service = ServiceProvider.objects.create(
        entity_id="http://localhost:8000/nia/saml/metadata/", name="MojeID", metadata_xml="<md/>"
    )
    citizen = make_citizen(last_name="Registrovaná")
    AuthenticatorRegistration.objects.create(
        service_provider=service,
        citizen=citizen,
        bsi="0f0e0d0c-0b0a-4908-8706-050403020100",
        identifier="klic-42",
        loa="High",
        state="Neaktivni",
        verified_by_document=True,
    )

    html = browser.get(URL).content.decode()

    listed = re.search(r'data-testid="registrations">(.*?)</table>', html, re.S).group(1)
    assert "klic-42" in listed and "MojeID" in listed
    assert "high" in listed and "inactive" in listed
    assert "Registrovaná" not in html and "0f0e0d0c" not in html
    assert "None yet: providers register authenticators" not in html


def test_the_nia_page_answers_503_while_nia_is_down(browser):
    set_down("nia", True)

    response = browser.get(URL)

    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_the_nia_page_only_answers_reads(browser):
    assert browser.post(URL).status_code == 405
