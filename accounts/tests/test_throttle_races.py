"""The login throttle under parallel requests, and per-address limits of IPv6 clients.

Parallel guesses each take an attempt before the password is checked, so a burst of requests
cannot all pass the free tries; an IPv6 client counts by its /64, since it can take a new address
from that network for every request.
"""

import ipaddress
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.ratelimit import RateLimited, address_key, hit
from accounts.tests.test_login import throttle_cache  # noqa: F401 (a fixture: both stores)
from conftest import PASSWORD

PARALLEL = 12


WRONG = "wrong-guess"


def _guess(username: str, password: str = WRONG) -> int:
    try:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        return client.post("/login/", {"login": username, "password": password}).status_code
    finally:
        connections.close_all()  # each thread's own connection


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("throttle_cache")
def test_parallel_wrong_guesses_are_checked_no_more_than_the_free_tries(make_user):
    user = make_user("jana")
    free = settings.LOGIN_THROTTLE["account"]["free"]

    # The clock stands still: past the free tries the first delay (one second) never runs out,
    # however slowly the threads get their turn, so only a race could check another password.
    with (
        time_machine.travel(timezone.now(), tick=False),
        ThreadPoolExecutor(max_workers=PARALLEL) as pool,
    ):
        statuses = list(pool.map(lambda _: _guess("jana"), range(PARALLEL)))

    assert set(statuses) == {200}, "every guess gets the login form back, none a 5xx"
    checked = AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGIN_FAILED).count()
    assert checked == free, f"{checked} passwords were checked, the free tries are {free}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("throttle_cache")
def test_a_right_password_among_parallel_ones_signs_in_and_gives_its_attempt_back(make_user):
    make_user("jana")

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: _guess("jana", PASSWORD), range(4)))

    assert statuses == [302] * 4, "right passwords within the free tries all sign in"
    assert _guess("jana", PASSWORD) == 302, "successes do not use up the free tries"


@pytest.mark.parametrize(
    "address, key",
    [
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        ("fe80::1%eth0", "fe80::/64"),
        ("2002:c000:201::1", "192.0.2.1"),
        ("2002:c000:201:ffff::1", "192.0.2.1"),
        ("198.51.100.7:5678", "198.51.100.7"),
        ("[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"),
        ("not-an-address", "unparseable"),
        ("also not one", "unparseable"),
        (None, "-"),
    ],
)
def test_addresses_count_by_client(address, key):
    assert address_key(address) == key


@pytest.mark.django_db
def test_an_ipv6_client_cannot_escape_the_address_cap_by_changing_address(client, make_user):
    """Password resets are capped per client; each request from a new address of one /64."""
    make_user("jana")
    network = ipaddress.ip_network("2001:db8:77:1::/64")
    answers = []
    for number in range(12):
        response = client.post(
            "/password/forgotten/",
            {"login": "jana"},
            REMOTE_ADDR=str(network[number * 7919 + 1]),
        )
        answers.append(response.status_code)

    assert answers[:10] == [302] * 10
    assert answers[10:] == [200, 200], "past the cap the form comes back with the error"
    other = client.post("/password/forgotten/", {"login": "jana"}, REMOTE_ADDR="2001:db8:77:2::1")
    assert other.status_code == 302, "the next /64 is another client"


@pytest.mark.django_db
@pytest.mark.usefixtures("throttle_cache")
def test_ipv6_sign_in_failures_count_per_network(make_user):
    from accounts.throttling import LoginThrottle

    cap = settings.LOGIN_THROTTLE["address"]["max_per_hour"]
    for number in range(cap):
        assert LoginThrottle(f"name:someone{number}", f"2001:db8:5::{number + 1:x}").reserve()
    assert not LoginThrottle("name:another", "2001:db8:5::ffff").reserve()
    assert LoginThrottle("name:another", "2001:db8:6::1").reserve()


def test_hit_counts_a_key_up_to_its_limit():
    for _ in range(3):
        hit("test-action", "k", limit=3, per_seconds=60)
    with pytest.raises(RateLimited):
        hit("test-action", "k", limit=3, per_seconds=60)
