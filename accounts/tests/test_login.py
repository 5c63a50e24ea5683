"""Signing in and out, and the throttling of failed logins."""

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.throttling import LoginThrottle
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

GENERIC = "Wrong username or password, or too many attempts."


@pytest.fixture(params=["redis", "locmem"])
def throttle_cache(request, settings):
    """Run a throttle test on both of the throttle's stores: Redis (one Lua script) and the
    embedded default's local memory (the same rule in Python under a lock of the process)."""
    if request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    return request.param


def login(client, login, password=PASSWORD, **extra):
    return client.post("/login/", {"login": login, "password": password}, **extra)


def test_sign_in_with_username_or_email_in_any_case(client, make_user):
    make_user("jana", email="jana@example.cz")

    assert login(client, "JANA")["Location"] == "/settings/"
    client.post("/logout/")
    assert login(client, " Jana@Example.CZ ")["Location"] == "/settings/"
    assert client.get("/settings/").status_code == 200


def test_sign_in_rotates_the_session_key(client, user):
    client.get("/login/")
    session = client.session  # an anonymous session exists before signing in
    session["planted"] = True
    session.save()
    before = session.session_key

    login(client, user.username)

    assert client.session.session_key != before
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGIN).count() == 1


def test_sign_in_follows_a_safe_next_only(client, user):
    response = client.post(
        "/login/", {"login": user.username, "password": PASSWORD, "next": "/settings/profile/"}
    )
    assert response["Location"] == "/settings/profile/"
    client.post("/logout/")
    response = client.post(
        "/login/", {"login": user.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/settings/"


def test_sign_out_ends_the_session_and_needs_post(signed_in, user):
    assert signed_in.get("/logout/").status_code == 405

    response = signed_in.post("/logout/")

    assert response["Location"] == "/"
    assert signed_in.get("/settings/")["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGOUT).exists()


def test_wrong_password_and_unknown_user_get_the_same_error(client, user):
    wrong = login(client, user.username, "not-the-password")
    unknown = login(client, "nobody-here", PASSWORD)

    for response in (wrong, unknown):
        assert response.status_code == 200
        assert GENERIC in response.content.decode()
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.LOGIN_FAILED).count() == 1


def test_a_sign_in_costs_two_cache_round_trips_and_a_failure_one(client, user, monkeypatch):
    """The throttle reserves an attempt in one atomic call and a right password gives it back in
    one more (locks and separate reads and writes took eleven round trips a sign-in)."""
    assert login(client, user.username)["Location"] == "/settings/"  # Redis has the script now
    client.post("/logout/")
    calls = []
    command, pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute
    monkeypatch.setattr(
        redis.Redis,
        "execute_command",
        lambda self, *args, **options: calls.append(args[0]) or command(self, *args, **options),
    )
    monkeypatch.setattr(
        redis.client.Pipeline,
        "execute",
        lambda self, *args, **options: calls.append("pipeline") or pipeline(self, *args, **options),
    )

    assert login(client, user.username)["Location"] == "/settings/"
    signed_in = list(calls)
    client.post("/logout/")
    calls.clear()
    assert GENERIC in login(client, user.username, "wrong").content.decode()

    assert signed_in == ["EVALSHA", "EVALSHA"]
    assert calls == ["EVALSHA"]


@pytest.mark.usefixtures("throttle_cache")
def test_failures_slow_the_account_down_then_the_right_password_works_again(client, user):
    policy = settings.LOGIN_THROTTLE["account"]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(policy["free"]):
            assert GENERIC in login(client, user.username, "wrong").content.decode()
        clock.shift(0.5)
        # Five failures are free; the sixth failure starts a delay: even the right password waits.
        login(client, user.username, "wrong")
        throttled = login(client, user.username, PASSWORD)
        assert throttled.status_code == 200
        assert GENERIC in throttled.content.decode()

        clock.shift(2.5)  # past the 2-second delay after the sixth failure
        assert login(client, user.username, PASSWORD)["Location"] == "/settings/"


@pytest.mark.usefixtures("throttle_cache")
def test_a_right_password_clears_the_account_counter(client, user):
    for _ in range(4):
        login(client, user.username, "wrong")
    assert login(client, user.username)["Location"] == "/settings/"
    client.post("/logout/")
    for _ in range(4):
        login(client, user.username, "wrong")
    assert login(client, user.username)["Location"] == "/settings/"


@pytest.mark.usefixtures("throttle_cache")
def test_an_account_takes_at_most_100_failures_an_hour():
    throttle = LoginThrottle("target-account", None)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(100):
            clock.shift(31)  # longer than the largest delay: only the hourly cap can stop us
            assert throttle.reserve(), "a failure within the cap is checked"
        clock.shift(31)
        assert throttle.retry_after() == float("inf")
        assert not throttle.reserve()
    with time_machine.travel(start + timezone.timedelta(hours=1, minutes=1), tick=False):
        assert throttle.reserve()


@pytest.mark.usefixtures("throttle_cache")
def test_failures_from_a_shared_address_do_not_lock_out_its_other_users(client, make_user):
    """An office or a mobile operator puts many people behind one address."""
    make_user("jana")
    for number in range(25):
        login(client, f"someone{number}", "wrong", REMOTE_ADDR="203.0.113.7")

    assert login(client, "jana", PASSWORD, REMOTE_ADDR="203.0.113.7")["Location"] == "/settings/"


@pytest.mark.usefixtures("throttle_cache")
def test_one_address_spraying_passwords_is_capped_per_hour():
    cap = settings.LOGIN_THROTTLE["address"]["max_per_hour"]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for number in range(cap):
            attempt = LoginThrottle(f"name:someone{number}", "203.0.113.7")
            assert attempt.reserve(), "below the cap an address is never delayed"
        assert not LoginThrottle("name:another", "203.0.113.7").reserve()
        assert LoginThrottle("name:another", "198.51.100.1").reserve()
    with time_machine.travel(start + timezone.timedelta(hours=1, seconds=1), tick=False):
        assert LoginThrottle("name:another", "203.0.113.7").reserve()


@pytest.mark.usefixtures("throttle_cache")
def test_username_and_email_share_one_counter(client, make_user):
    make_user("jana", email="jana@example.cz")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for number in range(6):
            name = "jana" if number % 2 else "jana@example.cz"
            login(client, name, "wrong")
        # The sixth failure started a delay for the account, whichever name it is typed as.
        assert GENERIC in login(client, "JANA@example.cz", PASSWORD).content.decode()
        assert GENERIC in login(client, "jana", PASSWORD).content.decode()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, user, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    login(
        client,
        user.username,
        "wrong",
        REMOTE_ADDR="10.0.0.2",  # the proxy
        HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9",  # spoofed by the client, then real
    )
    event = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.LOGIN_FAILED)
    assert event.ip_address == "203.0.113.9"


def test_the_admin_has_no_login_of_its_own(client, make_user):
    """Staff sign in on the portal's page: throttled, and asking for the second factor."""
    make_user("helpdesk", is_staff=True, is_superuser=True)

    for response in (
        client.get("/admin/login/?next=/admin/"),
        client.post("/admin/login/", {"username": "helpdesk", "password": PASSWORD}),
    ):
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=/admin/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/"), "not signed in"


def test_inactive_accounts_cannot_sign_in(client, make_user):
    blocked = make_user("blocked")
    blocked.is_active = False
    blocked.save()

    assert GENERIC in login(client, "blocked").content.decode()
