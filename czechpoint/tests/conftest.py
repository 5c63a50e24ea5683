import pytest

from govsim.rob.tests import factories


@pytest.fixture
def recipient(db):
    return factories.make_recipient()


@pytest.fixture
def clerk(db):
    return factories.make_clerk()


@pytest.fixture
def desk(client, clerk):
    """A client signed in as a clerk."""
    client.force_login(clerk)
    return client
