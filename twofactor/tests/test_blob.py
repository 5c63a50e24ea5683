"""Signed MDS3 BLOBs: only what the FIDO metadata service signed under the FIDO root loads.

From a file or over HTTP; the signer must carry the service's name and may sign; certificates
listed by a CRL given (`--crl`, FIDO_MDS_CRL_FILES) are refused.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command

from twofactor.metadata import MetadataError, load_blob, lookup
from twofactor.models import AuthenticatorModel, MetadataLoad, MetadataSource

from .mdspki import (
    SIGNER_NAME,
    MdsPki,
    b64url,
    certificate,
    der_b64,
    key_usage,
    payload,
    write_pem,
)

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
    fake = certificate(
        SIGNER_NAME, attacker_key, issuer=pki.signer, issuer_key=pki.signer_key, ca=False
    )
    chain = [der_b64(fake), der_b64(pki.signer), der_b64(pki.intermediate)]
    pki.signer_key = attacker_key
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(406, [ENTRY]), x5c=chain))

    assert "is not a CA" in refused("--blob", str(tmp_path / "b.jwt"))


def test_an_intermediate_that_may_not_sign_certificates_is_refused(pki, tmp_path):
    pki.intermediate = certificate(
        "Test MDS CA",
        pki.intermediate_key,
        issuer=pki.root,
        issuer_key=pki.root_key,
        ca=True,
        usage=key_usage(digital_signature=True),  # a CA, but its key usage forbids keyCertSign
    )
    pki.use_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(406, [ENTRY])))

    assert "may not sign certificates" in refused("--blob", str(tmp_path / "b.jwt"))


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


# --- Only the FIDO metadata service signs BLOBs -------------------------------------------------


def test_the_fido_metadata_service_is_the_default_signer():
    from mojeid import settings as project_settings

    assert project_settings.FIDO_MDS_SIGNER_NAME == SIGNER_NAME == "mds.fidoalliance.org"


def test_a_blob_signed_by_another_certificate_under_the_root_is_refused(pki, tmp_path):
    # Anyone with a web certificate under the (public) root: the chain alone would pass.
    pki.use_signer(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), common_name="evil.example"
    )
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(500, [ENTRY])))

    message = refused("--blob", str(tmp_path / "b.jwt"))

    assert "evil.example" in message and "not by the FIDO metadata service" in message
    assert not AuthenticatorModel.objects.exists()


def test_the_signer_name_is_a_setting(pki, tmp_path, settings):
    settings.FIDO_MDS_SIGNER_NAME = "mds.test"
    (tmp_path / "real.jwt").write_bytes(pki.sign(payload(501, [ENTRY])))
    assert "not by the FIDO metadata service (mds.test)" in refused(
        "--blob", str(tmp_path / "real.jwt")
    )

    pki.use_signer(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), common_name="mds.test"
    )
    (tmp_path / "test.jwt").write_bytes(pki.sign(payload(501, [ENTRY])))
    assert "BLOB #501" in run("--blob", str(tmp_path / "test.jwt"))


@pytest.mark.parametrize(
    "usage",
    [None, key_usage(key_encipherment=True), key_usage(key_cert_sign=True, crl_sign=True)],
    ids=["no key usage", "encipherment only", "CA uses only"],
)
def test_a_signer_whose_key_usage_does_not_allow_signing_is_refused(pki, tmp_path, usage):
    pki.use_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), usage=usage)
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(502, [ENTRY])))

    assert "digitalSignature" in refused("--blob", str(tmp_path / "b.jwt"))


# --- Certificate revocation lists ---------------------------------------------------------------


def test_a_revoked_signer_is_refused(pki, tmp_path):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(510, [ENTRY])))
    crl = write_pem(tmp_path / "ca.crl", pki.crl(pki.signer))

    message = refused("--blob", str(tmp_path / "b.jwt"), "--crl", crl)

    assert "revoked" in message and SIGNER_NAME in message


def test_a_revoked_intermediate_is_refused(pki, tmp_path):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(511, [ENTRY])))
    crl = write_pem(tmp_path / "root.crl", pki.crl(pki.intermediate, by="root"))

    message = refused("--blob", str(tmp_path / "b.jwt"), "--crl", crl)

    assert "revoked" in message and "Test MDS CA" in message


def test_an_unrevoked_signer_loads_with_crls_in_pem_and_der(pki, tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(512, [ENTRY])))
    other = MdsPki()
    # One PEM file holding two CRLs (the intermediate's lists someone else), one DER file.
    both = write_pem(tmp_path / "both.crl", pki.crl(other.signer), pki.crl(by="root"))
    (tmp_path / "root.der").write_bytes(pki.crl(by="root").public_bytes(Encoding.DER))

    output = run(
        "--blob", str(tmp_path / "b.jwt"), "--crl", both, "--crl", str(tmp_path / "root.der")
    )

    assert "Loaded 1 authenticator models from BLOB #512" in output


def test_a_crl_of_a_ca_outside_the_chain_is_ignored(pki, tmp_path):
    # CRLs are optional: only those of CAs of the chain apply; a stranger's CRL covers nothing.
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(513, [ENTRY])))
    stranger = MdsPki(root_name="Someone Else")
    crl = write_pem(tmp_path / "other.crl", stranger.crl(by="root"))

    assert "BLOB #513" in run("--blob", str(tmp_path / "b.jwt"), "--crl", crl)


def test_a_crl_signed_by_the_wrong_key_is_refused(pki, tmp_path):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(514, [ENTRY])))
    forged = pki.crl(key=ec.generate_private_key(ec.SECP256R1()))  # the CA's name, not its key
    crl = write_pem(tmp_path / "forged.crl", forged)

    assert "does not verify" in refused("--blob", str(tmp_path / "b.jwt"), "--crl", crl)


def test_an_expired_crl_is_refused(pki, tmp_path):
    now = datetime.now(UTC)
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(515, [ENTRY])))
    stale = pki.crl(last_update=now - timedelta(days=30), next_update=now - timedelta(days=1))
    crl = write_pem(tmp_path / "stale.crl", stale)

    assert "out of date" in refused("--blob", str(tmp_path / "b.jwt"), "--crl", crl)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"garbage", "cannot read the CRL file"),
        (b"-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n", "cannot read"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "no X509 CRL"),
        (b"", "cannot read the CRL file"),
    ],
)
def test_an_unreadable_crl_file_gets_a_one_line_error(pki, tmp_path, content, expected):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(516, [ENTRY])))
    (tmp_path / "bad.crl").write_bytes(content)

    assert expected in refused(
        "--blob", str(tmp_path / "b.jwt"), "--crl", str(tmp_path / "bad.crl")
    )
    assert "cannot read the CRL file" in refused(
        "--blob", str(tmp_path / "b.jwt"), "--crl", str(tmp_path / "missing.crl")
    )


def test_the_command_applies_the_setting_unless_crls_are_given(pki, tmp_path, settings):
    (tmp_path / "b.jwt").write_bytes(pki.sign(payload(517, [ENTRY])))
    settings.FIDO_MDS_CRL_FILES = [write_pem(tmp_path / "revoking.crl", pki.crl(pki.signer))]

    assert "revoked" in refused("--blob", str(tmp_path / "b.jwt"))

    clean = write_pem(tmp_path / "clean.crl", pki.crl())
    assert "BLOB #517" in run("--blob", str(tmp_path / "b.jwt"), "--crl", clean)


def test_crl_is_only_for_a_blob(tmp_path):
    with pytest.raises(CommandError, match="--crl") as error:
        run("--crl", str(tmp_path / "x.crl"))
    assert error.value.returncode == 2


def test_a_refused_blob_keeps_the_stored_metadata(pki, tmp_path):
    (tmp_path / "one.jwt").write_bytes(pki.sign(payload(520, [ENTRY])))
    run("--blob", str(tmp_path / "one.jwt"))
    (tmp_path / "two.jwt").write_bytes(pki.sign(payload(521, [])))
    crl = write_pem(tmp_path / "ca.crl", pki.crl(pki.signer))

    with pytest.raises(CommandError, match="revoked"):
        run("--blob", str(tmp_path / "two.jwt"), "--crl", crl)

    assert MetadataLoad.objects.get(source=MetadataSource.BLOB).number == 520
    assert AuthenticatorModel.objects.get().description == "Blob Key"


# --- Root rollover: GlobalSign R3 cross-signs R46, FIDO's x5c carries the cross certificate ------


def rollover_blob(pki: MdsPki, number: int, *, order=(0, 1, 2)) -> tuple[MdsPki, bytes]:
    """A BLOB signed under the successor root, x5c = signer, new CA, new root cross-signed."""
    new = pki.successor()
    chain = [der_b64(new.signer), der_b64(new.intermediate), der_b64(new.cross)]
    return new, new.sign(payload(number, [ENTRY]), x5c=[chain[i] for i in order])


@pytest.mark.parametrize("trusted", ["old root", "new root", "both roots"])
def test_a_blob_under_a_cross_signed_new_root_loads_with_either_root_trusted(
    pki, tmp_path, settings, trusted
):
    new, blob = rollover_blob(pki, 530)
    roots = {"old root": [pki.root], "new root": [new.root], "both roots": [pki.root, new.root]}
    settings.FIDO_MDS_ROOT_CERTIFICATE = write_pem(tmp_path / "roots.pem", *roots[trusted])
    (tmp_path / "b.jwt").write_bytes(blob)

    assert "BLOB #530" in run("--blob", str(tmp_path / "b.jwt"))


def test_the_path_is_built_from_x5c_in_any_order(pki, tmp_path, settings):
    new, blob = rollover_blob(pki, 531, order=(0, 2, 1))
    settings.FIDO_MDS_ROOT_CERTIFICATE = write_pem(tmp_path / "roots.pem", new.root)
    (tmp_path / "b.jwt").write_bytes(blob)

    assert "BLOB #531" in run("--blob", str(tmp_path / "b.jwt"))


def test_the_signer_must_come_first_in_x5c(pki, tmp_path, settings):
    new, blob = rollover_blob(pki, 532, order=(1, 0, 2))
    settings.FIDO_MDS_ROOT_CERTIFICATE = write_pem(tmp_path / "roots.pem", new.root)
    (tmp_path / "b.jwt").write_bytes(blob)

    assert "not by the FIDO metadata service" in refused("--blob", str(tmp_path / "b.jwt"))


def test_the_rules_hold_on_the_cross_signed_path(pki, tmp_path, settings):
    new, blob = rollover_blob(pki, 533)
    (tmp_path / "b.jwt").write_bytes(blob)
    # Trusting the old root only: the path runs through the cross certificate, which it revokes.
    revoked_cross = write_pem(tmp_path / "root.crl", pki.crl(new.cross, by="root"))
    assert "revoked" in refused("--blob", str(tmp_path / "b.jwt"), "--crl", revoked_cross)
    # A signer under the new CA with another name is refused on that path as well.
    new.use_signer(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), common_name="evil.example"
    )
    chain = [der_b64(new.signer), der_b64(new.intermediate), der_b64(new.cross)]
    (tmp_path / "evil.jwt").write_bytes(new.sign(payload(534, [ENTRY]), x5c=chain))
    assert "not by the FIDO metadata service" in refused("--blob", str(tmp_path / "evil.jwt"))


def test_the_bundled_roots_are_globalsign_r3_and_r46():
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    import twofactor

    bundle = Path(twofactor.__file__).parent / "data" / "fido-mds-roots.pem"
    fingerprints = {
        root.fingerprint(hashes.SHA256()).hex()
        for root in x509.load_pem_x509_certificates(bundle.read_bytes())
    }
    assert fingerprints == {
        "cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b",  # Root CA - R3
        "4fa3126d8d3a11d1c4855a4f807cbad6cf919d3a5a88b03bea2c6372d93c40c9",  # Root R46
    }
