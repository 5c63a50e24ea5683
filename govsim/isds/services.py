"""The data box system's operations: signing a person in, the boxes they act for, sending (by a
person from the web pages, or by a box's own system over the API).

Views, the API and the seed call these; the web session is handled here too, under a key of its
own (`SESSION_KEY`, through `govsim.signin`), because a person of the data box system is not a
Django user: in the embedded stack the browser shares one session with the portal, and signing in
or out of the data box system must not touch the portal's sign-in.
"""

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from govsim.api import key_hash, lock_feed
from govsim.signin import MAX_FAILURES as MAX_FAILURES  # the limit, re-exported for the tests
from govsim.signin import SignIn

from .models import BoxAccess, DataBox, Message, Person

SESSION_KEY = "govsim_isds_person"
# The feed the receiving boxes read with a cursor (see govsim.api.lock_feed).
MESSAGES_FEED = "isds-messages"
PERSONS = SignIn(Person, SESSION_KEY, select_related=("citizen",))


class NotAllowed(Exception):
    """The person may not send from that box (no access, or the box is not accessible)."""


def authenticate(username: str, password: str) -> Person | None:
    """The active person with this username and password, or None — one answer for every
    failure (unknown user, wrong password, blocked person, too many attempts)."""
    return PERSONS.authenticate(username, password)


def sign_in(request: HttpRequest, person: Person) -> None:
    """Remember the person in this browser session (under SESSION_KEY only)."""
    PERSONS.sign_in(request, person)


def sign_out(request: HttpRequest) -> None:
    """Forget the data box person of this session (the portal's sign-in stays)."""
    PERSONS.sign_out(request)


def signed_in_person(request: HttpRequest) -> Person | None:
    """The person signed in to the data box system in this session, if still allowed to be."""
    return PERSONS.signed_in(request)


def boxes_of(person: Person) -> list[BoxAccess]:
    """The accessible boxes the person may act for, with their role, in box ID order."""
    return list(
        BoxAccess.objects.filter(person=person, box__is_active=True)
        .select_related("box")
        .order_by("box__box_id")
    )


def accessible_box(box_id: str) -> DataBox | None:
    """The box with this ID, unless it does not exist or has been made inaccessible."""
    return DataBox.objects.filter(box_id=box_id, is_active=True).first()


# The permanent address of the register, field by field, as a published identity carries it.
ADDRESS_FIELDS = (
    "street",
    "house_number",
    "orientation_number",
    "municipality_part",
    "municipality",
    "postal_code",
    "address_point_code",
)


def published_identity(person: Person) -> dict:
    """What a person publishes of themselves with a message ("Publish my identity"): names and
    birth date as the data box system knows them, and the permanent address as the base register
    keeps it — None for a person not linked to the register or a citizen with no address there.
    A copy, kept with the message: later changes of the person do not change what was sent."""
    citizen = person.citizen if person.citizen_id else None
    address = None
    if citizen is not None:
        address = {name: getattr(citizen, name) for name in ADDRESS_FIELDS}
        if not any(value not in ("", None) for value in address.values()):
            address = None  # no permanent address in the register (e.g. no residence)
    return {
        "first_names": person.first_names,
        "last_name": person.last_name,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "address": address,
    }


def send_message(
    person: Person,
    sender_box_id: str,
    recipient: DataBox,
    subject: str,
    text: str,
    *,
    token: str | None = None,
    publish_identity: bool = False,
) -> Message:
    """Send a message from a box the person acts for, with their identity published when they
    chose so. With a concept `token` already used by this person, the message sent then is
    returned and nothing is sent again."""
    access = next((a for a in boxes_of(person) if a.box.box_id == sender_box_id), None)
    if access is None:
        raise NotAllowed(sender_box_id)
    if token:
        earlier = Message.objects.filter(concept_token=token, sender_person=person).first()
        if earlier is not None:
            return earlier
    box = access.box
    message = Message(
        sender_box=box,
        recipient_box=recipient,
        sender_person=person,
        sender_box_type=box.box_type,
        sender_box_name=box.name,
        sender_person_name=person.full_name,
        sender_person_role=access.role,
        identity_published=publish_identity,
        sender_identity=published_identity(person) if publish_identity else None,
        subject=subject,
        text=text,
        concept_token=token or None,
    )
    try:
        with transaction.atomic():
            lock_feed(MESSAGES_FEED)  # ids committed in their order: no cursor skips a message
            message.save()
    except IntegrityError:
        # The same form sent twice at once: the other request's message stands. A token of
        # another person's form is not theirs to reuse.
        earlier = Message.objects.filter(concept_token=token, sender_person=person).first()
        if earlier is None:
            raise NotAllowed(sender_box_id) from None
        return earlier
    return message


def sent_with_reference(box: DataBox, reference: str) -> Message | None:
    """The message the box already sent over the API under this reference of its own."""
    return (
        Message.objects.filter(sender_box=box, reference=reference)
        .select_related("sender_box", "recipient_box")
        .first()
    )


def send_from_box(
    box: DataBox, recipient: DataBox, subject: str, text: str, *, reference: str
) -> tuple[Message, bool]:
    """Send a message from the box itself — its own system, over the API — with no sending
    person and no identity published. The box's `reference` makes a retry safe: when the box
    already sent a message under it, that message is returned and False (nothing new sent)."""
    message = Message(
        sender_box=box,
        recipient_box=recipient,
        sender_box_type=box.box_type,
        sender_box_name=box.name,
        subject=subject,
        text=text,
        reference=reference,
    )
    try:
        with transaction.atomic():
            lock_feed(MESSAGES_FEED)  # ids committed in their order: no cursor skips a message
            # Under the feed's lock a retry sent at the same time finds the first one committed.
            earlier = sent_with_reference(box, reference)
            if earlier is not None:
                return earlier, False
            message.save()
    except IntegrityError:
        # The same reference sent twice at once where the lock is not taken (SQLite, which
        # has one writer anyway): the unique constraint refuses the second; the first stands.
        earlier = sent_with_reference(box, reference)
        if earlier is None:
            raise
        return earlier, False
    return message, True


def box_for_api_key(raw_key: str) -> DataBox | None:
    """The accessible box whose API key this is."""
    return DataBox.objects.filter(api_key_hash=key_hash(raw_key), is_active=True).first()


def identity_item(identity: dict) -> dict:
    """A stored published identity as the API gives it: every field named, whatever the row."""
    address = identity.get("address")
    return {
        "first_names": identity.get("first_names", ""),
        "last_name": identity.get("last_name", ""),
        "birth_date": identity.get("birth_date"),
        "address": {name: address.get(name) for name in ADDRESS_FIELDS} if address else None,
    }


def message_item(message: Message) -> dict:
    """One message as the API gives it (see the README, "Data boxes"). The recipient learns who
    sent it beyond the box only when the sender published their identity, as in the real system;
    never the sender's register identifier."""
    published = message.identity_published  # with its sender_identity (a check constraint)
    return {
        "id": message.pk,
        "sender_box_id": message.sender_box.box_id,
        "sender_box_type": message.sender_box_type,
        "sender_box_name": message.sender_box_name,
        "sender_person_name": (message.sender_person_name or None) if published else None,
        "sender_person_role": (message.sender_person_role or None) if published else None,
        "identity_published": published,
        "sender_identity": identity_item(message.sender_identity) if published else None,
        "recipient_box_id": message.recipient_box.box_id,
        "subject": message.subject,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
    }
