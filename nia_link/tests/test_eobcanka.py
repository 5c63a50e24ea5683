"""The eObčanka route ("Using an existing authentication method") over real HTTP: the portal's
AuthnRequest to the simulated NIA on a live server, the citizen's card and PIN there, NIA's
encrypted answer posted back to the portal's assertion consumer service, and the request
verified at once. Then every way an answer must be refused, each leaving the request as it was.
"""

import base64
import html
import re
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from accounts.models import AuditEvent, Profile
from govsim.nia import keys as nia_keys
from govsim.nia import seed as nia_seed
from govsim.nia.models import ServiceProvider
from govsim.rob.tests.factories import make_citizen, make_document
from nia_link import eobcanka, services
from nia_link.clients import saml
from nia_link.exceptions import AssertionRefused
from nia_link.models import Link, LinkState

pytestmark = pytest.mark.django_db(transaction=True)

PIN = "123456"
FORM_FIELD = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')
FORM_ACTION = re.compile(r'<form[^>]+action="(?P<action>[^"]+)"')
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture
def nia(live_server, settings, tmp_path):
    """The simulated NIA on a live server, the portal registered with its own metadata (so NIA
    encrypts to the portal's certificate), the portal's URLs at the live server."""
    settings.PORTAL_URL = live_server.url
    settings.VAR_DIR = tmp_path
    settings.NIA_SAML_METADATA_URL = f"{live_server.url}/sim/nia/saml/metadata/"
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{live_server.url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5
    nia_seed.seed(live_server.url, portal_metadata=saml.service_provider_metadata())
    return live_server


@pytest.fixture
def citizen(db):
    person = make_citizen(first_names="Jana", last_name="Nováková")
    make_document(person, number="123456789", nia_activated=True, card_pin=make_password(PIN))
    return person


@pytest.fixture
def requested(make_applicant):
    user = make_applicant("jana")
    return services.start_request(user, level="high", route="eobcanka", actor=user)


def _form(page: str, wanted: str = "csrfmiddlewaretoken") -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the page's last form with a `wanted` field (not the language
    switch at the top)."""
    for form in reversed(re.findall(r"<form[\s\S]*?</form>", page)):
        fields = {m["name"]: html.unescape(m["value"]) for m in FORM_FIELD.finditer(form)}
        if wanted in fields and "/i18n/" not in form:
            action = FORM_ACTION.search(form)
            return (html.unescape(action["action"]) if action else ""), fields
    raise AssertionError(page[:3000])


def sign_in_at_nia(url: str, card: str = "123456789", pin: str = PIN) -> tuple[str, dict]:
    """A citizen's browser at NIA, over HTTP: the means, the card and PIN, consent. Returns the
    auto-submitting form's (action, fields) that carries NIA's answer to the portal."""
    browser = requests.Session()
    login = browser.get(url, timeout=10)
    assert login.status_code == 200, login.text[:2000]
    means = login.url
    _, fields = _form(login.text)
    entered = browser.post(
        means + "eobcanka/",
        {
            "csrfmiddlewaretoken": fields.get("csrfmiddlewaretoken", ""),
            "card_number": card,
            "pin": pin,
        },
        headers={"Referer": means},
        timeout=10,
    )
    assert entered.url.endswith("/consent/"), entered.text[:2000]
    _, fields = _form(entered.text)
    answered = browser.post(
        entered.url,
        {"csrfmiddlewaretoken": fields["csrfmiddlewaretoken"], "decision": "consent"},
        headers={"Referer": entered.url},
        timeout=10,
    )
    return _form(answered.text, "SAMLResponse")


def post_to_portal(action: str, saml_response: str) -> requests.Response:
    return requests.post(
        action,
        {"SAMLResponse": saml_response},
        headers={"Accept-Language": "en"},
        allow_redirects=False,
        timeout=10,
    )


def test_a_citizen_signed_in_with_eobcanka_is_verified_at_once(nia, citizen, requested, deliver):
    action, fields = sign_in_at_nia(eobcanka.begin(requested.user))
    assert action == f"{nia.url}/nia/saml/acs/"
    # NIA encrypted the assertion to the portal's certificate.
    assert b"EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"])

    answer = post_to_portal(action, fields["SAMLResponse"])
    emails, _ = deliver()

    assert answer.status_code == 302 and answer.headers["Location"] == reverse("nia_link:review")
    link = Link.objects.get(pk=requested.pk)
    assert link.state == LinkState.VERIFIED
    assert link.bsi and link.identity_document == "id_card"
    assert link.register_data["last_name"] == "Nováková"
    verified = AuditEvent.objects.get(kind=AuditEvent.Kind.NIA_LINK_VERIFIED)
    assert verified.details["assertion"]
    assert [mail.to for mail in emails] == [["jana@example.cz"]]


def test_the_same_answer_posted_twice_verifies_once_and_is_refused_the_second_time(
    nia, citizen, requested, deliver
):
    action, fields = sign_in_at_nia(eobcanka.begin(requested.user))
    assert post_to_portal(action, fields["SAMLResponse"]).status_code == 302

    again = post_to_portal(action, fields["SAMLResponse"])

    assert again.status_code == 400
    assert "belongs to no sign-in that is waiting" in again.text
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_VERIFIED).count() == 1


def test_declining_at_nia_changes_nothing(nia, citizen, requested):
    browser = requests.Session()
    login = browser.get(eobcanka.begin(requested.user), timeout=10)
    _, fields = _form(login.text)
    entered = browser.post(
        login.url + "eobcanka/",
        {
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
            "card_number": "123456789",
            "pin": PIN,
        },
        headers={"Referer": login.url},
        timeout=10,
    )
    _, fields = _form(entered.text)
    declined = browser.post(
        entered.url,
        {"csrfmiddlewaretoken": fields["csrfmiddlewaretoken"], "decision": "decline"},
        headers={"Referer": entered.url},
        timeout=10,
    )
    action, fields = _form(declined.text, "SAMLResponse")

    answer = post_to_portal(action, fields["SAMLResponse"])

    assert answer.status_code == 400 and "did not give your consent" in answer.text
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


def test_a_person_nia_cannot_match_fails_the_request(nia, citizen, requested, deliver):
    # The card's holder is in the register twice: NIA cannot say which one signed in.
    twin = make_citizen(
        first_names="Jana",
        last_name="Nováková",
        birth_date=citizen.birth_date,
        birth_place=citizen.birth_place,
    )
    assert twin.pk != citizen.pk
    action, fields = sign_in_at_nia(eobcanka.begin(requested.user))

    answer = post_to_portal(action, fields["SAMLResponse"])

    link = Link.objects.get(pk=requested.pk)
    assert answer.status_code == 302
    assert (link.state, link.end_reason) == (LinkState.FAILED, "not_matched")


def test_verify_offers_nia_again_when_the_citizen_left_it(
    nia, citizen, requested, client, sign_in_verified
):
    sign_in_verified(client, requested.user)

    section = client.get(reverse("accounts:settings")).content.decode()
    again = client.post(reverse("nia_link:verify_at_nia"))

    assert reverse("nia_link:verify_at_nia") in section
    assert again.status_code == 302 and again["Location"].startswith(f"{nia.url}/sim/nia/saml/sso/")


def test_nia_unreachable_when_verify_is_clicked_says_so(
    settings, requested, client, sign_in_verified
):
    settings.NIA_SAML_METADATA_URL = "http://127.0.0.1:9/nia/saml/metadata/"
    sign_in_verified(client, requested.user)

    again = client.post(reverse("nia_link:verify_at_nia"), follow=True)

    assert "cannot be reached" in again.content.decode()
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


# --- Refusals: answers forged with NIA's own signing key, each wrong in one respect --------


def _assertion_xml(
    request_id: str,
    *,
    audience: str,
    destination: str,
    issuer: str,
    minutes: int = 5,
    level: str = saml.LOA_HIGH,
    assertion_id: str = "_a1",
) -> str:
    now = datetime.now(UTC)
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    before, after = stamp(now - timedelta(minutes=1)), stamp(now + timedelta(minutes=minutes))
    irt = f' InResponseTo="{request_id}"' if request_id else ""
    attributes = "".join(
        f'<saml:Attribute Name="{saml.NATURAL_PERSON}{name}" '
        f'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
        f"<saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>"
        for name, value in (
            ("PersonIdentifier", "CZ/CZ/forged"),
            ("CurrentGivenName", "Jana"),
            ("CurrentFamilyName", "Nováková"),
            ("DateOfBirth", "1985-03-14"),
        )
    )
    return (
        f'<saml:Assertion xmlns:saml="{SAML}" ID="{assertion_id}" Version="2.0" '
        f'IssueInstant="{stamp(now)}"><saml:Issuer>{issuer}</saml:Issuer>'
        f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">'
        f'x</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{after}" Recipient="{destination}"{irt}/>'
        f"</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{before}" NotOnOrAfter="{after}"><saml:AudienceRestriction>'
        f"<saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{stamp(now)}" SessionIndex="s1"><saml:AuthnContext>'
        f"<saml:AuthnContextClassRef>{level}</saml:AuthnContextClassRef></saml:AuthnContext>"
        f"</saml:AuthnStatement><saml:AttributeStatement>{attributes}</saml:AttributeStatement>"
        f"</saml:Assertion>"
    )


def forge(
    request_id: str, *, sign: bool = True, doctype: str = "", response_id: str = "_r1", **assertion
) -> str:
    """A plain (not encrypted) Response signed, Assertion and Response, with NIA's key."""
    pair = nia_keys.signing_key_pair()
    key, cert = pair.key_file.read_text(), pair.cert_pem
    assertion.setdefault("audience", saml.entity_id())
    assertion.setdefault("destination", saml.acs_url())
    issuer = assertion.setdefault("issuer", _idp_entity_id())
    destination = assertion["destination"]
    inner = _assertion_xml(request_id, **assertion)
    if sign:
        inner = _strip_declaration(
            OneLogin_Saml2_Utils.add_sign(
                inner,
                key,
                cert,
                sign_algorithm=saml.OneLogin_Saml2_Constants.RSA_SHA256,
                digest_algorithm=saml.OneLogin_Saml2_Constants.SHA256,
            )
        )
    irt = f' InResponseTo="{request_id}"' if request_id else ""
    outer = (
        f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{response_id}" '
        f'Version="2.0" IssueInstant="{datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}" '
        f'Destination="{destination}"{irt}><saml:Issuer>{issuer}</saml:Issuer>'
        f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
        f"</samlp:Status>{inner}</samlp:Response>"
    )
    if sign:
        outer = _strip_declaration(
            OneLogin_Saml2_Utils.add_sign(
                outer,
                key,
                cert,
                sign_algorithm=saml.OneLogin_Saml2_Constants.RSA_SHA256,
                digest_algorithm=saml.OneLogin_Saml2_Constants.SHA256,
            )
        )
    return base64.b64encode((doctype + outer).encode()).decode()


def _strip_declaration(signed) -> str:
    text = signed.decode() if isinstance(signed, bytes) else signed
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", text)


def _idp_entity_id() -> str:
    metadata = etree.fromstring(requests.get(saml_metadata_url(), timeout=10).content)
    return metadata.get("entityID")


def saml_metadata_url() -> str:
    from django.conf import settings

    return settings.NIA_SAML_METADATA_URL


@pytest.fixture
def forging(nia, settings, requested):
    """A waiting request (its ID) and answers signed by NIA but not encrypted (the checks under
    test are the same either way)."""
    settings.NIA_SAML_WANT_ENCRYPTED = False
    return request_id_of(eobcanka.begin(requested.user))


def request_id_of(url: str) -> str:
    """The ID of the AuthnRequest in an HTTP-Redirect address."""
    deflated = base64.b64decode(parse_qs(urlsplit(url).query)["SAMLRequest"][0])
    return etree.fromstring(zlib.decompress(deflated, -15)).get("ID")


def test_a_well_forged_answer_is_accepted_so_the_refusals_below_test_one_thing(
    forging, requested, citizen
):
    link = eobcanka.finish(forge(forging))

    assert link.state == LinkState.VERIFIED


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"sign": False}, "invalid"),
        ({"audience": "https://another-service.example/"}, "invalid"),
        ({"destination": "https://another-service.example/acs"}, "invalid"),
        ({"minutes": -3 * 60}, "invalid"),
        ({"level": saml.LOA_SUBSTANTIAL}, "level"),
        ({"issuer": "https://not-nia.example/"}, "invalid"),
    ],
    ids=["unsigned", "audience", "destination", "expired", "low-level", "issuer"],
)
def test_a_wrong_answer_is_refused_and_changes_nothing(forging, requested, citizen, change, reason):
    with pytest.raises(AssertionRefused) as refused:
        eobcanka.finish(forge(forging, **change))

    assert refused.value.reason == reason
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


@pytest.mark.parametrize("request_id", ["", "_not-our-request"], ids=["missing", "wrong"])
def test_an_answer_to_no_request_of_ours_is_refused(forging, requested, citizen, request_id):
    with pytest.raises(AssertionRefused) as refused:
        eobcanka.finish(forge(request_id))

    assert refused.value.reason == "unknown_request"
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


def test_a_replayed_assertion_is_refused_for_a_new_request(forging, requested, citizen):
    eobcanka.finish(forge(forging))
    services.cancel_request(requested.user, actor=requested.user)
    again = services.start_request(
        requested.user, level="high", route="eobcanka", actor=requested.user
    )
    new_request = request_id_of(eobcanka.begin(requested.user))

    with pytest.raises(AssertionRefused) as refused:
        eobcanka.finish(forge(new_request))  # the same assertion ID, a new request

    assert refused.value.reason == "replayed"
    assert Link.objects.get(pk=again.pk).state == LinkState.REQUESTED


def test_a_signature_wrapped_answer_is_refused(forging, requested, citizen):
    genuine = etree.fromstring(base64.b64decode(forge(forging)))
    # The signed assertion moved aside; an unsigned one with another person in its place.
    signed = genuine.find(f"{{{SAML}}}Assertion")
    evil = etree.fromstring(
        _assertion_xml(
            forging,
            audience=saml.entity_id(),
            destination=saml.acs_url(),
            issuer=_idp_entity_id(),
            assertion_id="_evil",
        ).replace("Jana", "Eva")
    )
    genuine.replace(signed, evil)
    evil.append(signed)
    wrapped = base64.b64encode(etree.tostring(genuine)).decode()

    with pytest.raises(AssertionRefused) as refused:
        eobcanka.finish(wrapped)

    assert refused.value.reason == "invalid"
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE r [<!ENTITY x "y">]>',
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ],
    ids=["entity", "external-entity", "external-dtd"],
)
def test_xml_with_a_doctype_is_refused(forging, requested, citizen, doctype):
    with pytest.raises(AssertionRefused) as refused:
        eobcanka.finish(forge(forging, doctype=doctype))

    assert refused.value.reason == "invalid"
    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED


@pytest.mark.parametrize(
    "posted", ["", "not base64 at all!", base64.b64encode(b"<not-saml/>").decode(), "A" * 300_000]
)
def test_garbage_at_the_acs_is_a_400_page_not_a_500(nia, posted):
    answer = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        reverse("nia_link:saml_acs"), {"SAMLResponse": posted}
    )

    assert answer.status_code == 400
    assert (
        "could not be accepted" in answer.content.decode()
        or "no sign-in" in answer.content.decode()
    )


def test_the_portal_publishes_its_metadata_with_its_certificate(nia):
    metadata = requests.get(f"{nia.url}/nia/saml/metadata/", timeout=10)

    root = etree.fromstring(metadata.content)
    assert root.get("entityID") == f"{nia.url}/nia/saml/metadata/"
    assert b"X509Certificate" in metadata.content
    assert ServiceProvider.objects.get(entity_id=root.get("entityID")).encrypt_assertions


def test_choosing_an_existing_authentication_method_files_the_request_and_goes_to_nia(
    nia, client, make_user, sign_in_verified
):
    user = make_user("jana")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    sign_in_verified(client, user)

    chosen = client.post("/settings/public-administration/high/", {"route": "eobcanka"})

    link = Link.objects.get(user=user)
    assert (link.route, link.level, link.state) == ("eobcanka", "high", LinkState.REQUESTED)
    assert link.request_code == ""
    assert chosen.status_code == 302
    assert chosen["Location"].startswith(f"{nia.url}/sim/nia/saml/sso/?SAMLRequest=")


def test_nia_s_answer_posted_eight_times_at_once_verifies_once(nia, citizen, requested):
    from concurrent.futures import ThreadPoolExecutor

    action, fields = sign_in_at_nia(eobcanka.begin(requested.user))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post_to_portal(action, fields["SAMLResponse"]), range(8)))

    assert sorted(answer.status_code for answer in answers) == [302] + [400] * 7
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_VERIFIED).count() == 1
    assert Link.objects.get(pk=requested.pk).state == LinkState.VERIFIED


def test_only_the_latest_verify_is_answered(nia, citizen, requested):
    first = eobcanka.begin(requested.user)
    action, fields = sign_in_at_nia(eobcanka.begin(requested.user))
    stale_action, stale_fields = sign_in_at_nia(first)

    stale = post_to_portal(stale_action, stale_fields["SAMLResponse"])
    latest = post_to_portal(action, fields["SAMLResponse"])

    assert stale.status_code == 400 and latest.status_code == 302
    assert Link.objects.get(pk=requested.pk).state == LinkState.VERIFIED
