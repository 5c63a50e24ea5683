"""Login benchmark: password logins per second through the real login view, on one process.

Each login is a new browser: GET the login page (untimed, for the CSRF cookie and token), then the
timed POST through the whole stack (CSRF check, throttle lookup in Redis, user lookup, Argon2
check, session rotation and save, audit row). `hash_ms` is the bare Argon2 check of the same
password; `ratio` = login_ms / hash_ms shows the framework's overhead on top of the hash.

Runs against the database and cache of the test settings (PostgreSQL and Redis), in a database of
its own that it creates and drops. Prints one JSON object on its last line.
    python bench/login.py [--logins 200]
"""

import argparse
import json
import os
import statistics
import time

from benchlib import percentile_ms, start_django

start_django("mojeid_bench")  # DEBUG off, as production runs

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

PASSWORD = "bench-heslo-kun-2026"
KEYCLOAK_LOGINS_PER_SECOND_PER_VCPU = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    setup_test_environment(debug=False)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from accounts.models import User

        cache.clear()
        user = User.objects.create_user(
            "bench", PASSWORD, email="bench@example.cz", phone="+420601123456"
        )
        encoded = user.password

        hash_samples = []
        for _ in range(args.warmup + args.logins):
            start = time.perf_counter()
            assert check_password(PASSWORD, encoded)
            hash_samples.append(time.perf_counter() - start)
        hash_samples = hash_samples[args.warmup :]

        login_samples = []
        for _ in range(args.warmup + args.logins):
            browser = Client(enforce_csrf_checks=True)
            browser.get("/login/")
            token = browser.cookies[settings.CSRF_COOKIE_NAME].value
            form = {"login": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
            start = time.perf_counter()
            response = browser.post("/login/", form)
            login_samples.append(time.perf_counter() - start)
            assert response.status_code == 302, response.status_code
        login_samples = login_samples[args.warmup :]
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    logins_per_second = len(login_samples) / sum(login_samples)
    hash_ms = statistics.median(hash_samples) * 1000
    login_ms = statistics.median(login_samples) * 1000
    result = {
        "logins": args.logins,
        "database": connection.vendor,
        "argon2": {
            "memory_kib": user_hasher_parameter("memory_cost"),
            "time_cost": user_hasher_parameter("time_cost"),
            "parallelism": user_hasher_parameter("parallelism"),
        },
        "vcpus": os.cpu_count(),
        "logins_per_second": round(logins_per_second, 1),
        # Argon2 with 8 lanes keeps every core busy during a check, so one process uses them all.
        "logins_per_second_per_vcpu": round(logins_per_second / os.cpu_count(), 1),
        "hash_ms": round(hash_ms, 2),
        "login_ms": round(login_ms, 2),
        "login_p95_ms": percentile_ms(login_samples, 0.95, digits=2),
        "ratio": round(login_ms / hash_ms, 3),
        "ratio_target": 1.15,
        "keycloak_logins_per_second_per_vcpu": KEYCLOAK_LOGINS_PER_SECOND_PER_VCPU,
    }
    print(json.dumps(result))


def user_hasher_parameter(name: str) -> int:
    from django.contrib.auth.hashers import get_hasher

    return getattr(get_hasher(), name)


if __name__ == "__main__":
    main()
