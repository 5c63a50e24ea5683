"""The data box system (ISDS), as MojeID's own box reads it: the messages citizens send to it.

A message says who sent it only as far as the sender published it: the box's type and name
always; the sending person's name, role and register identifier only when they chose to publish
their identity with the message. Dataclasses out, typed errors (`nia_link.exceptions`).
"""

from dataclasses import dataclass
from datetime import datetime

from ..exceptions import SystemAnswerInvalid
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
    parsed = []
    for item in http.field(system, answer, "items", list):
        if not isinstance(item, dict):
            raise SystemAnswerInvalid(system.name, "a message is not an object")
        try:
            sent_at = datetime.fromisoformat(http.field(system, item, "sent_at", str))
        except ValueError:
            raise SystemAnswerInvalid(system.name, "sent_at is not a date and time") from None
        parsed.append(
            Message(
                id=http.field(system, item, "id", int),
                sender_box_id=http.field(system, item, "sender_box_id", str),
                sender_box_type=http.field(system, item, "sender_box_type", str),
                sender_box_name=http.field(system, item, "sender_box_name", str),
                sender_person_name=_optional_text(system, item, "sender_person_name"),
                sender_person_role=_optional_text(system, item, "sender_person_role"),
                sender_person_identifier=_optional_text(system, item, "sender_person_identifier"),
                subject=http.field(system, item, "subject", str),
                text=http.field(system, item, "text", str),
                sent_at=sent_at,
            )
        )
    cursor = http.field(system, answer, "cursor", int)
    return MessagePage(parsed, cursor, http.field(system, answer, "has_more", bool))


def _optional_text(system: http.System, data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise SystemAnswerInvalid(system.name, f"{name!r} is not text")
    return value or None
