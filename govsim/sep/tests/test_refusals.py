"""NIA's refusals explained in plain words (403), and answers that are no answer (400): forged
refusals, a "Success" without an assertion, garbage, a DOCTYPE — never an error 500."""

import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from govsim.nia import idp
from govsim.nia.models import ServiceProvider

from .conftest import HOME, post_answer, posted_form, saml_request_xml, text, to_nia

pytestmark = pytest.mark.django_db

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
ENTITY_ID = "http://testserver/sim/sep/metadata/"
ACS = "http://testserver/sim/sep/acs/"


def nia_refusal(request_id: str, status: str, message: str) -> str:
    """A refusal NIA itself signs (in-process), answering `request_id` of the demo service."""
    service = ServiceProvider.objects.get(entity_id=ENTITY_ID)
    pending = idp.PendingLogin(
        service_id=service.pk, request_id=request_id, acs_url=ACS, relay_state=""
    )
    return idp.error_response(RequestFactory().get("/"), service, pending, status, message)


def sent_request_id(browser, level: str = "substantial") -> str:
    return saml_request_xml(browser.post(HOME, {"level": level})).get("ID")


def refused_page(response) -> tuple[str, str]:
    """(the second-level status the page explains, its text)."""
    assert response.status_code == 403, response.content.decode()[:2000]
    status = re.search(r'data-status="(\w+)"', response.content.decode()).group(1)
    return status, text(response)


def test_cancelling_at_nia_is_explained_and_the_request_is_spent(browser):
    login = to_nia(browser)

    _, fields = posted_form(browser.post(login + "cancel/"))
    page = post_answer(browser, fields)

    status, shown = refused_page(page)
    assert status == "RequestDenied"
    assert "The sign-in was cancelled or refused." in shown
    assert "the person cancelled the login" in shown  # NIA's StatusMessage, as detail
    assert f'href="{reverse("govsim:sep:home")}"' in page.content.decode()  # try again
    assert post_answer(browser, fields).status_code == 400


@pytest.mark.parametrize(
    "level, status, explained",
    [
        (
            "high",
            idp.STATUS_NO_AUTHN_CONTEXT,
            "The identity provider you chose cannot sign you in at the level of assurance "
            "this service asks for (high).",
        ),
        (
            "substantial",
            idp.STATUS_NO_AUTHN_CONTEXT,
            "at the level of assurance this service asks for (substantial).",
        ),
        ("substantial", idp.STATUS_AUTHN_FAILED, "Your identity could not be verified."),
        ("high", idp.STATUS_NO_PASSIVE, "without seeing the identity provider's pages"),
        (
            "high",
            "urn:oasis:names:tc:SAML:2.0:status:NoAvailableIDP",
            "No identity provider is available",
        ),
        ("high", "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal", "does not know you"),
        ("high", "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported", "did not sign you in"),
    ],
)
def test_each_refusal_of_nia_is_explained_in_plain_words(browser, level, status, explained):
    request_id = sent_request_id(browser, level)

    page = post_answer(browser, {"SAMLResponse": nia_refusal(request_id, status, "what NIA says")})

    shown_status, shown = refused_page(page)
    assert shown_status == status.rsplit(":", 1)[1]
    assert explained in shown
    assert "what NIA says" in shown


def test_a_refusal_nia_did_not_sign_is_no_refusal(browser):
    request_id = sent_request_id(browser)
    answer = etree.fromstring(
        base64.b64decode(nia_refusal(request_id, idp.STATUS_AUTHN_FAILED, "no"))
    )
    answer.remove(answer.find(f"{{{DS}}}Signature"))

    page = post_answer(browser, {"SAMLResponse": base64.b64encode(etree.tostring(answer)).decode()})

    assert page.status_code == 400
    # The real answer is still awaited.
    real = nia_refusal(request_id, idp.STATUS_AUTHN_FAILED, "no")
    assert post_answer(browser, {"SAMLResponse": real}).status_code == 403


def test_a_refusal_changed_after_signing_is_no_refusal(browser):
    request_id = sent_request_id(browser)
    xml = base64.b64decode(nia_refusal(request_id, idp.STATUS_AUTHN_FAILED, "original"))

    changed = xml.replace(b"original", b"forged!!")
    assert changed != xml
    page = post_answer(browser, {"SAMLResponse": base64.b64encode(changed).decode()})

    assert page.status_code == 400


def test_a_success_without_an_assertion_is_no_sign_in(browser):
    """The real NIA may say Success with an AuthnFailed inside: a Success is only believed with
    a valid assertion, however well it is signed."""
    request_id = sent_request_id(browser)
    answer = etree.fromstring(
        base64.b64decode(nia_refusal(request_id, idp.STATUS_AUTHN_FAILED, "failed"))
    )
    answer.remove(answer.find(f"{{{DS}}}Signature"))
    answer.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode").set(
        "Value", "urn:oasis:names:tc:SAML:2.0:status:Success"
    )
    signed = OneLogin_Saml2_Utils.add_sign(
        etree.tostring(answer),
        Path(settings.GOVSIM_NIA_KEY_FILE).read_text(),
        Path(settings.GOVSIM_NIA_CERT_FILE).read_text(),
    )

    page = post_answer(browser, {"SAMLResponse": base64.b64encode(signed).decode()})

    assert page.status_code == 400
    assert 'data-testid="sep-person"' not in browser.get(HOME).content.decode()


DOCTYPE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]>'
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" '
    b'InResponseTo="REQUEST" Version="2.0">&x;</samlp:Response>'
)


@pytest.mark.parametrize(
    "saml_response",
    [
        "",
        "not base64!",
        base64.b64encode(b"<not-xml").decode(),
        base64.b64encode(b"<root/>").decode(),
        base64.b64encode(
            b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'
        ).decode(),
        "DOCTYPE",
        "A" * 300_000,
    ],
)
def test_garbage_is_an_invalid_answer(browser, saml_response):
    if saml_response == "DOCTYPE":
        # InResponseTo names a request really waiting: only the DOCTYPE is wrong.
        request_id = sent_request_id(browser)
        saml_response = base64.b64encode(DOCTYPE.replace(b"REQUEST", request_id.encode())).decode()

    page = post_answer(browser, {"SAMLResponse": saml_response})

    assert page.status_code == 400
    assert "Invalid answer from the identity provider" in text(page)
    assert b"boom" not in page.content


def test_the_acs_takes_posts_only(browser):
    assert browser.get(reverse("govsim:sep:acs")).status_code == 405
