"""Login benchmark: password logins per second through the real login view.

Each login is a new browser: GET the login page (untimed, for the CSRF cookie and token), then the
timed POST of the form, urlencoded as a browser sends it, through the whole stack (CSRF check, the
throttle's reservation in Redis, user lookup, Argon2 check, the second-factor lookup, session
rotation and save, audit row). `hash_ms` is the bare Argon2 check of the same password.

Two runs, printed in one JSON object on the last line:

- The portal's own parameters (Django's Argon2id: 100 MiB, t=2, p=8), one process, a bare check
  and a login in turn: a check keeps every core busy by itself, so one process measures the
  machine.
  `ratio` = login_ms / hash_ms. The run the README's earlier figures came from (the form was
  posted multipart then, which cost about 0.5 ms more a login).
- `keycloak_params`: Keycloak's default hash (Argon2id, 5 iterations, 7168 KiB, parallelism 1),
  like for like with Keycloak's published sizing of 15 logins/s per vCPU. A check at p=1 uses one
  core, so one process would leave the others idle: one benchmark process per vCPU runs at the
  same time, each its own user from its own client address, started together. Each process takes
  turns, a bare check and then a login, so that both are timed under the same load.
  `logins_per_second` is the sum of the processes' rates (logins / time in the timed POSTs);
  `logins_per_second_per_vcpu_with_login_page` counts each login page's GET too, as Keycloak's
  figure covers the whole browser flow. `hash_ms` and `login_ms` are medians over all processes;
  `overhead_ms` = login_ms - hash_ms is what the portal adds to the hash. PostgreSQL and Redis
  run on the same vCPUs, where Keycloak's sizing gives its database machines of their own;
  `one_process` is the same with one process alone, the other vCPUs free for them.

Runs against the database and cache of the test settings (PostgreSQL and Redis), in a database of
its own that it creates and drops.
    python bench/login.py [--logins 200] [--processes N]
"""

import argparse
import json
import multiprocessing
import os
import statistics
import time
from urllib.parse import urlencode

from benchlib import percentile_ms, start_django

start_django("mojeid_bench")  # DEBUG off, as production runs

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.test.utils import override_settings, setup_test_environment

from accounts.models import User

PASSWORD = "bench-heslo-kun-2026"
FORM = "application/x-www-form-urlencoded"
KEYCLOAK_LOGINS_PER_SECOND_PER_VCPU = 15
KEYCLOAK_TARGET_PER_VCPU = 2 * KEYCLOAK_LOGINS_PER_SECOND_PER_VCPU
OVERHEAD_TARGET_MS = 5


class KeycloakArgon2PasswordHasher(Argon2PasswordHasher):
    """Keycloak's default password hash (Keycloak 24+): Argon2id, t=5, m=7168 KiB, p=1.

    The only hasher during the Keycloak run: Django picks the verifying hasher by algorithm name,
    the last of a name wins, and Django's own Argon2 hasher would find these parameters outdated
    and re-hash the password at every login.
    """

    time_cost = 5
    memory_cost = 7168
    parallelism = 1


KEYCLOAK_HASHERS = [f"{__name__}.{KeycloakArgon2PasswordHasher.__name__}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--processes", type=int, default=vcpus(), help="Keycloak run: processes at once"
    )
    args = parser.parse_args()

    setup_test_environment(debug=False)
    connection = connections["default"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        cache.clear()
        result = portal_run(args.logins, args.warmup)
        result["keycloak_params"] = keycloak_run(args.logins, args.warmup, args.processes)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps(result))


def portal_run(logins: int, warmup: int) -> dict:
    """The portal's own hash, one process: the run the README's first figures came from.

    A bare check and a login in turn, so that both are timed in the same conditions (this
    virtual machine's speed drifts by a tenth over a minute).
    """
    user = make_user("bench")
    time_logins("bench", warmup)
    time_hashes(user.password, warmup)
    hash_samples, login_samples = [], []
    for _ in range(logins):
        hash_samples += time_hashes(user.password, 1)
        login_samples += time_logins("bench", 1)

    logins_per_second = len(login_samples) / sum(login_samples)
    hash_ms = statistics.median(hash_samples) * 1000
    login_ms = statistics.median(login_samples) * 1000
    return {
        "logins": logins,
        "database": connections["default"].vendor,
        "argon2": hasher_parameters(),
        "vcpus": vcpus(),
        "logins_per_second": round(logins_per_second, 1),
        # Argon2 with 8 lanes keeps every core busy during a check, so one process uses them all.
        "logins_per_second_per_vcpu": round(logins_per_second / vcpus(), 1),
        "hash_ms": round(hash_ms, 2),
        "login_ms": round(login_ms, 2),
        "login_p95_ms": percentile_ms(login_samples, 0.95, digits=2),
        "ratio": round(login_ms / hash_ms, 3),
        "ratio_target": 1.15,
        "keycloak_logins_per_second_per_vcpu": KEYCLOAK_LOGINS_PER_SECOND_PER_VCPU,
    }


def keycloak_run(logins: int, warmup: int, processes: int) -> dict:
    """Keycloak's hash, one process per vCPU at the same time (see the module docstring)."""
    with override_settings(PASSWORD_HASHERS=KEYCLOAK_HASHERS):
        parameters = hasher_parameters()
        for number in range(processes):
            make_user(f"bench-k{number}")
        alone = one_process("bench-k0", logins, warmup)
    # Forked workers must not share the parent's database connection.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start_together = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=keycloak_worker, args=(number, logins, warmup, start_together, results)
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    runs = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, worker.exitcode

    hash_samples = [sample for run in runs for sample in run["hash"]]
    login_samples = [sample for run in runs for sample in run["login"]]
    logins_per_second = sum(len(run["login"]) / sum(run["login"]) for run in runs)
    # Keycloak's sizing counts the whole browser flow: here, the login page's GET too.
    with_page = sum(len(run["login"]) / (sum(run["login"]) + sum(run["page"])) for run in runs)
    hash_ms = statistics.median(hash_samples) * 1000
    login_ms = statistics.median(login_samples) * 1000
    return {
        "argon2": parameters,
        "measured": (
            f"{processes} processes at once on {vcpus()} vCPUs, each its own user and client "
            "address, a bare check and a login in turn; logins/s = sum of the processes' "
            "logins / time in the login POSTs; PostgreSQL and Redis on the same vCPUs"
        ),
        "processes": processes,
        "logins": logins * processes,
        "logins_per_second": round(logins_per_second, 1),
        "logins_per_second_per_vcpu": round(logins_per_second / vcpus(), 1),
        "logins_per_second_per_vcpu_target": KEYCLOAK_TARGET_PER_VCPU,
        "logins_per_second_per_vcpu_with_login_page": round(with_page / vcpus(), 1),
        "hash_ms": round(hash_ms, 2),
        "login_ms": round(login_ms, 2),
        "login_p95_ms": percentile_ms(login_samples, 0.95, digits=2),
        "overhead_ms": round(login_ms - hash_ms, 2),
        "overhead_ms_target": OVERHEAD_TARGET_MS,
        "one_process": alone,
    }


def one_process(username: str, logins: int, warmup: int) -> dict:
    """The same turns in this process alone, the other vCPUs free for PostgreSQL and Redis."""
    encoded = User.objects.get(username=username).password
    time_logins(username, warmup)
    time_hashes(encoded, warmup)
    hashes, samples = [], []
    for _ in range(logins):
        hashes += time_hashes(encoded, 1)
        samples += time_logins(username, 1)
    hash_ms, login_ms = statistics.median(hashes) * 1000, statistics.median(samples) * 1000
    return {
        "logins_per_second": round(len(samples) / sum(samples), 1),
        "hash_ms": round(hash_ms, 2),
        "login_ms": round(login_ms, 2),
        "overhead_ms": round(login_ms - hash_ms, 2),
    }


def keycloak_worker(number: int, logins: int, warmup: int, start_together, results) -> None:
    """One process of the Keycloak run: a bare check, then a login, in turn, `logins` times."""
    with override_settings(PASSWORD_HASHERS=KEYCLOAK_HASHERS):
        username = f"bench-k{number}"
        encoded = User.objects.get(username=username).password
        address = f"192.0.2.{number + 1}"
        time_logins(username, warmup, address)  # connections, caches and code paths warmed up
        time_hashes(encoded, warmup)
        start_together.wait()
        hashes, samples, pages = [], [], []
        for _ in range(logins):
            hashes += time_hashes(encoded, 1)
            samples += time_logins(username, 1, address, pages)
    connections.close_all()
    results.put({"hash": hashes, "login": samples, "page": pages})


def make_user(username: str):
    return User.objects.create_user(
        username, PASSWORD, email=f"{username}@example.cz", phone="+420601123456"
    )


def time_hashes(encoded: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        assert check_password(PASSWORD, encoded)
        samples.append(time.perf_counter() - start)
    return samples


def time_logins(
    username: str, count: int, address: str = "127.0.0.1", pages: list[float] | None = None
) -> list[float]:
    """`count` logins of `username`, each by a new browser; the seconds each POST took (and
    each login page's GET, appended to `pages` if given)."""
    samples = []
    for _ in range(count):
        browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
        start = time.perf_counter()
        browser.get("/login/")
        if pages is not None:
            pages.append(time.perf_counter() - start)
        token = browser.cookies[settings.CSRF_COOKIE_NAME].value
        form = urlencode({"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        start = time.perf_counter()
        # Encoded as a browser sends the login form (the test client's default is multipart).
        response = browser.post("/login/", form, content_type=FORM)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 302, response.status_code
    return samples


def hasher_parameters() -> dict:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    return {
        "memory_kib": hasher.memory_cost,
        "time_cost": hasher.time_cost,
        "parallelism": hasher.parallelism,
    }


def vcpus() -> int:
    """The vCPUs this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
