import pytest

from govsim.tests.people import make_operator, signed_in_as

from . import factories


@pytest.fixture
def recipient(db):
    return factories.make_recipient()


@pytest.fixture
def clerk(db):
    return factories.make_clerk()


@pytest.fixture
def admin_client(client, db):
    """A client signed in to the simulator's admin as an operator."""
    return signed_in_as(client, make_operator())


@pytest.fixture
def api(client):
    """api(path, key=API_KEY, **params) → the response of GET /sim/rob/api/v1/<path>."""

    def get(path: str, key: str | None = factories.API_KEY, method: str = "get", **params):
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        return getattr(client, method)(f"/sim/rob/api/v1/{path}", params, headers=headers)

    return get
