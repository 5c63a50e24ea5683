"""The data box system (ISDS), as MojeID's own box reads it: the messages citizens send to it.

A message says who sent it only as far as the sender published it: the box's type and name
always; the sending person's name, role and register identifier only when they chose to publish
their identity with the message. Dataclasses out, typed errors (`nia_link.exceptions`).
"""

from dataclasses import dataclass
from datetime import datetime

from . import http

PAGE_SIZE = 100


@dataclass(frozen=True)
class Message:
    id: int
    sender_box_id: str
    sender_box_type: str  # "FO", "PFO", "PO" or "OVM"
    sender_box_name: str
    sender_person_name: str | None  # None: the sender did not publish their identity
    sender_person_role: str | None  # the box's owner, or a person it authorised
    sender_person_identifier: str | None  # the register's identifier of the sending person
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
            sender_person_identifier=(
                http.optional(system, item, "sender_person_identifier", str) or None
            ),
            subject=http.field(system, item, "subject", str),
            text=http.field(system, item, "text", str),
            sent_at=http.datetime_field(system, item, "sent_at"),
        )
        for item in http.objects(system, answer, "items")
    ]
    cursor = http.field(system, answer, "cursor", int)
    return MessagePage(parsed, cursor, http.field(system, answer, "has_more", bool))
