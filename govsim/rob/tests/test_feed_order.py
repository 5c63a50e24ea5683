"""A feed's writers commit in the order of their ids, so a saved cursor never skips an item."""

import threading

import pytest
from django.db import connection, transaction

from govsim.rob.models import DataProvisionRequest

from . import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_filing_waits_until_the_first_one_commits():
    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's; SQLite has one writer anyway")
    recipient, clerk = factories.make_recipient(), factories.make_clerk()
    jana, petr = factories.make_citizen(), factories.make_citizen(first_names="Petr")
    first_inserted, release = threading.Event(), threading.Event()

    def slow_clerk():
        try:
            with transaction.atomic():
                factories.file(jana, recipient, clerk, code="AAAA-AAAA-AAA0")
                first_inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def quick_clerk():
        try:
            factories.file(petr, recipient, clerk, code="BBBB-BBBB-BBB0")
        finally:
            connection.close()

    slow = threading.Thread(target=slow_clerk)
    slow.start()
    assert first_inserted.wait(10)
    quick = threading.Thread(target=quick_clerk)
    quick.start()
    quick.join(0.5)

    # Without the lock the quick filing would be committed and readable now, with a higher id
    # than the slow one that is still uncommitted: a reader saving its cursor would skip it.
    assert quick.is_alive(), "the second writer waits for the first"
    assert not DataProvisionRequest.objects.exists()
    release.set()
    slow.join(10)
    quick.join(10)
    first, second = DataProvisionRequest.objects.order_by("pk")
    assert (first.citizen, second.citizen) == (jana, petr)
