"""SAML round trips between a python3-saml service provider and the simulated NIA (pysaml2)."""

import base64
import datetime
import re
import zlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.utils import OneLogin_Saml2_Utils, OneLogin_Saml2_ValidationError

from govsim.nia import eidas, services
from govsim.nia.models import Pseudonym

from .conftest import PIN, card_of, posted_form, sign_in, start_login

pytestmark = pytest.mark.django_db

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS, "xenc": "http://www.w3.org/2001/04/xmlenc#"}


def decoded(saml_response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(saml_response))


def encoded(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def test_a_python3_saml_sp_signs_a_citizen_in_with_eobcanka_at_level_high(client, sp, make_citizen):
    citizen = make_citizen()

    page, request_id = sign_in(client, sp, citizen)
    action, fields = posted_form(page)
    response = sp.accepts(fields["SAMLResponse"], request_id)

    assert action == sp.acs_url
    assert fields["RelayState"] == sp.relay_state
    attributes = response.get_attributes()
    person = attributes[eidas.PERSON_IDENTIFIER][0]
    # "CZ/CZ/" + the citizen's BSI for this service: a version-4 GUID.
    assert re.fullmatch(
        r"CZ/CZ/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", person
    )
    assert person == "CZ/CZ/" + services.bsi(sp.service, citizen)
    assert attributes[eidas.CURRENT_GIVEN_NAME] == ["Jana Marie"]
    assert attributes[eidas.CURRENT_FAMILY_NAME] == ["Nováková"]
    assert attributes[eidas.DATE_OF_BIRTH] == ["1985-03-14"]
    assert attributes[eidas.PLACE_OF_BIRTH] == ["Brno"]
    address = base64.b64decode(attributes[eidas.CURRENT_ADDRESS][0]).decode()
    assert "<eidas:Thoroughfare" in address and "Květná" in address
    assert "Květná 1234/5, Vinohrady, 120 00 Praha" in address
    assert response.get_friendlyname_attributes()["DateOfBirth"] == ["1985-03-14"]
    assert response.get_authn_contexts() == [eidas.LOA_HIGH]
    assert response.get_audiences() == [sp.entity_id]
    assert response.get_issuers() == [sp.settings().get_idp_data()["entityId"]]
    # NIA remembers which pseudonym it gave to which service, for its back-channel.
    assert Pseudonym.objects.get(service_provider=sp.service, citizen=citizen).value == person


def test_both_the_response_and_the_assertion_are_signed_rsa_sha256_exclusive_c14n(
    client, sp, make_citizen
):
    page, request_id = sign_in(client, sp, make_citizen())
    _, fields = posted_form(page)
    root = decoded(fields["SAMLResponse"])

    for signed in (root, root.find("saml:Assertion", NS)):
        signature = signed.find("ds:Signature", NS)
        assert signature is not None
        assert (
            signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm")
            == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        )
        assert (
            signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm")
            == "http://www.w3.org/2001/10/xml-exc-c14n#"
        )
        reference = signature.find("ds:SignedInfo/ds:Reference", NS)
        assert reference.get("URI") == "#" + signed.get("ID")
    cert = sp.settings().get_idp_cert()
    # python3-saml's own verification of each signature (a bare Assertion needs the xpath).
    assert OneLogin_Saml2_Utils.validate_sign(root, cert, xpath="/samlp:Response/ds:Signature")
    assertion = root.find("saml:Assertion", NS)
    assert OneLogin_Saml2_Utils.validate_sign(
        etree.tostring(assertion), cert, xpath="/saml:Assertion/ds:Signature"
    )
    assert root.get("InResponseTo") == request_id
    assert root.get("Destination") == sp.acs_url


def test_a_tampered_response_fails_validation(client, sp, make_citizen):
    page, request_id = sign_in(client, sp, make_citizen())
    _, fields = posted_form(page)
    root = decoded(fields["SAMLResponse"])
    family = root.find(
        f"saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='{eidas.CURRENT_FAMILY_NAME}']"
        "/saml:AttributeValue",
        NS,
    )
    family.text = "Podvodníková"

    with pytest.raises(OneLogin_Saml2_ValidationError, match=r"[Ss]ignature"):
        sp.accepts(encoded(root), request_id)


def test_the_sp_refuses_the_response_for_another_request_or_another_audience(
    client, sp, make_sp, make_citizen
):
    page, request_id = sign_in(client, sp, make_citizen())
    _, fields = posted_form(page)

    with pytest.raises(OneLogin_Saml2_ValidationError, match="InResponseTo"):
        sp.accepts(fields["SAMLResponse"], "_another-request")
    other = make_sp("other.example.test", name="Other SP")
    with pytest.raises(OneLogin_Saml2_ValidationError):
        other.accepts(fields["SAMLResponse"], request_id)  # audience and destination differ


def test_an_encrypted_assertion_is_decrypted_and_validated_by_the_sp(client, make_sp, make_citizen):
    sp = make_sp(encrypted=True)

    page, request_id = sign_in(client, sp, make_citizen())
    _, fields = posted_form(page)
    root = decoded(fields["SAMLResponse"])
    response = sp.accepts(fields["SAMLResponse"], request_id)

    assert root.find("saml:Assertion", NS) is None
    assert root.find("saml:EncryptedAssertion/xenc:EncryptedData", NS) is not None
    assert b"Nov\xc3\xa1kov\xc3\xa1" not in base64.b64decode(fields["SAMLResponse"])
    assert response.get_attributes()[eidas.CURRENT_FAMILY_NAME] == ["Nováková"]
    assert response.get_authn_contexts() == [eidas.LOA_HIGH]


def test_an_sp_that_wants_encryption_refuses_a_plain_assertion(client, make_sp, make_citizen):
    sp = make_sp()
    page, request_id = sign_in(client, sp, make_citizen())
    _, fields = posted_form(page)
    sp.encrypted = True

    with pytest.raises(OneLogin_Saml2_ValidationError, match="encrypted"):
        sp.accepts(fields["SAMLResponse"], request_id)


def test_the_pseudonym_differs_between_services_and_stays_for_one(client, make_sp, make_citizen):
    citizen = make_citizen()
    first, second = make_sp("a.example.test", name="A"), make_sp("b.example.test", name="B")

    def person_at(sp):
        page, request_id = sign_in(client, sp, citizen)
        _, fields = posted_form(page)
        return sp.accepts(fields["SAMLResponse"], request_id).get_attributes()[
            eidas.PERSON_IDENTIFIER
        ][0]

    at_first = person_at(first)
    assert person_at(second) != at_first
    assert person_at(first) == at_first
    assert person_at(first) != person_at_other_citizen(client, first, make_citizen)


def person_at_other_citizen(client, sp, make_citizen):
    page, request_id = sign_in(client, sp, make_citizen(first_names="Petr", last_name="Dvořák"))
    _, fields = posted_form(page)
    return sp.accepts(fields["SAMLResponse"], request_id).get_attributes()[eidas.PERSON_IDENTIFIER][
        0
    ]


def test_an_unknown_service_is_refused_with_a_readable_page(client, sp):
    url, _ = sp.login_url()
    sp.service.delete()

    page = client.get(url)

    assert page.status_code == 403
    assert b"Unknown service" in page.content
    assert sp.entity_id.encode() in page.content


def test_an_acs_url_not_in_the_metadata_is_refused(client, sp):
    url, _ = sp.login_url()
    query = parse_qs(urlsplit(url).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    forged = xml.replace(sp.acs_url.encode(), b"https://evil.example.test/acs")
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    request = base64.b64encode(deflater.compress(forged) + deflater.flush()).decode()

    page = client.get(reverse("govsim:nia:sso") + "?" + urlencode({"SAMLRequest": request}))

    assert page.status_code == 400
    assert b"evil.example.test" not in page.content


@pytest.mark.parametrize("garbage", ["not base64!", base64.b64encode(b"<not-xml").decode()])
def test_a_malformed_request_is_a_400_page(client, garbage):
    page = client.get(reverse("govsim:nia:sso"), {"SAMLRequest": garbage})
    assert page.status_code == 400
    assert b"Invalid login request" in page.content


def test_the_sso_endpoint_without_a_request_is_a_400_page(client):
    assert client.get(reverse("govsim:nia:sso")).status_code == 400


def test_a_card_not_activated_for_nia_is_refused_and_the_sp_gets_an_error(client, sp, make_citizen):
    citizen = make_citizen(activated=False)
    login, request_id = start_login(client, sp)

    refused = client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})

    assert refused.status_code == 403
    assert b"not activated for electronic identification" in refused.content
    assert client.get(login + "consent/").status_code == 302  # no way around the card
    back = client.post(login + "cancel/")
    _, fields = posted_form(back)
    with pytest.raises(OneLogin_Saml2_ValidationError, match="Responder"):
        sp.accepts(fields["SAMLResponse"], request_id)
    root = decoded(fields["SAMLResponse"])
    assert (
        root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
    )
    assert root.find("saml:Assertion", NS) is None
    assert root.get("InResponseTo") == request_id
    # Even the error is signed by NIA.
    assert OneLogin_Saml2_Utils.validate_sign(
        root, sp.settings().get_idp_cert(), xpath="/samlp:Response/ds:Signature"
    )


def test_a_deceased_persons_card_is_refused(client, sp, make_citizen):
    citizen = make_citizen(deceased=True)
    login, _ = start_login(client, sp)

    refused = client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})

    assert refused.status_code == 403
    assert b"deceased" in refused.content


def test_a_wrong_pin_is_refused_and_three_block_the_card(client, sp, make_citizen):
    citizen = make_citizen()
    login, _ = start_login(client, sp)
    card = {"card_number": card_of(citizen)}

    first = client.post(login + "eobcanka/", {**card, "pin": "000000"})
    assert first.status_code == 400
    assert b"Wrong PIN. Attempts left before the card is blocked: 2." in first.content
    assert client.get(login + "consent/").status_code == 302
    client.post(login + "eobcanka/", {**card, "pin": "000001"})
    blocked = client.post(login + "eobcanka/", {**card, "pin": "000002"})
    assert blocked.status_code == 403
    assert b"blocked" in blocked.content
    # Blocked now, even with the right PIN.
    again = client.post(login + "eobcanka/", {**card, "pin": PIN})
    assert again.status_code == 403
    assert client.get(login + "consent/").status_code == 302


def test_an_unknown_card_number_is_a_form_error(client, sp, make_citizen):
    make_citizen()
    login, _ = start_login(client, sp)

    page = client.post(login + "eobcanka/", {"card_number": "XX0000000", "pin": PIN})

    assert page.status_code == 400
    assert "no eObčanka with this number".encode() in page.content


def test_the_login_pages_show_the_service_the_means_and_the_data_released(client, sp, make_citizen):
    make_citizen(card="123456789")
    login, _ = start_login(client, sp)

    means = client.get(login).content.decode()
    card_page = client.get(login + "eobcanka/").content.decode()
    entered = client.post(login + "eobcanka/", {"card_number": "123 456 789", "pin": PIN})
    consent = client.get(login + "consent/").content.decode()

    assert "Test SP" in means and "eObčanka" in means and 'aria-disabled="true"' in means
    assert "123456789" in card_page and "Jana Marie Nováková" in card_page
    assert entered.status_code == 302  # the number is read without its spaces
    assert "Test SP" in consent
    for shown in ("Jana Marie", "Nováková", "March 14, 1985", "Brno", "Květná 1234/5, Vinohrady"):
        assert shown in consent
    assert "CZ/CZ/" in consent


def test_declining_consent_sends_request_denied(client, sp, make_citizen):
    citizen = make_citizen()
    login, _ = start_login(client, sp)
    client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})

    declined = client.post(login + "consent/", {"decision": "decline"})

    _, fields = posted_form(declined)
    root = decoded(fields["SAMLResponse"])
    assert (
        root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
    )
    assert not Pseudonym.objects.exists()
    # The login is over: its pages are gone.
    assert client.get(login).status_code == 410


def test_a_login_is_answered_once(client, sp, make_citizen):
    citizen = make_citizen()
    login, _ = start_login(client, sp)
    client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})
    posted_form(client.post(login + "consent/", {"decision": "consent"}))

    again = client.post(login + "consent/", {"decision": "consent"})

    assert again.status_code == 410
    assert b"SAMLResponse" not in again.content


@pytest.mark.parametrize(
    "levels, comparison, possible",
    [
        ([eidas.LOA_SUBSTANTIAL], "minimum", True),
        ([eidas.LOA_LOW], "minimum", True),
        ([eidas.LOA_HIGH], "minimum", True),
        ([eidas.LOA_HIGH], "exact", True),
        ([eidas.LOA_SUBSTANTIAL], "exact", False),
        ([eidas.LOA_SUBSTANTIAL], None, False),  # SAML's default comparison is "exact"
        ([eidas.LOA_HIGH], "better", False),
        ([eidas.LOA_SUBSTANTIAL], "better", True),
        ([eidas.LOA_SUBSTANTIAL], "maximum", False),
        ([eidas.LOA_LOW, eidas.LOA_HIGH], "maximum", True),
        ([], None, True),
    ],
)
def test_level_of_assurance_comparisons(levels, comparison, possible):
    assert eidas.satisfies(eidas.LOA_HIGH, levels, comparison) is possible


def test_an_unknown_authn_context_class_is_not_satisfiable():
    with pytest.raises(eidas.UnknownLevel):
        eidas.satisfies(
            eidas.LOA_HIGH, ["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"], "minimum"
        )


def test_a_request_nia_cannot_satisfy_is_answered_no_authn_context(client, sp):
    settings = sp.settings()
    settings.get_security_data()["requestedAuthnContext"] = [
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
    ]
    settings.get_security_data()["requestedAuthnContextComparison"] = "exact"
    url = OneLogin_Saml2_Auth(sp.request_data(), old_settings=settings).login()

    page = client.get(url)
    assert page.status_code == 403
    login = re.search(r'action="([^"]*/cancel/)"', page.content.decode()).group(1)
    _, fields = posted_form(client.post(login))
    root = decoded(fields["SAMLResponse"])
    assert (
        root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
    )


def test_a_passive_request_is_answered_no_passive_at_once(client, sp):
    url, request_id = sp.login_url(is_passive=True)

    _, fields = posted_form(client.get(url))

    root = decoded(fields["SAMLResponse"])
    assert root.get("InResponseTo") == request_id
    assert (
        root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
    )


def test_the_http_post_binding_is_accepted_too(client, sp, make_citizen):
    url, _ = sp.login_url()
    query = parse_qs(urlsplit(url).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)

    started = client.post(
        reverse("govsim:nia:sso"), {"SAMLRequest": base64.b64encode(xml).decode()}
    )

    assert started.status_code == 302
    assert "/login/" in started["Location"]


def test_an_expired_card_is_refused(client, sp, make_citizen):
    citizen = make_citizen(valid_until=datetime.date(2020, 1, 31))
    login, _ = start_login(client, sp)

    refused = client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})

    assert refused.status_code == 403
    assert b"expired" in refused.content


def test_a_service_wanting_encryption_without_a_certificate_gets_a_page_not_a_500(
    client, sp, make_citizen
):
    citizen = make_citizen()
    login, _ = start_login(client, sp)
    client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})
    sp.service.encrypt_assertions = True
    sp.service.metadata_xml = sp.service.metadata_xml.replace(
        "<ds:X509Certificate>", "<ds:X509Certificate>AAAA"
    )
    sp.service.save()

    page = client.post(login + "consent/", {"decision": "consent"})

    assert page.status_code == 409
    assert b"SAMLResponse" not in page.content


def signed_post_request(sp) -> bytes:
    """An AuthnRequest signed inside the XML, as the HTTP-POST binding carries it."""
    xml = OneLogin_Saml2_Authn_Request(sp.settings()).get_xml()
    signed = OneLogin_Saml2_Utils.add_sign(xml, sp.key_pem, sp.cert_pem)
    # add_sign answers bytes with an XML declaration: fine to post as it is.
    assert b"<ds:Signature" in signed
    return signed


def test_a_signed_post_request_is_verified(client, sp):
    signed = signed_post_request(sp)
    # Any change after signing breaks the signature: here, a request to be passive.
    tampered = signed.replace(b'Version="2.0"', b'Version="2.0" IsPassive="true"', 1)

    def post(request: bytes):
        return client.post(
            reverse("govsim:nia:sso"), {"SAMLRequest": base64.b64encode(request).decode()}
        )

    assert post(signed).status_code == 302
    assert post(tampered).status_code == 400


# --- Replays, concurrent answers, RelayState, the card at consent ----------------------------


def redeflated(url: str, change) -> str:
    """The SSO URL with its AuthnRequest's XML changed by `change` (the request is not signed)."""
    query = parse_qs(urlsplit(url).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    request = base64.b64encode(deflater.compress(change(xml)) + deflater.flush()).decode()
    return reverse("govsim:nia:sso") + "?" + urlencode({"SAMLRequest": request})


def answer(client, login: str, citizen) -> object:
    client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})
    return client.post(login + "consent/", {"decision": "consent"})


def test_an_answered_authn_request_cannot_be_replayed(client, sp, make_citizen):
    citizen = make_citizen()
    url, _ = sp.login_url()
    started = client.get(url)
    posted_form(answer(client, started["Location"], citizen))

    again = client.get(url)
    elsewhere = Client().get(url)  # another browser, without the first one's session

    assert again.status_code == 400
    assert b"Invalid login request" in again.content
    assert elsewhere.status_code == 400


def test_a_request_started_twice_is_answered_once(client, sp, make_citizen):
    citizen = make_citizen()
    url, _ = sp.login_url()
    first, second = client.get(url)["Location"], client.get(url)["Location"]
    assert first != second  # both accepted: neither was answered yet

    posted_form(answer(client, first, citizen))
    late = answer(client, second, citizen)

    assert late.status_code == 410
    assert b"SAMLResponse" not in late.content


def test_two_concurrent_consents_give_one_assertion(client, sp, make_citizen):
    """The second POST read the session before the first one saved it (a double click)."""
    from govsim.nia.views import SESSION_KEY

    citizen = make_citizen()
    login, _ = start_login(client, sp)
    client.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})
    as_read = client.session[SESSION_KEY]

    first = client.post(login + "consent/", {"decision": "consent"})
    session = client.session
    session[SESSION_KEY] = as_read
    session.save()
    second = client.post(login + "consent/", {"decision": "consent"})

    posted_form(first)
    assert second.status_code == 410
    assert b"SAMLResponse" not in second.content


def test_a_stale_authn_request_is_refused(client, sp):
    url, _ = sp.login_url()
    old = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )

    page = client.get(
        redeflated(
            url, lambda xml: re.sub(rb'IssueInstant="[^"]*"', f'IssueInstant="{old}"'.encode(), xml)
        )
    )

    assert page.status_code == 400
    assert b"Invalid login request" in page.content


@pytest.mark.parametrize(
    "relay_state, accepted",
    [
        ("https://sp.example.test/" + "x" * 56, True),  # 80 bytes
        ("https://sp.example.test/" + "x" * 57, False),  # 81 bytes
        ("č" * 41, False),  # 41 characters, 82 bytes
    ],
)
def test_relay_state_is_at_most_80_bytes(client, sp, relay_state, accepted):
    sp.relay_state = relay_state
    url, _ = sp.login_url()

    page = client.get(url)

    assert page.status_code == (302 if accepted else 400)
    if not accepted:
        assert b"Invalid login request" in page.content


@pytest.mark.parametrize("change", ["deceased", "deactivated", "blocked"])
def test_the_card_is_checked_again_at_consent(client, sp, make_citizen, change):
    citizen = make_citizen()
    card = citizen.documents.get()
    login, _ = start_login(client, sp)
    client.post(login + "eobcanka/", {"card_number": card.number, "pin": PIN})
    if change == "deceased":
        citizen.deceased = True
        citizen.save()
    elif change == "deactivated":
        card.nia_activated = False
        card.save()
    else:
        for wrong in ("000000", "000001", "000002"):  # somebody else, at another reader
            with pytest.raises(services.CardProblem):
                services.verify_pin(card, wrong)

    refused = client.post(login + "consent/", {"decision": "consent"})

    assert refused.status_code == 403
    assert b"SAMLResponse" not in refused.content
    assert not Pseudonym.objects.exists()
    assert client.get(login + "consent/").status_code == 302  # back to the card
    _, fields = posted_form(client.post(login + "cancel/"))
    root = decoded(fields["SAMLResponse"])
    assert root.find("saml:Assertion", NS) is None
    assert (
        root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
    )
