"""How the portal learns the truth about a request: reading the register's feed of data
provisions filed at Czech POINT offices, and the messages citizens sent to MojeID's data box,
matching each to the request whose code it carries, and asking NIA who the person is. Never from
what the user typed.

A data-box message verifies only when it comes from a non-business natural person's box (FO)
and its sender published their identity with it; NIA is asked who that published identity is.
Any other box, or an unpublished sender, fails the request with the reason. Either way the
sender gets an answer in their box (sent with our own reference, so a page read again sends it
once) besides the e-mail.

A run reads page after page and saves the feed's cursor only after its page is processed, so a
crash re-reads at most one page; processing an item twice changes nothing (a verified link stays
verified, an unmatched item is kept once). When NIA or the register cannot be reached the run
stops where it is and the next run goes on from the saved cursor.
"""

from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from . import feeds
from .clients import isds, nia, rob
from .exceptions import IllegalTransition, SystemRefused
from .internal import codes
from .internal.eligibility import MESSAGES
from .models import Link, LinkState, Route, Unmatched, UnmatchedSource
from .services import fail, verify

PROVISIONS_FEED = "rob.provisions"
MESSAGES_FEED = "isds.messages"
#: The only box type whose sender may verify: a non-business natural person's.
NATURAL_PERSON_BOX = "FO"


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
    """Read the provisions filed for MojeID since the saved cursor and verify their requests
    (one run at a time: `feeds.read`)."""

    def next_page(after: int) -> tuple[list, int, bool]:
        page = rob.provisions(after=after)
        return page.provisions, page.cursor, page.has_more

    return feeds.read(
        PROVISIONS_FEED,
        MatchReport(),
        next_page,
        lambda provisions: (_match_provision(provision) for provision in provisions),
    )


def _link_with_code(code: str | None, route: str) -> Link | None:
    """The link (open or ended) whose request code this is, on this route."""
    return Link.objects.filter(request_code=code, route=route).first() if code else None


def _match_provision(provision: rob.Provision) -> str:
    """Verify the request `provision` answers; the report's field to count it in."""
    evidence = {"provision": provision.id, "office": provision.office}
    link = _link_with_code(codes.canonical(provision.request_code), Route.CZECH_POINT)
    if link is None:
        return _keep(provision, "unknown_code")
    if link.state == LinkState.VERIFIED and link.register_data is not None:
        return "verified"  # this page was read before
    if link.state != LinkState.REQUESTED:
        return _keep(provision, f"request_{link.state}")
    citizen = rob.citizen(provision.citizen)
    if citizen is None:
        return _keep(provision, "citizen_not_given")
    person = _match_person(
        citizen.first_names,
        citizen.last_name,
        citizen.birth_date,
        address_point_code=citizen.address.address_point_code,
    )
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


def _match_person(first_names, last_name, birth_date, **more) -> nia.Person | None:
    """The one person NIA knows by these data; None for nobody, or for several."""
    try:
        return nia.match_person(first_names, last_name, birth_date, **more)
    except SystemRefused as refusal:
        if refusal.code != nia.AMBIGUOUS:
            raise
        return None


def match_messages() -> MatchReport:
    """Read the messages MojeID's data box received since the saved cursor and verify (or fail)
    the requests whose codes they carry (one run at a time: `feeds.read`)."""

    def next_page(after: int) -> tuple[list, int, bool]:
        page = isds.received(after=after)
        return page.messages, page.cursor, page.has_more

    return feeds.read(
        MESSAGES_FEED,
        MatchReport(),
        next_page,
        lambda messages: (_match_message(message) for message in messages),
    )


def _match_message(message: isds.Message) -> str:
    """Verify or fail the request `message` answers, and answer its sender; the report's field."""
    found = codes.find_in_text(f"{message.subject}\n{message.text}")
    link = next(
        (link for code in found if (link := _link_with_code(code, Route.DATA_BOX)) is not None),
        None,
    )
    if link is None:
        return _keep_message(message, "unknown_code", found)
    evidence = {"message": message.id, "box": message.sender_box_id}
    if link.state == LinkState.VERIFIED and link.register_data is not None:
        outcome = "verified"  # this page was read before; the answer is sent once (reference)
    elif link.state == LinkState.FAILED and link.end_reason in DATA_BOX_REFUSALS:
        outcome = "failed"
    elif link.state != LinkState.REQUESTED:
        return _keep_message(message, f"request_{link.state}", found)
    else:
        outcome = _verify_by_message(link, message, evidence)
    _answer(message, Link.objects.select_related("user").get(pk=link.pk))
    return outcome


#: Why a data-box message cannot verify (codes of `eligibility.MESSAGES`).
DATA_BOX_REFUSALS = (
    "box_type",
    "identity_not_published",
    "not_matched",
    "deceased",
    "no_residence",
)


def _verify_by_message(link: Link, message: isds.Message, evidence: dict) -> str:
    identity = message.sender_identity
    if message.sender_box_type != NATURAL_PERSON_BOX:
        fail(link.pk, "box_type", evidence=evidence)
        return "failed"
    if identity is None:
        fail(link.pk, "identity_not_published", evidence=evidence)
        return "failed"
    address = identity.address
    person = (
        _match_person(
            identity.first_names,
            identity.last_name,
            identity.birth_date,
            address_point_code=address.address_point_code if address else None,
        )
        if identity.birth_date
        else None  # NIA cannot match a person by name alone
    )
    if person is None:
        fail(link.pk, "not_matched", evidence=evidence)
        return "failed"
    try:
        ended = verify(link.pk, person, evidence=evidence)
    except IllegalTransition:  # cancelled by its owner meanwhile
        return "unmatched"
    return "verified" if ended.state == LinkState.VERIFIED else "failed"


def _answer(message: isds.Message, link: Link) -> None:
    """The answer into the sender's box, in the account's language."""
    with translation.override(getattr(link.user, "language", None) or "cs"):
        if link.state == LinkState.VERIFIED:
            text = _(
                "Your identity has been verified. Sign in to your MojeID account, go to "
                "Settings and click Get access to complete the access to public administration "
                "services."
            )
        else:
            text = (
                _("Your identity could not be verified.")
                + " "
                + str(MESSAGES.get(link.end_reason, ""))
            )
        subject = _("MojeID identity verification")
    isds.send(message.sender_box_id, subject, text.strip(), reference=f"answer-{message.id}")


def _keep_message(message: isds.Message, reason: str, found: list[str]) -> str:
    """Keep a message that answers no open request, for the helpdesk (once)."""
    with transaction.atomic():
        Unmatched.objects.get_or_create(
            source=UnmatchedSource.MESSAGE,
            external_id=message.id,
            defaults={
                "request_code": (found[0] if found else "")[:14],
                "reason": reason,
                "summary": {
                    "box": message.sender_box_id,
                    "box_type": message.sender_box_type,
                    "sent_at": message.sent_at.isoformat(),
                    "subject": message.subject[:200],
                },
            },
        )
    return "unmatched"
