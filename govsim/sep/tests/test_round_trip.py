"""The demo service signs a citizen in through the simulated NIA: python3-saml on one end,
pysaml2 on the other, the whole way through the pages a person sees."""

import base64

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from govsim.nia import services as nia_services
from govsim.nia.models import ServiceProvider

from .conftest import HOME, nia_answer, post_answer, shown_field, text

pytestmark = pytest.mark.django_db

ENTITY_ID = "http://testserver/sim/sep/metadata/"
XENC = "http://www.w3.org/2001/04/xmlenc#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def test_a_citizen_signs_in_with_eobcanka_and_the_service_shows_who_and_how(browser, make_citizen):
    citizen = make_citizen()

    fields = nia_answer(browser, citizen)
    landing = post_answer(browser, fields)

    assert landing.status_code == 200, landing.content.decode()[:2000]
    # NIA encrypted the assertion to the service's key: the name is not readable on the wire.
    answer = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    assert answer.find(f"{{{SAML}}}EncryptedAssertion/{{{XENC}}}EncryptedData") is not None
    assert answer.find(f"{{{SAML}}}Assertion") is None
    assert shown_field(landing, "given_name") == "Jana Marie"
    assert shown_field(landing, "family_name") == "Nováková"
    assert shown_field(landing, "birth_date") == "March 14, 1985"
    assert 'datetime="1985-03-14"' in landing.content.decode()
    service = ServiceProvider.objects.get(entity_id=ENTITY_ID)
    assert shown_field(landing, "person_identifier") == "CZ/CZ/" + nia_services.bsi(
        service, citizen
    )
    # Asked for substantial, NIA gave high: an eObčanka is worth high.
    assert shown_field(landing, "level") == "high"
    assert "Welcome, Jana Marie" in text(landing)
    # Signed in: the home page shows it too, until signing out.
    assert shown_field(browser.get(HOME), "family_name") == "Nováková"
    out = browser.post(reverse("govsim:sep:logout"))
    assert out.status_code == 302 and out["Location"] == reverse("govsim:sep:home")
    assert "Nováková" not in text(browser.get(HOME))


def test_asking_for_high_signs_in_at_high(browser, make_citizen):
    landing = post_answer(browser, nia_answer(browser, make_citizen(), level="high"))

    assert landing.status_code == 200
    assert shown_field(landing, "level") == "high"


def test_signing_out_needs_a_post(browser):
    assert browser.get(reverse("govsim:sep:logout")).status_code == 405


def test_the_same_answer_posted_twice_is_refused_the_second_time(browser, make_citizen):
    fields = nia_answer(browser, make_citizen())

    first = post_answer(browser, fields)
    second = post_answer(browser, fields)

    assert first.status_code == 200
    assert second.status_code == 400
    assert 'data-testid="sep-invalid"' in second.content.decode()


def test_an_answer_to_a_request_this_browser_did_not_send_is_refused(browser, make_citizen):
    fields = nia_answer(browser, make_citizen())

    elsewhere = post_answer(Client(HTTP_ACCEPT_LANGUAGE="en"), fields)

    assert elsewhere.status_code == 400
    assert "Invalid answer from the identity provider" in text(elsewhere)
    # The browser that asked may still use it: the stranger's post claimed nothing.
    assert post_answer(browser, fields).status_code == 200


def test_a_plain_assertion_is_refused_when_nia_was_told_not_to_encrypt(browser, make_citizen):
    citizen = make_citizen()
    browser.get(HOME)  # registers the service
    # An operator switches encryption off in the simulator admin after the registration.
    ServiceProvider.objects.filter(entity_id=ENTITY_ID).update(encrypt_assertions=False)

    fields = nia_answer(browser, citizen)
    answer = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    refused = post_answer(browser, fields)

    assert answer.find(f"{{{SAML}}}Assertion") is not None  # NIA did send it in the clear
    assert refused.status_code == 400
    assert "Nováková" not in text(refused)
    assert "Nováková" not in text(browser.get(HOME))
    assert not ServiceProvider.objects.get(entity_id=ENTITY_ID).encrypt_assertions  # kept


def test_an_answer_changed_on_the_way_is_refused(browser, make_citizen):
    fields = nia_answer(browser, make_citizen())
    answer = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    answer.set("IssueInstant", "2099-01-01T00:00:00Z")  # under NIA's signature

    changed = post_answer(
        browser, {"SAMLResponse": base64.b64encode(etree.tostring(answer)).decode()}
    )

    assert changed.status_code == 400
    assert post_answer(browser, fields).status_code == 200  # the real one still counts
