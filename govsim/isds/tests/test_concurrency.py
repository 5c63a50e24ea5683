"""Requests at the same time: the sign-in attempt limit holds for parallel guesses, the
messages of the feed are committed in the order of their ids (a saved cursor never skips one), and
one reference sent over the API many times at once sends one message."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client

from govsim.api import lock_feed
from govsim.isds import services
from govsim.isds.models import DataBox, Message, Person

from .conftest import PASSWORD, post_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(world, monkeypatch):
    checks, counting = [], threading.Lock()
    check_password = Person.check_password

    def slow_check(person, raw_password):
        with counting:
            checks.append(raw_password)
        threading.Event().wait(0.05)  # a real hash is slow: the guesses overlap
        return check_password(person, raw_password)

    monkeypatch.setattr(Person, "check_password", slow_check)
    guesses = 2 * services.MAX_FAILURES
    start, results = threading.Barrier(guesses), []

    def guess(number: int) -> None:
        try:
            start.wait(10)
            results.append(services.authenticate("jana", f"guess-{number}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results == [None] * guesses
    assert len(checks) <= services.MAX_FAILURES
    assert services.authenticate("jana", PASSWORD) is None  # the limit is reached


def test_a_message_is_inserted_under_the_feeds_lock(world, monkeypatch):
    calls = []

    def recording_lock(feed: str) -> None:
        calls.append((feed, connection.in_atomic_block, Message.objects.count()))
        lock_feed(feed)

    monkeypatch.setattr(services, "lock_feed", recording_lock)

    services.send_message(world.jana, "jnovak1", world.portal, "S", "T")

    # Taken inside the inserting transaction, before the insert.
    assert calls == [(services.MESSAGES_FEED, True, 0)]
    assert Message.objects.count() == 1


def test_a_second_message_waits_until_the_first_one_commits(world):
    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's; SQLite has one writer anyway")
    first_inserted, release = threading.Event(), threading.Event()

    def slow_sender():
        try:
            with transaction.atomic():
                services.send_message(world.jana, "jnovak1", world.portal, "first", "T")
                first_inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def quick_sender():
        try:
            services.send_message(world.petr, "pdvora1", world.portal, "second", "T")
        finally:
            connection.close()

    slow = threading.Thread(target=slow_sender)
    slow.start()
    assert first_inserted.wait(10)
    quick = threading.Thread(target=quick_sender)
    quick.start()
    quick.join(0.5)

    # Without the lock the quick message would be committed and in the feed now, with a higher
    # id than the slow one still uncommitted: the portal saving its cursor would skip that one.
    assert quick.is_alive(), "the second sender waits for the first"
    assert not Message.objects.exists()
    release.set()
    slow.join(10)
    quick.join(10)
    first, second = Message.objects.filter(recipient_box=world.portal).order_by("pk")
    assert (first.subject, second.subject) == ("first", "second")
    assert DataBox.objects.get(box_id="jnovak1").sent_messages.get() == first


def test_a_message_sent_over_the_api_is_inserted_under_the_feeds_lock(world, monkeypatch):
    calls = []

    def recording_lock(feed: str) -> None:
        calls.append((feed, connection.in_atomic_block, Message.objects.count()))
        lock_feed(feed)

    monkeypatch.setattr(services, "lock_feed", recording_lock)
    jana = DataBox.objects.get(box_id="jnovak1")

    services.send_from_box(world.portal, jana, "S", "T", reference="r")

    assert calls == [(services.MESSAGES_FEED, True, 0)]
    assert Message.objects.count() == 1


def test_ten_identical_posts_at_once_send_one_message(world):
    parallel = 10
    start = threading.Barrier(parallel)

    def post(_number: int):
        try:
            start.wait(10)  # all released together, each on its own connection
            response = post_message(Client())
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        answers = list(pool.map(post, range(parallel)))

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * (parallel - 1) + [201], answers
    message = Message.objects.get()
    assert {body["id"] for _status, body in answers} == {message.pk}


def test_a_reference_taken_meanwhile_answers_the_first_message(world, monkeypatch):
    """Where the feed's lock is not taken (SQLite), two requests may both find no message under
    the reference; the unique constraint refuses the second insert, and the first message is the
    answer."""
    jana = DataBox.objects.get(box_id="jnovak1")
    first, created = services.send_from_box(world.portal, jana, "S", "T", reference="r")
    found, calls = services.sent_with_reference, []

    def missing_once(box: DataBox, reference: str) -> Message | None:
        calls.append(reference)
        return None if len(calls) == 1 else found(box, reference)  # the check under the lock

    monkeypatch.setattr(services, "sent_with_reference", missing_once)
    again, created_again = services.send_from_box(world.portal, jana, "S", "T", reference="r")

    assert (created, created_again) == (True, False)
    assert again == first
    assert len(calls) == 2, "found again after the insert was refused"
    assert Message.objects.count() == 1


def test_an_integrity_error_of_something_else_is_not_hidden(world, monkeypatch):
    jana = DataBox.objects.get(box_id="jnovak1")
    monkeypatch.setattr(services, "sent_with_reference", lambda box, ref: None)

    def refused(self, *args, **kwargs):
        raise IntegrityError("another constraint")

    monkeypatch.setattr(Message, "save", refused)

    with pytest.raises(IntegrityError):
        services.send_from_box(world.portal, jana, "S", "T", reference="r")
