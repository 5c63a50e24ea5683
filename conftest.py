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
def sign_in_verified():
    """sign_in_verified(client, user): sign `client` in as `user` with a proved second factor.

    The user gets a MojeID Klíč device (if they have no confirmed one) and the session counts as
    verified by it, as after a real approval. For pages that need a second factor (the helpdesk);
    the ceremonies themselves are tested in twofactor/.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from twofactor.models import KlicDevice

    def sign_in(client, user):
        device = user.klic_devices.filter(confirmed=True).first() or KlicDevice.objects.create(
            user=user, confirmed=True, public_key=b"test", pin_verifier="test"
        )
        user.otp_device = device  # as the second sign-in step leaves it: a login with a factor
        client.force_login(user)
        session = client.session  # what django_otp.login() keeps after a real approval
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return sign_in


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


@pytest.fixture
def make_applicant(make_user):
    """make_applicant("jana", **user_fields) → a user who may ask for access to public
    administration services: a complete profile with a permanent address, and MojeID Klíč."""
    from accounts.models import Profile
    from twofactor.models import KlicDevice

    def make(username: str = "jana", **fields):
        user = make_user(username, **fields)
        Profile.objects.filter(pk=user.pk).update(
            street="Vinohradská 1511/230", city="Praha", postal_code="10000"
        )
        KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
        return user

    return make


@pytest.fixture
def state_systems(live_server, settings):
    """The simulated register, data boxes and NIA on a live server, the portal's accounts there
    and its clients pointed at them; the simulator's base address."""
    from govsim.isds import seed as isds_seed
    from govsim.nia import seed as nia_seed
    from govsim.rob import seed as rob_seed

    rob_seed.seed_portal()
    isds_seed.seed_portal()
    nia_seed.seed(live_server.url)
    base = f"{live_server.url}/sim/"
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{base}{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5
    return base
