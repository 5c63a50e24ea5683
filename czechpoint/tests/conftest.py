import pytest

from govsim.rob.tests import factories
from govsim.tests.people import signed_in_as


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # The production hasher costs 100 MiB and ~130 ms per check; what is tested here is who may
    # sign in, not the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def recipient(db):
    return factories.make_recipient()


@pytest.fixture
def clerk(db):
    return factories.make_clerk()


@pytest.fixture
def desk(client, clerk):
    """A client signed in at the desk as a clerk."""
    return signed_in_as(client, clerk)
