"""Fixtures shared by every test: clean cache and outboxes, users, signed-in clients, delivery."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Profile, User
from mojeid import messaging, sms

PASSWORD = "kun-upel-ody-2026"


def pytest_configure(config):
    from django.conf import settings

    if settings.SETTINGS_MODULE != "mojeid.settings_test":
        raise pytest.UsageError(
            f"Tests need DJANGO_SETTINGS_MODULE=mojeid.settings_test (PostgreSQL and Redis), "
            f"not {settings.SETTINGS_MODULE}: unset it or run `make test`."
        )


@pytest.fixture(autouse=True)
def _clean_slate():
    """Throttle counters live in the real Redis: every test starts without any."""
    cache.clear()
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def make_user(db):
    """make_user("jana", confirmed=True, first_name="Jana", …) → a user with a profile."""

    def make(username: str = "jana", *, password: str = PASSWORD, confirmed: bool = True, **fields):
        fields.setdefault("email", f"{username}@example.cz")
        fields.setdefault("phone", "+420601123456")
        fields.setdefault("first_name", "Jana")
        fields.setdefault("last_name", "Nováková")
        fields.setdefault("language", "en")  # like the English test client
        user = User.objects.create_user(username, password, **fields)
        if confirmed:
            now = timezone.now()
            Profile.objects.filter(pk=user.pk).update(
                email_confirmed_at=now, phone_confirmed_at=now
            )
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def signed_in(client, user):
    """A client signed in as `user` through the real login page."""
    response = client.post("/login/", {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302, "the login page should accept the test user"
    return client


@pytest.fixture
def deliver():
    """Run the worker's delivery step in-process; returns (e-mails, SMS) sent so far.

    Unit tests roll back their transaction, so on-commit enqueueing never reaches a broker;
    the integration tests in tests/ cover the real worker.
    """

    def run():
        messaging.drain()
        return list(mail.outbox), list(sms.outbox)

    return run


@pytest.fixture
def client():
    """Django's test client speaking English (the portal's default is Czech)."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")
