"""The data box system (ISDS), as MojeID's own box uses it: the messages citizens send to it, and
the answers it sends into their boxes.

A message says who sent it only as far as the sender published it: the box's type and name
always; the sending person's name, role and identity (names, birth date, address) only when they
chose to publish their identity with the message. Dataclasses out, typed errors
(`nia_link.exceptions`).
"""

from dataclasses import dataclass
from datetime import date, datetime

from . import http
from .rob import Address, address_from

PAGE_SIZE = 100


@dataclass(frozen=True)
class Identity:
    """The sending person's identity as they published it with the message."""

    first_names: str
    last_name: str
    birth_date: date | None
    address: Address | None


@dataclass(frozen=True)
class Message:
    id: int
    sender_box_id: str
    sender_box_type: str  # "FO", "PFO", "PO" or "OVM"
    sender_box_name: str
    sender_person_name: str | None  # None: the sender did not publish their identity
    sender_person_role: str | None  # the box's owner, or a person it authorised
    sender_identity: Identity | None  # None: not published
    subject: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    cursor: int
    has_more: bool


def received(after: int) -> MessagePage:
    """The messages MojeID's box received after cursor `after`, oldest first."""
    system = http.System.configured("isds")
    answer = http.call(system, "GET", "messages", query={"after": after, "limit": PAGE_SIZE})
    parsed = [
        Message(
            id=http.field(system, item, "id", int),
            sender_box_id=http.field(system, item, "sender_box_id", str),
            sender_box_type=http.field(system, item, "sender_box_type", str),
            sender_box_name=http.field(system, item, "sender_box_name", str),
            sender_person_name=http.optional(system, item, "sender_person_name", str) or None,
            sender_person_role=http.optional(system, item, "sender_person_role", str) or None,
            sender_identity=_identity(system, item),
            subject=http.field(system, item, "subject", str),
            text=http.field(system, item, "text", str),
            sent_at=http.datetime_field(system, item, "sent_at"),
        )
        for item in http.objects(system, answer, "items")
    ]
    cursor = http.field(system, answer, "cursor", int)
    return MessagePage(parsed, cursor, http.field(system, answer, "has_more", bool))


def _identity(system: http.System, item: dict) -> Identity | None:
    published = http.optional(system, item, "sender_identity", dict)
    if published is None or not http.field(system, item, "identity_published", bool):
        return None
    address = http.optional(system, published, "address", dict)
    birth_date = http.optional(system, published, "birth_date", str)
    return Identity(
        first_names=http.field(system, published, "first_names", str),
        last_name=http.field(system, published, "last_name", str),
        birth_date=http.date_field(system, published, "birth_date") if birth_date else None,
        address=None if address is None else address_from(system, address),
    )


def send(recipient_box_id: str, subject: str, text: str, *, reference: str) -> int:
    """Send a message from MojeID's box; its id. `reference` is ours: sending the same one
    again sends nothing new (a retry after a lost answer is safe)."""
    system = http.System.configured("isds")
    answer = http.call(
        system,
        "POST",
        "messages",
        body={
            "recipient_box_id": recipient_box_id,
            "subject": subject,
            "text": text,
            "reference": reference,
        },
    )
    return http.field(system, answer, "id", int)
