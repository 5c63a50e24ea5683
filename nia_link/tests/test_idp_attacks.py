"""The portal's identity provider against crafted AuthnRequests: whatever reaches the single sign-on
service must be NIA's own request, signed by NIA's key, recent, for us, answered at NIA, and plain
XML; anything else gets the error page (400) and opens no sign-in page (no `SignInRequest`), so no
answer can ever be made to it.

The baseline is the request the simulated NIA makes with pysaml2 (`broker.authn_request`); the
crafted ones start from it, change exactly one thing and are signed again with NIA's key (or
another), so each refusal is for that one thing. A crafted request without the change is accepted
(`test_the_crafted_baseline_is_accepted`): the crafting itself breaks nothing.
"""

import base64
import copy
import secrets
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
import xmlsec
from django.test import RequestFactory
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from govsim.nia import broker
from govsim.nia import keys as nia_keys
from nia_link.clients import saml
from nia_link.internal import saml_idp
from nia_link.models import SignInRequest

from .idp_world import World
from .idp_world import world as world

pytestmark = pytest.mark.django_db(transaction=True)

SSO = "/nia/idp/sso/"
SAMLP, SAML, DS = saml_idp.SAMLP, saml_idp.SAML, saml_idp.DS
REFUSED_TEXT = "The sign-in request could not be accepted."
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"


# --- NIA's requests, genuine and crafted ------------------------------------------------------


def genuine(world: World) -> str:
    """The base64 AuthnRequest NIA's broker makes (pysaml2, HTTP-POST), as the hub would post it:
    NIA's entity ID and ACS are the live server's addresses, as its metadata says."""
    host = world.live_url.split("://", 1)[1]
    at_nia = RequestFactory(HTTP_HOST=host).get("/")
    _location, _id, encoded = broker.authn_request(
        at_nia, world.mojeid, world.service, [saml_idp.LOA_SUBSTANTIAL], "minimum"
    )
    return encoded


def template(world: World) -> etree._Element:
    """NIA's request without its signature, a fresh ID and IssueInstant: what to change."""
    root = etree.fromstring(base64.b64decode(genuine(world)))
    for signature in root.findall(f"{{{DS}}}Signature"):
        root.remove(signature)
    root.set("ID", "_" + secrets.token_hex(20))
    root.set("IssueInstant", _time(datetime.now(UTC)))
    return root


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer(root: etree._Element) -> etree._Element:
    return root.find(f"{{{SAML}}}Issuer")


def nia_pair() -> tuple[str, str]:
    pair = nia_keys.signing_key_pair()
    return pair.key_file.read_text(), pair.cert_pem


def sign(root: etree._Element, pair=None, *, algorithm=C.RSA_SHA256, digest=C.SHA256) -> bytes:
    """The enveloped signature of HTTP-POST after the Issuer (where pysaml2 puts it), by NIA's key
    unless `pair` (key, certificate) is given: RSA-SHA256, exclusive c14n, as NIA signs.

    Made with xmlsec on the tree itself rather than python3-saml's `add_sign`, whose parser drops
    comments and processing instructions: the attacks below need them kept in what is signed."""
    key_pem, cert_pem = pair or nia_pair()
    root = copy.deepcopy(root)
    transforms = {C.RSA_SHA256: xmlsec.Transform.RSA_SHA256, RSA_SHA1: xmlsec.Transform.RSA_SHA1}
    digests = {C.SHA256: xmlsec.Transform.SHA256, SHA1: xmlsec.Transform.SHA1}
    signature = xmlsec.template.create(
        root, xmlsec.Transform.EXCL_C14N, transforms[algorithm], ns="ds"
    )
    issuer(root).addnext(signature)
    reference = xmlsec.template.add_reference(signature, digests[digest], uri="#" + root.get("ID"))
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    xmlsec.tree.add_ids(root, ["ID"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key_pem, xmlsec.KeyFormat.PEM)
    context.key.load_cert_from_memory(cert_pem, xmlsec.KeyFormat.PEM)
    context.sign(signature)
    return etree.tostring(root)


def verifies(xml: bytes) -> bool:
    """Whether the request's own Signature is cryptographically valid for NIA's certificate
    (what an attack needs to pass a careless check)."""
    return bool(
        OneLogin_Saml2_Utils.validate_sign(
            xml, nia_pair()[1], xpath="/samlp:AuthnRequest/ds:Signature"
        )
    )


def b64(xml: bytes) -> str:
    return base64.b64encode(xml).decode("ascii")


def post(world: World, saml_request: str, relay_state: str = "login-1"):
    return world.client.post(SSO, {"SAMLRequest": saml_request, "RelayState": relay_state})


def redirect_query(
    xml: bytes, relay_state: str = "login-1", *, algorithm=C.RSA_SHA256, pair=None
) -> str:
    """The HTTP-Redirect query string (SAML bindings §3.4.4.1): the request deflated, base64,
    URL-encoded; the octets `SAMLRequest=…&RelayState=…&SigAlg=…` signed as sent."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(xml) + compressor.flush()
    signed = (
        f"SAMLRequest={quote_plus(b64(deflated))}"
        f"&RelayState={quote_plus(relay_state)}&SigAlg={quote_plus(algorithm)}"
    )
    key_pem = (pair or nia_pair())[0]
    transform = {C.RSA_SHA256: xmlsec.Transform.RSA_SHA256, RSA_SHA1: xmlsec.Transform.RSA_SHA1}
    signature = OneLogin_Saml2_Utils.sign_binary(signed, key_pem, transform[algorithm])
    return f"{signed}&Signature={quote_plus(b64(signature))}"


def assert_refused(response, before: int) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:1500])
    page = response.content.decode()
    assert REFUSED_TEXT in page
    assert "SAMLResponse" not in page
    assert SignInRequest.objects.count() == before


def assert_accepted(response, before: int) -> None:
    assert response.status_code == 302, response.content[:1500]
    assert response["Location"].startswith("/nia/idp/signin/")
    assert SignInRequest.objects.count() == before + 1


# --- Baselines -----------------------------------------------------------------------------


def test_nias_own_request_is_accepted(world):
    before = SignInRequest.objects.count()
    assert_accepted(post(world, genuine(world)), before)


def test_the_crafted_baseline_is_accepted(world):
    before = SignInRequest.objects.count()
    xml = sign(template(world))
    assert verifies(xml)
    assert_accepted(post(world, b64(xml)), before)


def test_a_signed_http_redirect_request_is_accepted(world):
    before = SignInRequest.objects.count()
    response = world.client.get(f"{SSO}?{redirect_query(etree.tostring(template(world)))}")
    assert_accepted(response, before)


# --- Who signed it, and whether it was signed at all --------------------------------------


def test_an_unsigned_request_is_refused(world):
    before = SignInRequest.objects.count()
    assert_refused(post(world, b64(etree.tostring(template(world)))), before)


def test_a_request_signed_by_another_key_is_refused(world):
    before = SignInRequest.objects.count()
    key_pem, cert_pem = nia_keys.make_key_pair("Not NIA")
    xml = sign(template(world), (key_pem.decode(), cert_pem.decode()))
    assert_refused(post(world, b64(xml)), before)


@pytest.mark.parametrize(
    "algorithm, digest",
    [(RSA_SHA1, C.SHA256), (C.RSA_SHA256, SHA1)],
    ids=["rsa-sha1", "sha1-digest"],
)
def test_a_request_signed_with_sha1_is_refused(world, algorithm, digest):
    before = SignInRequest.objects.count()
    xml = sign(template(world), algorithm=algorithm, digest=digest)
    assert verifies(xml)  # a valid signature, by NIA's key: only its algorithm is wrong
    assert_refused(post(world, b64(xml)), before)


def test_a_request_with_two_signatures_is_refused(world):
    before = SignInRequest.objects.count()
    root = etree.fromstring(sign(template(world)))
    signature = root.find(f"{{{DS}}}Signature")
    signature.addnext(copy.deepcopy(signature))
    assert_refused(post(world, b64(etree.tostring(root))), before)


def test_a_signature_over_another_element_is_refused(world):
    """Signature wrapping: NIA's genuine signed request hidden in an Extensions of a request the
    attacker wrote, its Signature moved up to the attacker's root. xmlsec finds the reference
    and the digest right — only "the signature covers the root" tells them apart."""
    before = SignInRequest.objects.count()
    signed_by_nia = etree.fromstring(sign(template(world)))
    signature = signed_by_nia.find(f"{{{DS}}}Signature")
    signed_by_nia.remove(signature)  # the enveloped transform left it out of the digest anyway
    forged = template(world)
    forged.set("ID", "_forged" + signed_by_nia.get("ID"))
    forged.set("ProviderName", "Forged service")
    issuer(forged).addnext(signature)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(signed_by_nia)
    signature.addnext(extensions)
    xml = etree.tostring(forged)
    assert verifies(xml)  # the attack is real: the signature itself is valid
    assert_refused(post(world, b64(xml)), before)


def test_a_duplicate_id_does_not_move_the_signature(world):
    """The same wrapping with the forged root taking the genuine request's ID: the signature
    must then be checked over the root (the first with that ID), where it does not verify."""
    before = SignInRequest.objects.count()
    signed_by_nia = etree.fromstring(sign(template(world)))
    signature = signed_by_nia.find(f"{{{DS}}}Signature")
    signed_by_nia.remove(signature)
    forged = template(world)
    forged.set("ID", signed_by_nia.get("ID"))
    forged.set("ProviderName", "Forged service")
    issuer(forged).addnext(signature)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(signed_by_nia)
    signature.addnext(extensions)
    assert_refused(post(world, b64(etree.tostring(forged))), before)


# --- What the request says -----------------------------------------------------------------


def _issuer_unknown(root):
    issuer(root).text = "https://nia.example.test/broker/metadata/"


def _acs_elsewhere(root):
    root.set("AssertionConsumerServiceURL", "https://attacker.example.test/acs/")


def _acs_index(root):
    del root.attrib["AssertionConsumerServiceURL"]
    del root.attrib["ProtocolBinding"]
    root.set("AssertionConsumerServiceIndex", "0")


def _acs_index_and_url(root):
    root.set("AssertionConsumerServiceIndex", "0")


def _artifact_binding(root):
    root.set("ProtocolBinding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact")


def _redirect_binding(root):
    root.set("ProtocolBinding", saml_idp.BINDING_REDIRECT)


def _stale(root):
    root.set("IssueInstant", _time(datetime.now(UTC) - timedelta(minutes=6, seconds=30)))


def _future(root):
    root.set("IssueInstant", _time(datetime.now(UTC) + timedelta(seconds=90)))


def _no_time_zone(root):
    root.set("IssueInstant", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"))


def _elsewhere(root):
    root.set("Destination", saml.idp_sso_url() + "other/")


def _no_destination(root):
    del root.attrib["Destination"]


def _subject(root):
    subject = etree.Element(f"{{{SAML}}}Subject")
    etree.SubElement(
        subject, f"{{{SAML}}}NameID", Format=saml_idp.NAMEID_PERSISTENT
    ).text = "some-other-persons-bsi"
    issuer(root).addnext(subject)


def _low_only(root):
    requested = root.find(f"{{{SAMLP}}}RequestedAuthnContext")
    requested.set("Comparison", "exact")
    requested.find(f"{{{SAML}}}AuthnContextClassRef").text = saml_idp.LOA_LOW


def _foreign_level(root):
    requested = root.find(f"{{{SAMLP}}}RequestedAuthnContext")
    requested.find(f"{{{SAML}}}AuthnContextClassRef").text = "urn:example:loa:anything"


def _not_saml2(root):
    root.set("Version", "1.1")


@pytest.mark.parametrize(
    "change",
    [
        _issuer_unknown,
        _acs_elsewhere,
        _acs_index,
        _acs_index_and_url,
        _artifact_binding,
        _redirect_binding,
        _stale,
        _future,
        _no_time_zone,
        _elsewhere,
        _no_destination,
        _subject,
        _low_only,
        _foreign_level,
        _not_saml2,
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_a_signed_request_that_says_the_wrong_thing_is_refused(world, change):
    before = SignInRequest.objects.count()
    root = template(world)
    change(root)
    xml = sign(root)
    assert verifies(xml)  # signed by NIA's key: refused for what it says
    assert_refused(post(world, b64(xml)), before)


@pytest.mark.parametrize(
    "age", [timedelta(minutes=4), timedelta(seconds=-30)], ids=["4-minutes-old", "30-s-ahead"]
)
def test_a_request_within_its_time_is_accepted(world, age):
    """The other side of the stale and future cases: the clock check is not refusing all."""
    before = SignInRequest.objects.count()
    root = template(world)
    root.set("IssueInstant", _time(datetime.now(UTC) - age))
    assert_accepted(post(world, b64(sign(root))), before)


def test_a_replayed_request_is_refused(world):
    before = SignInRequest.objects.count()
    saml_request = genuine(world)
    assert_accepted(post(world, saml_request), before)
    assert_refused(post(world, saml_request), before + 1)


@pytest.mark.parametrize("length, accepted", [(80, True), (81, False)])
def test_relay_state_of_at_most_80_bytes(world, length, accepted):
    """Bytes, not characters: "ř" takes two."""
    before = SignInRequest.objects.count()
    relay_state = "ř" * 40 + "a" * (length - 80)
    response = post(world, b64(sign(template(world))), relay_state)
    if accepted:
        assert_accepted(response, before)
    else:
        assert_refused(response, before)


# --- XML that is not plain XML ---------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE samlp:AuthnRequest [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)


def _with_prolog(xml: bytes, prolog: str, entity: str | None = None) -> bytes:
    """`prolog` (a DOCTYPE) before the root, and `&entity;` used where it changes the least: at
    the end of the Scoping's RequesterID."""
    if entity:
        xml = xml.replace(b"</ns0:RequesterID>", f"&{entity};</ns0:RequesterID>".encode(), 1)
    return prolog.encode() + xml


@pytest.mark.parametrize(
    "prolog, entity",
    [
        ("<!DOCTYPE samlp:AuthnRequest>", None),
        ('<!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "xxe"),
        (
            '<!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
            "xxe",
        ),
        ('<!DOCTYPE samlp:AuthnRequest [<!ENTITY nia "NIA">]>', "nia"),
        (LAUGHS, "d"),
    ],
    ids=["doctype", "external-file", "external-http", "internal-entity", "expansion"],
)
def test_xml_with_a_doctype_or_entities_is_refused(world, prolog, entity):
    before = SignInRequest.objects.count()
    xml = _with_prolog(sign(template(world)), prolog, entity)
    assert prolog.encode() in xml
    if entity:
        assert f"&{entity};".encode() in xml
    assert_refused(post(world, b64(xml)), before)


def test_a_doctype_in_utf16_is_refused(world):
    """The same DOCTYPE where a byte search for "<!DOCTYPE" does not find it: the parser's view
    of the document decides."""
    before = SignInRequest.objects.count()
    signed = sign(template(world)).decode()
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE samlp:AuthnRequest>' + signed
    xml = text.encode("utf-16")
    assert b"<!DOCTYPE" not in xml.upper()
    assert_refused(post(world, b64(xml)), before)


def _split_by_comment(element: etree._Element, at: int) -> None:
    value = element.text
    element.text = value[:at]
    comment = etree.Comment("")
    comment.tail = value[at:]
    element.append(comment)


@pytest.mark.parametrize("signed_with_comment", [True, False], ids=["signed-with", "added-after"])
def test_a_comment_splitting_the_issuer_is_refused(world, signed_with_comment):
    """`http://host/sim<!---->/nia/…`: exclusive c14n without comments ignores the comment, so
    the signature stays valid whether it was made over the document with the comment or the
    comment was added afterwards; a reader of the first text node sees another issuer."""
    before = SignInRequest.objects.count()
    root = template(world)
    if signed_with_comment:
        _split_by_comment(issuer(root), len(world.live_url) + 4)
        xml = sign(root)
    else:
        signed = etree.fromstring(sign(root))
        _split_by_comment(issuer(signed), len(world.live_url) + 4)
        xml = etree.tostring(signed)
    assert b"<!---->" in xml
    assert verifies(xml)
    assert_refused(post(world, b64(xml)), before)


def test_a_comment_splitting_a_requested_subject_is_refused(world):
    before = SignInRequest.objects.count()
    root = template(world)
    _subject(root)
    _split_by_comment(root.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID"), 4)
    xml = sign(root)
    assert verifies(xml)
    assert_refused(post(world, b64(xml)), before)


def test_a_processing_instruction_is_refused(world):
    before = SignInRequest.objects.count()
    root = template(world)
    issuer(root).addnext(etree.ProcessingInstruction("evil", "data"))
    assert_refused(post(world, b64(sign(root))), before)


# --- Not even XML --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "saml_request",
    [
        "!!!not base64 at all!!!",
        "abc",  # bad padding
        base64.b64encode(b"not xml").decode(),
        base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode(),
        "",
        "A" * (300 * 1024),
    ],
    ids=["symbols", "padding", "text", "binary", "empty", "too-large"],
)
def test_garbage_is_refused(world, saml_request):
    before = SignInRequest.objects.count()
    assert_refused(post(world, saml_request), before)


def test_a_deflate_bomb_is_refused(world):
    """HTTP-Redirect: a few kilobytes in the URL that inflate to 50 MB are not inflated."""
    before = SignInRequest.objects.count()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"<a>" + b" " * 50_000_000 + b"</a>") + compressor.flush()
    assert len(bomb) < 100_000
    query = f"SAMLRequest={quote_plus(b64(bomb))}&RelayState=x&SigAlg={quote_plus(C.RSA_SHA256)}"
    assert_refused(world.client.get(f"{SSO}?{query}"), before)


# --- HTTP-Redirect: the query-string signature ---------------------------------------------


def test_http_redirect_without_a_signature_is_refused(world):
    before = SignInRequest.objects.count()
    query = redirect_query(etree.tostring(template(world))).rsplit("&Signature=", 1)[0]
    assert_refused(world.client.get(f"{SSO}?{query}"), before)


def test_http_redirect_with_a_tampered_relay_state_is_refused(world):
    before = SignInRequest.objects.count()
    query = redirect_query(etree.tostring(template(world)), "login-1")
    tampered = query.replace("RelayState=login-1", "RelayState=login-2")
    assert tampered != query
    assert_refused(world.client.get(f"{SSO}?{tampered}"), before)


def test_http_redirect_signed_with_rsa_sha1_is_refused(world):
    before = SignInRequest.objects.count()
    query = redirect_query(etree.tostring(template(world)), algorithm=RSA_SHA1)
    assert_refused(world.client.get(f"{SSO}?{query}"), before)


def test_http_redirect_signed_by_another_key_is_refused(world):
    before = SignInRequest.objects.count()
    key_pem, cert_pem = nia_keys.make_key_pair("Not NIA")
    query = redirect_query(
        etree.tostring(template(world)), pair=(key_pem.decode(), cert_pem.decode())
    )
    assert_refused(world.client.get(f"{SSO}?{query}"), before)


@pytest.mark.parametrize("name", ["SAMLRequest", "RelayState"])
def test_http_redirect_with_a_parameter_smuggled_past_the_signature_is_refused(world, name):
    """A correctly signed query with a second `SAMLRequest` (or `RelayState`) whose name is
    URL-encoded (`SAML%52equest`): Django decodes the name and reads the last value, so the
    signature must be checked over what is read, not over the first raw `SAMLRequest=`."""
    before = SignInRequest.objects.count()
    signed = redirect_query(etree.tostring(template(world)))
    forged = template(world)
    forged.set("ProviderName", "Forged service")
    if name == "SAMLRequest":
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        deflated = compressor.compress(etree.tostring(forged)) + compressor.flush()
        smuggled = f"SAML%52equest={quote_plus(b64(deflated))}"
    else:
        smuggled = "Relay%53tate=forged"
    assert_refused(world.client.get(f"{SSO}?{signed}&{smuggled}"), before)
