"""Reading a feed of an outside system with a saved cursor: the one loop of the tasks that read
the register's provisions, MojeID's data box and NIA's events.

One run of a feed at a time: beat starts one every poll interval, and a long backlog must not be
read by several runs at once (each would call the systems for the same items). A run that finds
another going reads nothing and says so (`busy`). The cursor is saved only after its page is
processed, so a crash re-reads at most one page; the handlers make a page read twice change
nothing.
"""

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from django.core.cache import cache

from .models import FeedCursor

# A run that crashed without letting go is taken over after this long.
RUN_TIMEOUT_SECONDS = 30 * 60


class Report(Protocol):
    """What a run counts: `read`, `cursor`, `busy`, and one field per outcome a handler names."""

    read: int
    cursor: int
    busy: bool


R = TypeVar("R", bound=Report)


def running_key(feed: str) -> str:
    return f"nia_link:feed:{feed}:running"


def read(
    feed: str,
    report: R,
    next_page: Callable[[int], tuple[list, int, bool]],
    handle: Callable[[list], Iterable[str]],
) -> R:
    """Read `feed` from its saved cursor to its end. `next_page(after)` gives (items, cursor
    after them, whether more follow); `handle(items)` processes a page's items and yields, for
    each, the name of the report's field to count it in."""
    if not cache.add(running_key(feed), True, RUN_TIMEOUT_SECONDS):
        report.busy = True
        return report
    try:
        cursor, _ = FeedCursor.objects.get_or_create(feed=feed)
        report.cursor = cursor.position
        while True:
            items, after, has_more = next_page(report.cursor)
            for outcome in handle(items):
                report.read += 1
                setattr(report, outcome, getattr(report, outcome) + 1)
            report.cursor = after
            # Only now, the whole page processed: a crash before this line re-reads the page.
            FeedCursor.objects.filter(pk=cursor.pk).update(position=after)
            if not has_more or not items:
                return report
    finally:
        cache.delete(running_key(feed))
