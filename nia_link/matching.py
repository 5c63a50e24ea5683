"""How the portal learns the truth about a request: reading the register's feed of data
provisions filed at Czech POINT offices, matching each to the request whose code it carries, and
asking NIA who the person is. Never from what the user typed.

A run reads page after page and saves the feed's cursor only after its page is processed, so a
crash re-reads at most one page; processing an item twice changes nothing (a verified link stays
verified, an unmatched item is kept once). When NIA or the register cannot be reached the run
stops where it is and the next run goes on from the saved cursor.
"""

from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import transaction

from .clients import nia, rob
from .exceptions import IllegalTransition, SystemRefused
from .internal import codes
from .models import FeedCursor, Link, LinkState, Route, Unmatched, UnmatchedSource
from .services import fail, verify

PROVISIONS_FEED = "rob.provisions"
RUNNING = "nia_link:match_provisions:running"
# A run that crashed without letting go is taken over after this long.
RUN_TIMEOUT_SECONDS = 30 * 60


@dataclass
class MatchReport:
    """What one run did: items read, requests verified or failed, items kept unmatched."""

    read: int = 0
    verified: int = 0
    failed: int = 0
    unmatched: int = 0
    cursor: int = 0
    busy: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def match_provisions() -> MatchReport:
    """Read the provisions filed for MojeID since the saved cursor and verify their requests.

    One run at a time: beat starts one every half minute, and a long backlog must not be read
    by several runs at once (each would call NIA for the same people). A run that finds
    another going reads nothing and says so (`busy`).
    """
    if not cache.add(RUNNING, True, RUN_TIMEOUT_SECONDS):
        return MatchReport(busy=True)
    try:
        return _match_provisions()
    finally:
        cache.delete(RUNNING)


def _match_provisions() -> MatchReport:
    report = MatchReport()
    cursor, _ = FeedCursor.objects.get_or_create(feed=PROVISIONS_FEED)
    report.cursor = cursor.position
    while True:
        page = rob.provisions(after=report.cursor)
        for provision in page.provisions:
            report.read += 1
            outcome = _match_provision(provision)
            setattr(report, outcome, getattr(report, outcome) + 1)
        report.cursor = page.cursor
        # Only now, the whole page processed: a crash before this line re-reads the page.
        FeedCursor.objects.filter(pk=cursor.pk).update(position=page.cursor)
        if not page.has_more or not page.provisions:
            return report


def _match_provision(provision: rob.Provision) -> str:
    """Verify the request `provision` answers; the report's field to count it in."""
    evidence = {"provision": provision.id, "office": provision.office}
    code = codes.canonical(provision.request_code)
    link = Link.objects.filter(request_code=code, route=Route.CZECH_POINT).first() if code else None
    if link is None:
        return _keep(provision, "unknown_code")
    if link.state == LinkState.VERIFIED and link.register_data is not None:
        return "verified"  # this page was read before
    if link.state != LinkState.REQUESTED:
        return _keep(provision, f"request_{link.state}")
    citizen = rob.citizen(provision.citizen)
    if citizen is None:
        return _keep(provision, "citizen_not_given")
    try:
        person = nia.match_person(
            citizen.first_names,
            citizen.last_name,
            citizen.birth_date,
            address_point_code=citizen.address.address_point_code,
        )
    except SystemRefused as refusal:
        if refusal.code != nia.AMBIGUOUS:
            raise
        person = None
    if person is None:
        fail(link.pk, "not_matched", evidence=evidence)
        return "failed"
    try:
        ended = verify(link.pk, person, evidence=evidence)
    except IllegalTransition:  # cancelled by its owner meanwhile
        return _keep(provision, "request_cancelled")
    return "verified" if ended.state == LinkState.VERIFIED else "failed"


def _keep(provision: rob.Provision, reason: str) -> str:
    """Keep a provision that answers no open request, for the helpdesk (once)."""
    with transaction.atomic():
        Unmatched.objects.get_or_create(
            source=UnmatchedSource.PROVISION,
            external_id=provision.id,
            defaults={
                "request_code": provision.request_code[:14],
                "reason": reason,
                "summary": {"office": provision.office, "filed_at": provision.filed_at.isoformat()},
            },
        )
    return "unmatched"
