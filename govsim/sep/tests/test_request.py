"""The AuthnRequest the demo service sends NIA: signed, the level asked with Comparison
"minimum", a transient NameIDPolicy, and the eIDAS SPType and RequestedAttributes."""

import base64
import re

import pytest
from django.urls import reverse
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from govsim.nia import eidas

from .conftest import HOME, posted_form, saml_request_xml

pytestmark = pytest.mark.django_db

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "eidas": "http://eidas.europa.eu/saml-extensions",
}


def sep_certificate(browser) -> str:
    metadata = etree.fromstring(browser.get(reverse("govsim:sep:metadata")).content)
    return metadata.find(".//md:KeyDescriptor[@use='signing']//ds:X509Certificate", NS).text


def test_the_request_is_signed_and_asks_for_substantial_or_more_with_the_eidas_extensions(
    browser,
):
    page = browser.post(HOME, {"level": "substantial"})
    root = saml_request_xml(page)

    assert root.tag == f"{{{NS['samlp']}}}AuthnRequest"
    assert root.get("Destination") == "http://testserver" + reverse("govsim:nia:sso")
    assert root.get("AssertionConsumerServiceURL") == "http://testserver" + reverse(
        "govsim:sep:acs"
    )
    assert root.find("saml:Issuer", NS).text == "http://testserver" + reverse("govsim:sep:metadata")
    # Signed enveloped, RSA-SHA256 over SHA-256, the reference naming the request itself.
    signature = root.find("ds:Signature", NS)
    assert signature is not None
    assert (
        signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm")
        == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    assert (
        signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm")
        == "http://www.w3.org/2001/04/xmlenc#sha256"
    )
    assert signature.find("ds:SignedInfo/ds:Reference", NS).get("URI") == "#" + root.get("ID")
    cert = OneLogin_Saml2_Utils.format_cert(sep_certificate(browser))
    assert OneLogin_Saml2_Utils.validate_sign(
        root, cert, xpath="/samlp:AuthnRequest/ds:Signature", raise_exceptions=True
    )
    # The schema's order: Issuer, Signature, Extensions, NameIDPolicy, RequestedAuthnContext.
    children = [etree.QName(child).localname for child in root]
    assert children[:3] == ["Issuer", "Signature", "Extensions"]
    assert (
        root.find("samlp:NameIDPolicy", NS).get("Format")
        == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    )
    requested = root.find("samlp:RequestedAuthnContext", NS)
    assert requested.get("Comparison") == "minimum"
    assert [ref.text for ref in requested.findall("saml:AuthnContextClassRef", NS)] == [
        eidas.LOA_SUBSTANTIAL
    ]
    extensions = root.find("samlp:Extensions", NS)
    assert extensions.find("eidas:SPType", NS).text == "public"
    attributes = extensions.findall("eidas:RequestedAttributes/eidas:RequestedAttribute", NS)
    assert {a.get("Name"): a.get("isRequired") for a in attributes} == {
        eidas.PERSON_IDENTIFIER: "true",
        eidas.CURRENT_GIVEN_NAME: "true",
        eidas.CURRENT_FAMILY_NAME: "true",
        eidas.DATE_OF_BIRTH: "true",
        eidas.PLACE_OF_BIRTH: "false",
        eidas.CURRENT_ADDRESS: "false",
    }
    assert {a.get("NameFormat") for a in attributes} == {
        "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
    }
    # The request is remembered in the session, with the level it asked for.
    assert browser.session["sim_sep_requests"][root.get("ID")]["level"] == eidas.LOA_SUBSTANTIAL


def test_asking_for_high_sends_the_high_level(browser):
    root = saml_request_xml(browser.post(HOME, {"level": "high"}))

    refs = root.findall("samlp:RequestedAuthnContext/saml:AuthnContextClassRef", NS)
    assert [ref.text for ref in refs] == [eidas.LOA_HIGH]


def test_substantial_is_the_default_choice(browser):
    page = browser.get(HOME).content.decode()

    radios = re.findall(r'<input type="radio" name="level"[^>]*>', page)
    checked = [re.search(r'value="(\w+)"', r).group(1) for r in radios if " checked" in r]
    assert len(radios) == 2
    assert checked == ["substantial"]


def test_an_unknown_level_sends_nothing(browser):
    page = browser.post(HOME, {"level": "low"})

    assert page.status_code == 400
    assert b"SAMLRequest" not in page.content
    assert not browser.session.get("sim_sep_requests")


def test_nia_checks_the_signature_a_request_changed_after_signing_is_refused(browser):
    action, fields = posted_form(browser.post(HOME, {"level": "high"}))
    xml = base64.b64decode(fields["SAMLRequest"])
    forged = xml.replace(eidas.LOA_HIGH.encode(), eidas.LOA_SUBSTANTIAL.encode())
    assert forged != xml

    refused = browser.post(action, {"SAMLRequest": base64.b64encode(forged).decode()})
    accepted = browser.post(action, fields)

    assert refused.status_code == 400
    assert accepted.status_code == 302
