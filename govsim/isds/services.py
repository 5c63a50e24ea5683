"""The data box system's operations: signing a person in, the boxes they act for, sending.

Views, the API and the seed call these; the web session is handled here too, under a key of its
own (`SESSION_KEY`), because a person of the data box system is not a Django user: in the
embedded stack the browser shares one session with the portal, and signing in or out of the data
box system must not touch the portal's sign-in.
"""

import hashlib

from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from govsim.api import key_hash, lock_feed

from .models import BoxAccess, DataBox, Message, Person

SESSION_KEY = "govsim_isds_person"
# The feed the receiving boxes read with a cursor (see govsim.api.lock_feed).
MESSAGES_FEED = "isds-messages"
# Failed sign-ins counted per username (whether or not it exists, so the count reveals nothing).
MAX_FAILURES, FAILURE_WINDOW_SECONDS = 10, 15 * 60


class NotAllowed(Exception):
    """The person may not send from that box (no access, or the box is not accessible)."""


def _failure_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    return f"govsim:isds:login-failures:{digest}"


def authenticate(username: str, password: str) -> Person | None:
    """The active person with this username and password, or None — one answer for every
    failure (unknown user, wrong password, blocked person, too many attempts)."""
    key = _failure_key(username)
    # The attempt is counted before the (slow) check, so that parallel guesses cannot all pass
    # the limit while the first ones are still being checked; a success resets the count.
    cache.add(key, 0, FAILURE_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, FAILURE_WINDOW_SECONDS)
        attempts = cache.incr(key)
    if attempts > MAX_FAILURES:
        return None
    person = Person.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if person is None:
        make_password(password)  # as slow as a real check: the timing tells no more than the text
        ok = False
    else:
        ok = person.check_password(password)
    if not ok:
        return None  # the attempt stays counted
    cache.delete(key)
    Person.objects.filter(pk=person.pk).update(last_login=timezone.now())
    return person


def sign_in(request: HttpRequest, person: Person) -> None:
    """Remember the person in this browser session (under SESSION_KEY only)."""
    # A new session key against fixation; the data in it (the portal's, when embedded) stays.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": person.pk, "hash": person.session_hash()}


def sign_out(request: HttpRequest) -> None:
    """Forget the data box person of this session."""
    # Only our key: flushing the session would sign the user out of the portal as well.
    request.session.pop(SESSION_KEY, None)


def signed_in_person(request: HttpRequest) -> Person | None:
    """The person signed in to the data box system in this session, if still allowed to be."""
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict) or not isinstance(stored.get("id"), int):
        return None
    person = (
        Person.objects.filter(pk=stored["id"], is_active=True).select_related("citizen").first()
    )
    if person is None or not constant_time_compare(
        str(stored.get("hash", "")), person.session_hash()
    ):
        sign_out(request)
        return None
    return person


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


def send_message(
    person: Person,
    sender_box_id: str,
    recipient: DataBox,
    subject: str,
    text: str,
    *,
    token: str | None = None,
) -> Message:
    """Send a message from a box the person acts for. With a concept `token` already used by
    this person, the message sent then is returned and nothing is sent again."""
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
        sender_person_identifier=person.citizen.identifier if person.citizen_id else None,
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


def box_for_api_key(raw_key: str) -> DataBox | None:
    """The accessible box whose API key this is."""
    return DataBox.objects.filter(api_key_hash=key_hash(raw_key), is_active=True).first()


def message_item(message: Message) -> dict:
    """One message as the API gives it (see the README, "Data boxes")."""
    return {
        "id": message.pk,
        "sender_box_id": message.sender_box.box_id,
        "sender_box_type": message.sender_box_type,
        "sender_box_name": message.sender_box_name,
        "sender_person_name": message.sender_person_name or None,
        "sender_person_role": message.sender_person_role or None,
        "sender_person_identifier": (
            str(message.sender_person_identifier) if message.sender_person_identifier else None
        ),
        "recipient_box_id": message.recipient_box.box_id,
        "subject": message.subject,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
    }
