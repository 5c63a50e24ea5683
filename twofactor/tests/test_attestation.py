"""Trust decisions about security keys, with a software authenticator and a test metadata set.

Each case is a registration a real key could send; the verdict is what support and the NIA link
would act on.
"""

import base64
import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from twofactor.inspector import InspectionError, inspect
from twofactor.internal.attestation import certificate_key_identifier
from twofactor.metadata import load_payload
from twofactor.models import MetadataSource

from .softkey import CertificateAuthority, SoftKey, b64url

pytestmark = pytest.mark.django_db

GOOD_ROOT = CertificateAuthority("Good Keys Root")
OTHER_ROOT = CertificateAuthority("Other Vendor Root")
ORIGIN, RP_ID = "https://mojeid.example", "mojeid.example"

TRUSTED_L1 = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000001")
L1PLUS = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000002")
REVOKED = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000003")
COMPROMISED = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000004")
UNCERTIFIED = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000005")
WRONG_ROOT = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000006")
UNKNOWN = uuid.UUID("a1a1a1a1-0000-4000-8000-0000000000ff")

U2F_KEY = SoftKey(aaguid=uuid.UUID(int=0), fmt="fido-u2f", authority=GOOD_ROOT)


def _entry(aaguid, description, statuses, roots=(GOOD_ROOT,), **extra):
    return {
        **({"aaguid": str(aaguid)} if aaguid else {}),
        **extra,
        "metadataStatement": {
            "description": description,
            "protocolFamily": "fido2" if aaguid else "u2f",
            "attestationRootCertificates": [root.b64 for root in roots],
            "attachmentHint": ["external", "wired"],
        },
        "statusReports": [{"status": s, "effectiveDate": d} for s, d in statuses],
    }


@pytest.fixture(autouse=True)
def metadata(db):
    entries = [
        _entry(TRUSTED_L1, "Good Key L1", [("FIDO_CERTIFIED_L1", "2024-01-01")]),
        _entry(L1PLUS, "Good Key L1+", [("FIDO_CERTIFIED_L1plus", "2024-01-01")]),
        _entry(
            REVOKED, "Revoked Key", [("FIDO_CERTIFIED_L1", "2023-01-01"), ("REVOKED", "2025-01-01")]
        ),
        _entry(
            COMPROMISED,
            "Leaky Key",
            [("FIDO_CERTIFIED_L2", "2023-01-01"), ("ATTESTATION_KEY_COMPROMISE", "2025-01-01")],
        ),
        _entry(UNCERTIFIED, "Plain Key", [("FIDO_CERTIFIED", "2024-01-01")]),
        _entry(
            WRONG_ROOT, "Pinned Key", [("FIDO_CERTIFIED_L2", "2024-01-01")], roots=(OTHER_ROOT,)
        ),
        _entry(
            None,
            "Good U2F Key",
            [("FIDO_CERTIFIED_L1", "2024-01-01")],
            attestationCertificateKeyIdentifiers=[
                certificate_key_identifier(U2F_KEY.attestation_certificate)
            ],
        ),
    ]
    load_payload({"no": 1, "entries": entries}, source=MetadataSource.BLOB)


def registration(key: SoftKey) -> dict:
    return key.register(challenge=b"c" * 32, origin=ORIGIN, rp_id=RP_ID)


def verdict_of(key: SoftKey) -> dict:
    return inspect(json.dumps(registration(key))).as_dict()


def test_a_certified_key_with_a_valid_chain_is_eligible():
    verdict = verdict_of(SoftKey(TRUSTED_L1, authority=GOOD_ROOT))

    assert verdict["attestation_trusted"], verdict["trust_reason"]
    assert verdict["description"] == "Good Key L1"
    assert verdict["certification_level"] == "FIDO_CERTIFIED_L1"
    assert verdict["key_type"] == "hardware"
    assert verdict["nia_eligible"] and verdict["reasons"] == []
    assert verdict["statuses"] == ["FIDO_CERTIFIED_L1"]


def test_l1plus_is_eligible_too():
    verdict = verdict_of(SoftKey(L1PLUS, authority=GOOD_ROOT))
    assert verdict["certification_level"] == "FIDO_CERTIFIED_L1plus"
    assert verdict["nia_eligible"]


def test_a_u2f_key_is_found_by_its_attestation_key_identifier():
    verdict = verdict_of(U2F_KEY)

    assert verdict["fmt"] == "fido-u2f"
    assert verdict["aaguid"] == str(uuid.UUID(int=0))
    assert verdict["certificate_key_identifier"] == certificate_key_identifier(
        U2F_KEY.attestation_certificate
    )
    assert verdict["description"] == "Good U2F Key"
    assert verdict["nia_eligible"]


def test_a_self_reported_model_with_a_foreign_root_is_not_believed():
    """The key claims the AAGUID of a certified model, but its chain is not that model's."""
    verdict = verdict_of(SoftKey(WRONG_ROOT, authority=GOOD_ROOT))

    assert not verdict["attestation_trusted"]
    assert "does not chain" in verdict["trust_reason"]
    assert verdict["description"] is None  # shown as "Unknown", not as the claimed model
    assert verdict["certification_level"] is None
    assert not verdict["nia_eligible"]


def test_a_key_claiming_a_model_from_an_untrusted_vendor_is_not_believed():
    impostor = CertificateAuthority("Impostor Root")
    verdict = verdict_of(SoftKey(TRUSTED_L1, authority=impostor))
    assert not verdict["attestation_trusted"] and not verdict["nia_eligible"]


@pytest.mark.parametrize(
    ("aaguid", "why"),
    [(REVOKED, "revoked or compromised"), (COMPROMISED, "revoked or compromised")],
)
def test_revoked_and_compromised_models_are_not_eligible(aaguid, why):
    verdict = verdict_of(SoftKey(aaguid, authority=GOOD_ROOT))

    assert verdict["attestation_trusted"]  # the chain is fine …
    assert not verdict["nia_eligible"]  # … but the model may not be trusted any more
    assert any(why in reason for reason in verdict["reasons"])


def test_an_uncertified_model_is_named_but_not_eligible():
    verdict = verdict_of(SoftKey(UNCERTIFIED, authority=GOOD_ROOT))

    assert verdict["description"] == "Plain Key"
    assert verdict["certification_level"] is None
    assert not verdict["nia_eligible"]
    assert any("not certified" in reason for reason in verdict["reasons"])


def test_an_unknown_model_is_unknown():
    verdict = verdict_of(SoftKey(UNKNOWN, authority=GOOD_ROOT))

    assert verdict["description"] is None and verdict["key_type"] == "unknown"
    assert "unknown model" in verdict["trust_reason"]
    assert not verdict["nia_eligible"]


def test_no_attestation_and_a_zero_aaguid_prove_nothing():
    verdict = verdict_of(SoftKey(uuid.UUID(int=0), fmt="none"))

    assert verdict["fmt"] == "none" and verdict["aaguid"] == str(uuid.UUID(int=0))
    assert "no attestation" in verdict["trust_reason"]
    assert verdict["description"] is None and not verdict["nia_eligible"]


def test_self_attestation_proves_no_model_even_with_a_certified_aaguid():
    verdict = verdict_of(SoftKey(TRUSTED_L1, fmt="packed-self"))
    assert "self attestation" in verdict["trust_reason"]
    assert not verdict["nia_eligible"]


def test_an_expired_attestation_certificate_is_not_trusted():
    verdict = verdict_of(SoftKey(TRUSTED_L1, authority=GOOD_ROOT, expired_certificate=True))
    assert "outside its validity period" in verdict["trust_reason"]
    assert not verdict["nia_eligible"]


def test_a_tampered_signature_is_caught():
    data = registration(SoftKey(TRUSTED_L1, authority=GOOD_ROOT))
    client_data = json.loads(base64.urlsafe_b64decode(data["response"]["clientDataJSON"] + "=="))
    client_data["challenge"] = b64url(b"another challenge!")  # signed over the original
    data["response"]["clientDataJSON"] = b64url(json.dumps(client_data).encode())

    verdict = inspect(json.dumps(data)).as_dict()

    assert "does not verify" in verdict["trust_reason"]
    assert not verdict["nia_eligible"]


@pytest.mark.parametrize("wrapper", [None, "response", "credential"])
def test_debugger_exports_wrapped_in_an_outer_object_are_read(wrapper):
    data = registration(SoftKey(TRUSTED_L1, authority=GOOD_ROOT))
    wrapped = data if wrapper is None else {wrapper: data, "tool": "webauthn.io"}
    assert inspect(json.dumps(wrapped)).nia_eligible


def test_the_command_prints_one_json_object_with_every_field(tmp_path):
    path = tmp_path / "registration.json"
    path.write_text(json.dumps(registration(SoftKey(TRUSTED_L1, authority=GOOD_ROOT))))
    out = StringIO()

    call_command("inspect_attestation", str(path), stdout=out)

    printed = json.loads(out.getvalue())
    assert set(printed) == {
        "fmt",
        "aaguid",
        "certificate_key_identifier",
        "description",
        "key_type",
        "certification_level",
        "statuses",
        "attestation_trusted",
        "trust_reason",
        "nia_eligible",
        "reasons",
    }
    assert printed["nia_eligible"] is True


def _truncated_cbor() -> dict:
    data = registration(SoftKey(TRUSTED_L1, authority=GOOD_ROOT))
    raw = base64.urlsafe_b64decode(data["response"]["attestationObject"] + "==")
    data["response"]["attestationObject"] = b64url(raw[: len(raw) // 2])
    return data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "no 'response' object"),
        (
            json.dumps(
                {"id": "x", "response": {"clientDataJSON": "%%%", "attestationObject": "AA"}}
            ),
            "base64url",
        ),
        (json.dumps(_truncated_cbor()), "cannot be decoded"),
    ],
)
def test_bad_files_get_a_one_line_error_and_status_2(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)

    with pytest.raises(CommandError) as refused:
        call_command("inspect_attestation", str(path), stdout=StringIO())

    assert refused.value.returncode == 2
    assert message in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(InspectionError):
        inspect(text)


def test_a_real_chromium_registration_is_trusted_only_through_the_development_supplement():
    """Captured from Debian Chromium's CDP virtual authenticator (direct attestation)."""
    from pathlib import Path

    from twofactor.metadata import development_payload

    text = (Path(__file__).parent / "data" / "chromium_virtual_registration.json").read_text()
    assert not inspect(text).attestation_trusted  # unknown to the test metadata

    as_real_metadata = development_payload()
    as_real_metadata["no"] = 2
    load_payload(as_real_metadata, source=MetadataSource.BLOB)
    assert not inspect(text).attestation_trusted, "public-key roots only count for development"

    load_payload(development_payload(), source=MetadataSource.DEVELOPMENT)
    verdict = inspect(text)
    assert verdict.attestation_trusted and verdict.nia_eligible
    assert verdict.description == "Chromium virtual authenticator (development)"
