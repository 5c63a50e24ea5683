"""The outbox end to end: a real Celery worker, a real Redis broker, the real register page.

Each test starts its own `redis-server` on a free port, so it can stop and restart the broker
without touching the Redis on 6379 that the rest of the suite shares, and its own worker process
with the plain (non-test) settings, pointed at pytest-django's test database. The worker writes
e-mail as .eml files and SMS as JSON files under the test's `tmp_path`, where the tests look for
them.

What is proved:

* a registration's e-mail and SMS travel web → Redis → worker → files, and the outbox rows are
  marked sent;
* with the broker down the page still answers, the rows wait in the outbox, and they are sent once
  the broker and a worker are back (the worker-ready drain) or, with a worker that survived the
  outage, by the periodic beat drain: no message is ever lost;
* the page does not wait for a dead broker.

The worker's log is printed in teardown, so pytest shows it whenever a test fails.
"""

import email
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from email import policy
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.db import connection

from accounts.tests.test_registration import FORM
from mojeid.celery import app as celery_app
from mojeid.models import OutboxMessage

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROJECT_DIR = Path(__file__).resolve().parent.parent
REDIS_SERVER = "/usr/bin/redis-server"
NO_PERSISTENCE = ["--save", "", "--appendonly", "no", "--daemonize", "no"]
# Generous bound for anything asynchronous; a healthy run needs a few seconds.
DELIVERY_TIMEOUT = 30.0

EMAIL = "zdenek@example.cz"
PHONE = "+420777123456"

# celery.app.trace logs this at INFO for every task that finished without an exception.
TASK_SUCCEEDED = r"Task {name}\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: {result}"


# --- Helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, timeout: float = DELIVERY_TIMEOUT):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group we started, then SIGKILL what is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    # Whatever still runs in the group (a wedged process, the beat that -B forks) is killed.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


class RedisServer:
    """A private redis-server without persistence: a restart starts it empty."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            wait_for(lambda: self._answers(client), f"redis-server on port {self.port}", 10)
        finally:
            client.close()

    def _answers(self, client: redis.Redis) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"redis-server exited:\n{self.log_path.read_text()}")
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


class Worker:
    """`celery -A mojeid worker` as a child process, its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, what: str) -> re.Match:
        def seen():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log()}")
            return re.search(pattern, self.log())

        return wait_for(seen, what)

    def stop(self) -> None:
        stop_process(self.process)


def forget_broker_connections() -> None:
    """Drop Celery's cached broker connections so the next publish uses the current URL.

    The app keeps a connection pool (`app.pool`) and a producer pool (`app.amqp.producer_pool`),
    both looked up in kombu's process-wide registries keyed by the connection parameters.
    """
    kombu.pools.reset()  # closes every pooled connection and empties the registries
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:  # a cached_property, only present once used
        celery_app.amqp._producer_pool = None


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """Make this process publish tasks to `broker_url`, and restore the test broker afterwards.

    `app.conf.broker_url = …` would be silently ignored: settings_test puts CELERY_BROKER_URL in
    the environment, and Celery's `Settings.broker_url` reads the environment variable first.
    """
    previous = os.environ.get("CELERY_BROKER_URL")
    forget_broker_connections()
    os.environ["CELERY_BROKER_URL"] = broker_url
    try:
        assert celery_app.conf.broker_write_url == broker_url
        yield
    finally:
        forget_broker_connections()
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous


def register(client):
    return client.post("/register/", FORM)


def emails_to(mail_dir: Path, address: str) -> list[email.message.EmailMessage]:
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(mail_dir.glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == address]


def texts_to(sms_dir: Path, number: str) -> list[dict]:
    texts = [json.loads(path.read_text("utf-8")) for path in sorted(sms_dir.glob("*.json"))]
    return [t for t in texts if t["to"] == number]


def outbox_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("channel"))


def all_sent() -> bool:
    rows = outbox_rows()
    return bool(rows) and all(row.sent_at is not None for row in rows)


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def var_dir(tmp_path) -> Path:
    """The worker's VAR_DIR: its mail/ and sms/ folders are where messages land."""
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def web_publishes_to_private_redis(private_redis) -> Iterator[None]:
    """The pages of this test (the test client) publish their tasks to the private Redis."""
    with publishing_to(private_redis.url):
        yield


@pytest.fixture
def start_worker(transactional_db, private_redis, var_dir, tmp_path) -> Iterator[Callable]:
    """start_worker(beat=False) → a running Worker; every one is stopped in teardown.

    Depending on `transactional_db` makes the workers stop before pytest-django empties the
    database, so no worker connection is left behind.
    """
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    # A clean environment: nothing from settings_test (or the developer's shell) leaks in.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="mojeid.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=private_redis.url,
        CACHE_URL="locmem://",
        VAR_DIR=str(var_dir),
        OUTBOX_DRAIN_INTERVAL_SECONDS="1",
        SMS_BACKEND="mojeid.sms.FileSmsBackend",
        PYTHONUNBUFFERED="1",
    )
    workers: list[Worker] = []

    def start(*, beat: bool = False, **settings_env: str) -> Worker:
        """`settings_env`: more of the worker's environment (settings), e.g. a poll interval."""
        command = [sys.executable, "-m", "celery", "-A", "mojeid", "worker", "--pool=solo"]
        command += ["--without-mingle", "--without-gossip", "--loglevel=INFO"]
        command += ["--hostname", f"outbox-test-{len(workers)}@%h"]
        if beat:
            command.append("-B")
        worker = Worker(command, env | settings_env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:  # captured output: pytest shows it when the test failed
            print(f"===== {worker.log_path.name} =====\n{worker.log()}")


# --- Tests -----------------------------------------------------------------------------------


def test_worker_delivers_registration_email_and_sms_through_redis(
    client, web_publishes_to_private_redis, start_worker, var_dir
):
    # No beat, and the worker's start-up drain already done: the task published when the
    # registration commits is the only way the messages can go out.
    worker = start_worker(beat=False)
    worker.wait_for_log(
        TASK_SUCCEEDED.format(name=r"mojeid\.drain_outbox", result="0"), "the start-up drain"
    )

    response = register(client)

    assert response.status_code == 302
    assert response["Location"] == "/account/confirm/"
    [mail] = wait_for(lambda: emails_to(var_dir / "mail", EMAIL), f"an e-mail to {EMAIL}")
    assert re.search(r"\b\d{8}\b", mail.get_content()), "the e-mail should carry the 8-digit PIN1"
    [text] = wait_for(lambda: texts_to(var_dir / "sms", PHONE), f"an SMS to {PHONE}")
    assert re.search(r"\b\d{6}\b", text["text"]), "the SMS should carry the 6-digit PIN2"
    wait_for(all_sent, "both outbox rows marked sent")
    assert [(row.channel, row.recipient, row.attempts) for row in outbox_rows()] == [
        ("email", EMAIL, 1),
        ("sms", PHONE, 1),
    ]
    delivered = TASK_SUCCEEDED.format(name=r"mojeid\.deliver_message", result="True")
    wait_for(
        lambda: len(re.findall(delivered, worker.log())) == 2,
        "each message delivered by its own on-commit task",
    )


def test_messages_queued_while_broker_is_down_are_sent_when_broker_and_worker_return(
    client, private_redis, web_publishes_to_private_redis, start_worker, var_dir
):
    private_redis.stop()

    response = register(client)  # ~12 s today: see test_page_does_not_wait_for_a_dead_broker

    assert response.status_code == 302, "the page must answer although the broker is down"
    rows = outbox_rows()
    assert [(row.channel, row.recipient) for row in rows] == [("email", EMAIL), ("sms", PHONE)]
    assert all(row.sent_at is None for row in rows)
    assert not list(var_dir.glob("mail/*.eml"))

    # The broker comes back empty (no persistence): the outbox rows are all that is left.
    private_redis.start()
    worker = start_worker(beat=False)

    [mail] = wait_for(lambda: emails_to(var_dir / "mail", EMAIL), f"an e-mail to {EMAIL}")
    assert re.search(r"\b\d{8}\b", mail.get_content())
    [text] = wait_for(lambda: texts_to(var_dir / "sms", PHONE), f"an SMS to {PHONE}")
    assert re.search(r"\b\d{6}\b", text["text"])
    wait_for(all_sent, "both outbox rows marked sent")
    worker.wait_for_log(
        TASK_SUCCEEDED.format(name=r"mojeid\.drain_outbox", result="2"),
        "the worker-ready drain reporting both messages sent",
    )


def test_beat_drain_sends_messages_whose_task_was_never_published(
    start_worker, private_redis, var_dir
):
    # The worker (with its embedded beat) outlives a broker restart, so its start-up drain
    # cannot help: only the periodic drain can send a row whose on-commit task never reached the
    # broker (the broker was down, or the web process died between commit and publish).
    worker = start_worker(beat=True)
    worker.wait_for_log(
        TASK_SUCCEEDED.format(name=r"mojeid\.drain_outbox", result="0"), "a first drain"
    )
    private_redis.stop()
    OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL, recipient=EMAIL, subject="Hello", body="PIN 12345678\n"
    )
    private_redis.start()  # empty: no task for that row exists anywhere

    [mail] = wait_for(lambda: emails_to(var_dir / "mail", EMAIL), f"an e-mail to {EMAIL}")
    assert mail["Subject"] == "Hello"
    assert "12345678" in mail.get_content()
    wait_for(all_sent, "the outbox row marked sent")
    worker.wait_for_log(
        TASK_SUCCEEDED.format(name=r"mojeid\.drain_outbox", result="1"),
        "a periodic drain reporting the message sent",
    )
    assert "Sending due task drain the message outbox" in worker.log()
    time.sleep(1.5)  # at least one more drain runs…
    assert len(emails_to(var_dir / "mail", EMAIL)) == 1, "…and must not send it again"


def test_page_does_not_wait_for_a_dead_broker(client):
    started = time.monotonic()
    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        response = register(client)
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert all(row.sent_at is None for row in outbox_rows())
    assert elapsed < 5, f"the register page took {elapsed:.1f} s with the broker down"
