"""The periodic metadata refresh: new metadata in, registered keys judged again, owners told."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from accounts.models import AuditEvent
from twofactor.metadata import load_payload
from twofactor.models import MetadataLoad, MetadataSource, SecurityKey
from twofactor.services import rejudge_key
from twofactor.tasks import refresh_metadata

from .mdspki import MdsPki, payload, write_pem
from .softkey import SoftKey
from .test_ceremonies import CERTIFIED, ROOT, add_key

pytestmark = pytest.mark.django_db

OTHER_MODEL = uuid.UUID("c0c0c0c0-0000-4000-8000-000000000002")


def entry(aaguid: uuid.UUID, description: str, *statuses: tuple[str, str]) -> dict:
    return {
        "aaguid": str(aaguid),
        "metadataStatement": {
            "description": description,
            "protocolFamily": "fido2",
            "attestationRootCertificates": [ROOT.b64],
            "attachmentHint": ["external"],
        },
        "statusReports": [
            {"status": status, "effectiveDate": effective} for status, effective in statuses
        ],
    }


CERTIFIED_L1 = ("FIDO_CERTIFIED_L1", "2024-01-01")


@pytest.fixture
def pki(settings, tmp_path):
    pki = MdsPki()
    settings.FIDO_MDS_ROOT_CERTIFICATE = pki.write_root(tmp_path)
    return pki


@pytest.fixture
def two_keys(signed_in, user, pki):
    """The user's two certified keys of two models, loaded from BLOB #1."""
    load_payload(
        payload(
            1,
            [
                entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1),
                entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
            ],
        ),
        source=MetadataSource.BLOB,
    )
    for aaguid, name in ((CERTIFIED, "Klíč A"), (OTHER_MODEL, "Klíč B")):
        assert add_key(signed_in, SoftKey(aaguid, authority=ROOT), name=name).status_code == 200
    assert all(SecurityKey.objects.values_list("nia_eligible", flat=True))
    return {key.name: key for key in SecurityKey.objects.all()}


def test_a_revocation_in_a_new_blob_downgrades_the_key_and_tells_its_owner(
    signed_in, user, two_keys, pki, served, settings, deliver
):
    sent_before = len(deliver()[0])  # the "key added" mails
    settings.FIDO_MDS_URL = served(
        "/blob.jwt",
        pki.sign(
            payload(
                2,
                [
                    entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1, ("REVOKED", "2025-06-01")),
                    entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
                ],
            )
        ),
    )

    report = refresh_metadata()

    assert report["metadata"].startswith("loaded BLOB #2") and not report["problem"]
    assert (report["keys_judged"], report["keys_downgraded"]) == (2, 1)
    revoked, other = SecurityKey.objects.get(name="Klíč A"), SecurityKey.objects.get(name="Klíč B")
    assert not revoked.nia_eligible and other.nia_eligible
    event = AuditEvent.objects.get(kind="security_key_downgraded")
    assert (event.user, event.actor, event.details["key"]) == (user, None, "Klíč A")
    (mail,) = deliver()[0][sent_before:]
    assert "no longer" in mail.subject and mail.to == [user.profile.email]
    assert "Klíč A" in mail.body and "revoked" in mail.body
    page = signed_in.get(f"/settings/keys/{revoked.pk}/").content.decode()
    assert "Not available" in page and "revoked or compromised" in page


def test_the_mail_and_the_reason_are_in_the_owners_language(
    client, make_user, pki, served, settings, deliver
):
    from conftest import PASSWORD

    make_user("eva", email="eva@example.cz", language="cs")
    client.post("/login/", {"login": "eva", "password": PASSWORD})
    load_payload(
        payload(1, [entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1)]), source=MetadataSource.BLOB
    )
    add_key(client, SoftKey(CERTIFIED, authority=ROOT), name="Evin klíč")
    sent_before = len(deliver()[0])
    settings.FIDO_MDS_URL = served(
        "/blob.jwt",
        pki.sign(
            payload(2, [entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1, ("REVOKED", "2025-06-01"))])
        ),
    )

    refresh_metadata()

    (mail,) = deliver()[0][sent_before:]
    assert "veřejné správy" in mail.subject
    assert "odvolán" in mail.body, "the reason is translated too"


def test_a_refused_blob_keeps_the_stored_metadata_and_dated_revocations_still_count(
    two_keys, served, settings
):
    revoke_on = timezone.localdate() + timedelta(days=10)
    load_payload(
        payload(
            3,
            [
                entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1, ("REVOKED", revoke_on.isoformat())),
                entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
            ],
        ),
        source=MetadataSource.BLOB,
    )
    settings.FIDO_MDS_URL = served("/blob.jwt", b"this is not a signed BLOB")
    assert refresh_metadata()["keys_downgraded"] == 0, "the revocation is not in force yet"

    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        report = refresh_metadata()

    assert "not trusted" in report["problem"]
    assert (report["models_changed"], report["keys_judged"], report["keys_downgraded"]) == (1, 1, 1)
    assert not SecurityKey.objects.get(name="Klíč A").nia_eligible
    assert SecurityKey.objects.get(name="Klíč B").nia_eligible


def revoking_crl(pki, tmp_path):
    return write_pem(tmp_path / "revoking.crl", pki.crl(pki.signer))


def unreadable_crl(pki, tmp_path):
    (tmp_path / "garbage.crl").write_bytes(b"not a CRL")
    return str(tmp_path / "garbage.crl")


def missing_crl(pki, tmp_path):
    return str(tmp_path / "nowhere.crl")


def expired_crl(pki, tmp_path):
    now = timezone.now()
    stale = pki.crl(last_update=now - timedelta(days=20), next_update=now - timedelta(days=1))
    return write_pem(tmp_path / "stale.crl", stale)


@pytest.mark.parametrize(
    "crl, problem",
    [
        (revoking_crl, "revoked"),
        (unreadable_crl, "cannot read the CRL file"),
        (missing_crl, "cannot read the CRL file"),
        (expired_crl, "out of date"),
    ],
    ids=["revoked signer", "garbage file", "missing file", "expired CRL"],
)
def test_the_refresh_applies_the_crl_setting_and_keeps_the_metadata_when_refused(
    two_keys, pki, served, settings, tmp_path, crl, problem
):
    settings.FIDO_MDS_CRL_FILES = [crl(pki, tmp_path)]
    revoking_blob = payload(
        2,
        [
            entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1, ("REVOKED", "2025-06-01")),
            entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
        ],
    )
    settings.FIDO_MDS_URL = served("/blob.jwt", pki.sign(revoking_blob))

    report = refresh_metadata()

    assert problem in report["problem"] and "\n" not in report["problem"]
    assert (report["metadata"], report["keys_downgraded"]) == ("unchanged", 0)
    assert MetadataLoad.objects.get(source=MetadataSource.BLOB).number == 1
    assert all(SecurityKey.objects.values_list("nia_eligible", flat=True))


def test_the_refresh_refuses_a_blob_of_another_signer_under_the_root(
    two_keys, pki, served, settings
):
    pki.use_signer(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), common_name="evil.example"
    )
    settings.FIDO_MDS_URL = served("/blob.jwt", pki.sign(payload(2, [])))

    report = refresh_metadata()

    assert "not by the FIDO metadata service" in report["problem"]
    assert MetadataLoad.objects.get(source=MetadataSource.BLOB).number == 1
    assert SecurityKey.objects.filter(nia_eligible=True).count() == 2


def test_the_refresh_loads_with_a_crl_that_revokes_nothing_of_the_chain(
    two_keys, pki, served, settings, tmp_path
):
    settings.FIDO_MDS_CRL_FILES = [write_pem(tmp_path / "ca.crl", pki.crl(), pki.crl(by="root"))]
    blob = payload(
        2,
        [
            entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1),
            entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
        ],
    )
    settings.FIDO_MDS_URL = served("/blob.jwt", pki.sign(blob))

    report = refresh_metadata()

    assert report["metadata"].startswith("loaded BLOB #2") and not report["problem"]


def test_a_refresh_that_changes_nothing_judges_no_key(two_keys, pki, served, settings):
    blob = pki.sign(
        payload(
            4,
            [
                entry(CERTIFIED, "Ceremony Key", CERTIFIED_L1),
                entry(OTHER_MODEL, "Other Key", CERTIFIED_L1),
            ],
        )
    )
    settings.FIDO_MDS_URL = served("/blob.jwt", blob)
    assert refresh_metadata()["keys_judged"] == 2

    again = refresh_metadata()

    assert (again["metadata"], again["keys_judged"], again["keys_downgraded"]) == (
        "unchanged",
        0,
        0,
    )
    assert not AuditEvent.objects.filter(kind="security_key_downgraded").exists()


def test_a_key_stays_eligible_after_its_attestation_certificate_expires(two_keys):
    key = two_keys["Klíč A"]

    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        lost = rejudge_key(key)

    key.refresh_from_db()
    assert not lost and key.nia_eligible and key.attestation_trusted


def test_without_a_url_the_bundled_metadata_is_loaded(settings):
    settings.FIDO_MDS_URL = ""

    report = refresh_metadata()

    assert report["metadata"].startswith("loaded BLOB #") and not report["problem"]


def test_the_refresh_runs_daily_in_beat():
    from mojeid.celery import app

    app.loader.import_default_modules()
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "twofactor.refresh_metadata" in schedule
    assert "twofactor.refresh_metadata" in app.tasks
