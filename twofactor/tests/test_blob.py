"""Signed MDS3 BLOBs: only what verifies against the FIDO root loads, from a file or over HTTP."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command

from twofactor.metadata import MetadataError, load_blob, lookup
from twofactor.models import AuthenticatorModel, MetadataLoad, MetadataSource

from .mdspki import MdsPki, b64url, certificate, der_b64, payload

pytestmark = pytest.mark.django_db

AAGUID = "b10b0000-0000-4000-8000-000000000001"
ENTRY = {
    "aaguid": AAGUID,
    "metadataStatement": {
        "description": "Blob Key",
        "protocolFamily": "fido2",
        "attestationRootCertificates": [],
        "attachmentHint": ["external"],
    },
    "statusReports": [{"status": "FIDO_CERTIFIED_L2", "effectiveDate": "2024-01-01"}],
}


@pytest.fixture
def pki():
    return MdsPki()


@pytest.fixture(autouse=True)
def trust_test_root(pki, settings, tmp_path):
    settings.FIDO_MDS_ROOT_CERTIFICATE = pki.write_root(tmp_path)


def run(*args) -> str:
    out = StringIO()
    call_command("load_fido_metadata", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    assert error.value.returncode == 2
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    assert not MetadataLoad.objects.filter(source=MetadataSource.BLOB).exists()
    return message


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384"])
def test_a_blob_signed_under_the_fido_root_loads_from_a_file(pki, tmp_path, alg):
    if alg.startswith("ES"):
        curve = ec.SECP256R1() if alg == "ES256" else ec.SECP384R1()
        pki.use_signer(ec.generate_private_key(curve))
    else:
        pki.use_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    blob = tmp_path / "blob.jwt"
    blob.write_bytes(pki.sign(payload(400, [ENTRY]), alg=alg))

    output = run("--blob", str(blob))

    assert "Loaded 1 authenticator models from BLOB #400" in output
    model = AuthenticatorModel.objects.get()
    assert (model.description, model.certification_level, model.source) == (
        "Blob Key",
        "FIDO_CERTIFIED_L2",
        MetadataSource.BLOB,
    )


def test_a_blob_loads_from_a_url_over_http(pki, served):
    url = served("/mds3/blob.jwt", pki.sign(payload(401, [ENTRY])))

    output = run("--blob", url)

    assert "BLOB #401" in output
    assert lookup(aaguid=uuid.UUID(AAGUID)).description == "Blob Key"


def test_a_changed_payload_breaks_the_signature(pki, tmp_path):
    header, _, signature = pki.sign(payload(402, [ENTRY])).split(b".")
    forged = dict(payload(402, [ENTRY]))
    forged["entries"] = [{**ENTRY, "statusReports": [{"status": "FIDO_CERTIFIED_L3"}]}]
    blob = tmp_path / "forged.jwt"
    blob.write_bytes(header + b"." + b64url(json.dumps(forged).encode()) + b"." + signature)

    assert "signature does not match" in refused("--blob", str(blob))


def test_a_chain_to_another_root_is_refused(tmp_path):
    impostor = MdsPki()  # a complete, well-formed PKI, just not the one we trust
    blob = tmp_path / "impostor.jwt"
    blob.write_bytes(impostor.sign(payload(403, [ENTRY])))

    assert "not issued by the FIDO root" in refused("--blob", str(blob))


def test_a_self_signed_root_in_the_chain_is_not_trusted_for_its_name(pki, tmp_path):
    impostor = MdsPki()
    chain = [der_b64(impostor.signer), der_b64(impostor.intermediate), der_b64(impostor.root)]
    blob = tmp_path / "impostor.jwt"
    blob.write_bytes(impostor.sign(payload(404, [ENTRY]), x5c=chain))

    assert "not issued by the FIDO root" in refused("--blob", str(blob))


def test_a_signer_that_is_not_issued_by_the_next_certificate_is_refused(pki, tmp_path):
    other = MdsPki()
    chain = [der_b64(other.signer), der_b64(pki.intermediate)]  # right CA, wrong signer
    blob = tmp_path / "spliced.jwt"
    blob.write_bytes(other.sign(payload(405, [ENTRY]), x5c=chain))

    assert "is not issued by" in refused("--blob", str(blob))


def test_a_leaf_certificate_cannot_act_as_a_ca(pki, tmp_path):
    # The signer (not a CA) "issues" a certificate for a key of the attacker.
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = certificate("evil", attacker_key, issuer=pki.signer, issuer_key=pki.signer_key, ca=False)
    chain = [der_b64(fake), der_b64(pki.signer), der_b64(pki.intermediate)]
    pki.signer_key = attacker_key
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(406, [ENTRY]), x5c=chain))

    assert "is not issued by" in refused("--blob", str(tmp_path / "b.jwt"))


@pytest.mark.parametrize("when", ["expired", "not yet valid"])
def test_a_signing_certificate_outside_its_validity_is_refused(pki, tmp_path, when):
    now = datetime.now(UTC)
    validity = (
        {"not_before": now - timedelta(days=400), "not_after": now - timedelta(days=1)}
        if when == "expired"
        else {"not_before": now + timedelta(days=1), "not_after": now + timedelta(days=400)}
    )
    pki.use_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), **validity)
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(407, [ENTRY])))

    assert "is valid only from" in refused("--blob", str(tmp_path / "b.jwt"))


def test_a_blob_past_its_next_update_is_refused(pki, tmp_path):
    stale = payload(408, [ENTRY], next_update="2026-01-01")
    (tmp_path / "b.jwt").write_bytes(pki.sign(stale))

    assert "out of date" in refused("--blob", str(tmp_path / "b.jwt"))


def test_the_number_must_grow_even_when_forced(pki, tmp_path):
    (tmp_path / "new.jwt").write_bytes(pki.sign(payload(410, [ENTRY])))
    (tmp_path / "old.jwt").write_bytes(pki.sign(payload(409, [ENTRY])))
    run("--blob", str(tmp_path / "new.jwt"))

    assert "nothing to do" in run("--blob", str(tmp_path / "new.jwt"))
    for args in (
        ["--blob", str(tmp_path / "old.jwt")],
        ["--blob", str(tmp_path / "old.jwt"), "--force"],
    ):
        with pytest.raises(CommandError, match="older than the loaded 410"):
            run(*args)
    assert MetadataLoad.objects.get(source=MetadataSource.BLOB).number == 410


def test_after_a_newer_blob_the_bundled_metadata_is_not_needed(pki, tmp_path):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(100_000, [ENTRY])))
    run("--blob", str(tmp_path / "b.jwt"))

    output = run()  # what `make run` does every time

    assert "A newer metadata BLOB #100000 is loaded already" in output
    assert AuthenticatorModel.objects.get().description == "Blob Key"


def test_the_real_fido_root_refuses_a_test_blob(pki, tmp_path, settings):
    from mojeid import settings as project_settings  # the shipped default: GlobalSign R3

    settings.FIDO_MDS_ROOT_CERTIFICATE = project_settings.FIDO_MDS_ROOT_CERTIFICATE
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(411, [ENTRY])))

    assert "not issued by the FIDO root" in refused("--blob", str(tmp_path / "b.jwt"))


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "three parts"),
        (b"not a jwt at all", "three parts"),
        (b"%%%.%%%.%%%", "header is not JSON"),
        (b64url(b'{"alg": "none"}') + b".e30.", "unsupported signature algorithm"),
        (b64url(b'{"alg": "RS256"}') + b".e30.AA", "no certificate chain"),
        (b64url(b'{"alg": "RS256", "x5c": ["bm90IGRlcg=="]}') + b".e30.AA", "cannot be read"),
        (b"\xff\xfe\x00binary", "three parts"),
    ],
)
def test_garbage_gets_a_one_line_error(tmp_path, content, expected):
    (tmp_path / "b.jwt").write_bytes(content)

    assert expected in refused("--blob", str(tmp_path / "b.jwt"))


def test_a_missing_file_and_an_http_error_get_a_one_line_error(tmp_path, served):
    assert "cannot read the BLOB" in refused("--blob", str(tmp_path / "nowhere.jwt"))
    assert "HTTP Error 503" in refused("--blob", served("/down", b"busy", status=503))


def test_load_blob_leaves_the_store_as_it_was_when_refused(pki):
    from twofactor.metadata import load_payload

    load_payload(payload(300, [ENTRY]), source=MetadataSource.BUNDLED)
    header, body, _ = pki.sign(payload(301, [])).split(b".")

    with pytest.raises(MetadataError):
        load_blob(header + b"." + body + b"." + b64url(b"\x00" * 256))

    assert AuthenticatorModel.objects.get().description == "Blob Key"
    assert MetadataLoad.objects.get().number == 300
