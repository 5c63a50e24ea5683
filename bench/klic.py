"""MojeID Klíč benchmark: the app API's answer times for a sign-in approval, on PostgreSQL.

A software app (the tests' softklic) is paired with a user; then, round after round, a browser
asks for a sign-in (the portal creates the request and its numbers to match), the app lists its
requests, approves one with the number the browser shows and its PIN (a signed call carrying the
PIN verifier, which the phone derives beforehand and is not timed), and the browser takes the
approval. Each call goes through Django's full stack in this
process (test client), with Redis for the nonces and rate limits. Prints one JSON object on its
last line.
    python bench/klic.py [--rounds 100]
"""

import argparse
import json
import statistics
import time

from benchlib import percentile_ms, start_django

start_django("mojeid_bench_klic")

from django.db import connection
from django.test.utils import setup_test_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()

    setup_test_environment(debug=False)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.core.cache import cache
        from django.test import Client

        from accounts.models import User
        from twofactor.klic import services
        from twofactor.models import KlicDevice
        from twofactor.tests.softklic import SoftKlic, b64url, pin_verifier

        cache.clear()  # rate limits of an earlier run
        password = "bench-heslo-2026-x"
        user = User.objects.create_user("bench", password, email="bench@example.cz")
        code, _ = services.start_activation(user)
        app = SoftKlic(Client())
        assert app.pair(code).status_code == 201
        device = KlicDevice.objects.get(device_id=app.device_id)
        services.confirm_pairing(device, actor=user)
        proof = b64url(pin_verifier(app.pin, app.salt))

        status, listing, approving, taking = [], [], [], []
        for _ in range(args.rounds):
            cache.clear()  # the per-user request limit is for people, not for this loop
            browser = Client()
            assert browser.post("/login/", {"login": "bench", "password": password}).status_code
            begin = time.perf_counter()
            assert app.status().status_code == 200
            status.append(time.perf_counter() - begin)
            started = browser.post("/login/klic/start/")
            assert started.status_code == 200
            shown = started.json()["number"]  # what the user reads off the browser page

            begin = time.perf_counter()
            (request,) = app.requests()
            listing.append(time.perf_counter() - begin)
            assert shown in request["numbers"]

            data = {"request": request["id"], "challenge": request["challenge"], "number": shown}
            data.update(pin_proof=proof, method="pin")  # derived once: the phone's work, not ours
            begin = time.perf_counter()
            assert app.call("approve", data).status_code == 200
            approving.append(time.perf_counter() - begin)

            begin = time.perf_counter()
            assert browser.get("/login/klic/status/").json()["status"] == "approved"
            taking.append(time.perf_counter() - begin)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "database": connection.vendor,
                "status_p50_ms": percentile_ms(status, 0.5),
                "requests_p50_ms": percentile_ms(listing, 0.5),
                "requests_p95_ms": percentile_ms(listing, 0.95),
                "approve_p50_ms": percentile_ms(approving, 0.5),
                "approve_p95_ms": percentile_ms(approving, 0.95),
                "browser_takes_approval_p50_ms": percentile_ms(taking, 0.5),
                "approval_path_mean_ms": round(
                    statistics.mean(
                        a + b + c for a, b, c in zip(listing, approving, taking, strict=True)
                    )
                    * 1000,
                    2,
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
