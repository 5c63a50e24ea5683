"""Requests at the same time: the sign-in attempt limit holds for parallel guesses, and the
messages of the feed are committed in the order of their ids (a saved cursor never skips one)."""

import threading

import pytest
from django.db import connection, transaction

from govsim.api import lock_feed
from govsim.isds import services
from govsim.isds.models import DataBox, Message, Person

from .conftest import PASSWORD

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
