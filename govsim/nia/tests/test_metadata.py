"""The IdP's metadata and its key pair (generated on first use, never committed)."""

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.urls import reverse
from lxml import etree
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from govsim.nia import keys

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"md": MD, "ds": DS}


def test_the_metadata_is_xml_with_the_signing_certificate_and_sso_endpoints(client, settings):
    response = client.get(reverse("govsim:nia:metadata"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{MD}}}EntityDescriptor"
    assert root.get("entityID") == "http://testserver" + reverse("govsim:nia:metadata")
    descriptor = root.find("md:IDPSSODescriptor", NS)
    bindings = {
        service.get("Binding"): service.get("Location")
        for service in descriptor.findall("md:SingleSignOnService", NS)
    }
    sso = "http://testserver" + reverse("govsim:nia:sso")
    assert bindings == {
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": sso,
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": sso,
    }
    published = descriptor.find("md:KeyDescriptor//ds:X509Certificate", NS).text
    with open(settings.GOVSIM_NIA_CERT_FILE, "rb") as cert_file:
        own = x509.load_pem_x509_certificate(cert_file.read())
    assert base64.b64decode(published) == own.public_bytes(serialization.Encoding.DER)


def test_python3_saml_reads_the_metadata(client):
    xml = client.get(reverse("govsim:nia:metadata")).content.decode()

    idp = OneLogin_Saml2_IdPMetadataParser.parse(xml)["idp"]

    assert idp["entityId"].endswith("/nia/saml/metadata/")
    assert idp["singleSignOnService"]["url"].endswith("/nia/saml/sso/")
    assert idp["x509cert"]


def test_the_entity_id_can_be_set(client, settings):
    settings.GOVSIM_NIA_ENTITY_ID = "https://nia.example.test/idp"

    root = etree.fromstring(client.get(reverse("govsim:nia:metadata")).content)

    assert root.get("entityID") == "https://nia.example.test/idp"


def test_without_configured_files_a_development_key_pair_is_made_once_under_var(
    client, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    settings.GOVSIM_NIA_KEY_FILE = settings.GOVSIM_NIA_CERT_FILE = None

    first = client.get(reverse("govsim:nia:metadata")).content
    second = client.get(reverse("govsim:nia:metadata")).content

    folder = tmp_path / "govsim" / "nia"
    key_pem = (folder / keys.KEY_NAME).read_bytes()
    cert = x509.load_pem_x509_certificate((folder / keys.CERT_NAME).read_bytes())
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert (folder / keys.KEY_NAME).stat().st_mode & 0o077 == 0  # the owner's only
    assert first == second  # generated once, then reused
    assert base64.b64encode(cert.public_bytes(serialization.Encoding.DER)) in first


def test_without_a_configured_secret_the_pseudonym_key_is_made_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.GOVSIM_NIA_PSEUDONYM_SECRET = ""

    first = keys.pseudonym_secret()

    assert len(first) == 64
    assert keys.pseudonym_secret() == first
    assert (tmp_path / "govsim" / "nia" / keys.SECRET_NAME).exists()
