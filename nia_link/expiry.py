"""Requests that wait too long: a reminder after `REMIND_AFTER` for a Czech POINT request still
waiting (the citizen may have forgotten the office), and after `EXPIRE_AFTER` any request not yet
verified ends as failed ("expired"), with an e-mail. Run by a periodic task; running it again
changes nothing (each reminder is sent once, an expired request stays failed)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.notifications import tell

from .exceptions import IllegalTransition
from .models import Link, LinkState, Route
from .services import fail

REMIND_AFTER = timedelta(days=7)
EXPIRE_AFTER = timedelta(days=30)


def expire_and_remind() -> dict:
    """Expire the requests older than EXPIRE_AFTER, remind those older than REMIND_AFTER."""
    now = timezone.now()
    report = {"expired": 0, "reminded": 0}
    stale = Link.objects.filter(state=LinkState.REQUESTED, created_at__lt=now - EXPIRE_AFTER)
    for link_id in stale.values_list("pk", flat=True):
        try:
            fail(link_id, "expired", evidence={})
        except IllegalTransition:  # verified or cancelled meanwhile
            continue
        report["expired"] += 1
    waiting = Link.objects.filter(
        state=LinkState.REQUESTED,
        route=Route.CZECH_POINT,
        created_at__lt=now - REMIND_AFTER,
        reminded_at__isnull=True,
    )
    for link_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            # Claimed by the update: a second run at once reminds nobody twice.
            if not Link.objects.filter(
                pk=link_id, state=LinkState.REQUESTED, reminded_at__isnull=True
            ).update(reminded_at=now):
                continue
            link = Link.objects.select_related("user").get(pk=link_id)
            transaction.on_commit(
                lambda link=link: tell(
                    link.user,
                    "nia_link_reminder",
                    link=link,
                    expires=link.created_at + EXPIRE_AFTER,
                )
            )
        report["reminded"] += 1
    return report
