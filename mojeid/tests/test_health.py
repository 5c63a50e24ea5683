"""/healthz: the readiness probe checks the real database and the real Celery broker.

It answers 200 only when both work, and 503 naming the failed part otherwise, quickly, and never
with a 500 or a hang: a load balancer polls it while the broker is down.

To break the broker these tests set CELERY_BROKER_URL in the environment: assigning
`app.conf.broker_url` would be silently ignored, because settings_test already put
CELERY_BROKER_URL in the environment and Celery's `Settings.broker_url` reads that first.
"""

import socket
import time
from collections.abc import Iterator

import pytest

from mojeid.celery import app as celery_app
from mojeid.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_port() -> int:
    """A local port where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections but never answers, like a wedged broker."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)  # the kernel completes the handshake; nobody ever reads or writes
        yield sock.getsockname()[1]


@pytest.fixture
def broker_at(monkeypatch):
    """broker_at(port) points this process's Celery app at redis://127.0.0.1:<port>."""

    def point(port: int) -> None:
        url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        assert celery_app.conf.broker_write_url == url

    return point


def get_health(client):
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


def test_healthy_when_database_and_broker_answer(client):
    response, _ = get_health(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "outbox_pending": 0,
    }
    assert "no-cache" in response["Cache-Control"]


def test_counts_messages_waiting_in_the_outbox(client):
    OutboxMessage.objects.create(channel="email", recipient="a@example.cz", body="x")
    sent = OutboxMessage.objects.create(channel="sms", recipient="+420601123456", body="y")
    OutboxMessage.objects.filter(pk=sent.pk).update(sent_at="2026-01-01T00:00:00Z")

    response, _ = get_health(client)

    assert response.status_code == 200
    assert response.json()["outbox_pending"] == 1


def test_unreachable_broker_gives_503_quickly(client, broker_at, dead_port):
    broker_at(dead_port)

    response, elapsed = get_health(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")
    assert body["outbox_pending"] == 0
    assert elapsed < 3, f"/healthz took {elapsed:.1f} s with the broker refusing connections"


def test_silent_broker_gives_503_without_hanging(client, broker_at, silent_port):
    broker_at(silent_port)

    response, elapsed = get_health(client)

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: ")
    assert response.json()["database"] == "ok"
    # Bounded by the broker socket_timeout (5 s) of settings.py.
    assert elapsed < 8, f"/healthz took {elapsed:.1f} s with a broker that never answers"


def test_broker_is_checked_again_once_it_is_back(client, broker_at, dead_port, monkeypatch):
    broker_at(dead_port)
    assert get_health(client)[0].status_code == 503

    monkeypatch.undo()  # the test broker of settings_test again

    response, _ = get_health(client)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405
