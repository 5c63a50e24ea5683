"""What the simulated NIA does, apart from speaking SAML: reading the eObčanka in the (simulated)
card reader and checking its PIN, and pseudonyms (BSI) per service. The back-channel of qualified
identity providers is `backchannel`.
"""

import hashlib
import hmac
import re
import uuid

from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from govsim.rob.models import Citizen, DocumentKind, IdDocument

from . import eidas, keys
from .models import Pseudonym, ServiceProvider

# Like the chip of a real eObčanka, three wrong PINs in a row block the card; the simulator
# unblocks it by itself after a while instead of asking for the PUK.
MAX_PIN_ATTEMPTS = 3
PIN_LOCK_SECONDS = 15 * 60
DEMO_CARDS_SHOWN = 50
# A BSI as NIA writes it: a GUID, 8-4-4-4-12 hex digits (lowercase when NIA writes it).
BSI = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# --- Pseudonyms -----------------------------------------------------------------------------


def bsi(service: ServiceProvider, citizen: Citizen) -> str:
    """The citizen's BSI for this service: a GUID made of the first 16 bytes of an HMAC-SHA256 of
    the register identifier, under a key derived from NIA's secret and the service's entity ID.
    Two services get unrelated values; the same service always the same one."""
    service_key = hmac.new(
        keys.pseudonym_secret(), service.entity_id.encode("utf-8"), hashlib.sha256
    ).digest()
    digest = hmac.new(service_key, str(citizen.identifier).encode("ascii"), hashlib.sha256)
    return str(uuid.UUID(bytes=digest.digest()[:16], version=4))


def person_identifier(service: ServiceProvider, citizen: Citizen) -> str:
    """The citizen's PersonIdentifier for this service: "CZ/CZ/" + their BSI for it."""
    return eidas.PERSON_IDENTIFIER_PREFIX + bsi(service, citizen)


def give_pseudonym(service: ServiceProvider, citizen: Citizen) -> str:
    """The PersonIdentifier, remembered as given to the service (see `models.Pseudonym`)."""
    value = person_identifier(service, citizen)
    Pseudonym.objects.update_or_create(
        service_provider=service, citizen=citizen, defaults={"value": value}
    )
    return value


def citizen_of(service: ServiceProvider, person: str) -> Citizen | None:
    """Whose PersonIdentifier `person` is, if NIA gave it to this service."""
    found = (
        Pseudonym.objects.filter(service_provider=service, value=person)
        .select_related("citizen")
        .first()
    )
    return found.citizen if found else None


def citizen_of_bsi(service: ServiceProvider, value: str) -> Citizen | None:
    """Whose BSI `value` is (a GUID, either case), if NIA gave it — or the PersonIdentifier made
    of it — to this service."""
    if not BSI.fullmatch(value):
        return None
    return citizen_of(service, eidas.PERSON_IDENTIFIER_PREFIX + value.lower())


# --- The eObčanka in the card reader --------------------------------------------------------


class CardProblem(Exception):
    """The card cannot be used; `message` says why, to the citizen."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class CardRefused(CardProblem):
    """The card was read but cannot identify anyone: the login ends (the service is told)."""


class WrongPin(CardProblem):
    def __init__(self, attempts_left: int):
        super().__init__(
            "wrong_pin",
            _("Wrong PIN. Attempts left before the card is blocked: %(left)d.")
            % {"left": attempts_left},
        )
        self.attempts_left = attempts_left


def normalise_card_number(number: str) -> str:
    """A card number as printed, without spaces, in capitals."""
    return re.sub(r"\s+", "", number or "").upper()


def find_card(number: str) -> IdDocument:
    """The eObčanka with this number, as the reader would read it (a CardProblem if none)."""
    number = normalise_card_number(number)
    if not number:
        raise CardProblem("no_card", _("Insert an eObčanka: type its number or pick a card."))
    card = (
        IdDocument.objects.filter(kind=DocumentKind.ID_CARD, number=number)
        .select_related("citizen")
        .first()
    )
    if card is None:
        raise CardProblem("unknown_card", _("The reader found no eObčanka with this number."))
    return card


def _failures_key(card: IdDocument) -> str:
    return f"sim_nia:pin_failures:{card.pk}"


def is_blocked(card: IdDocument) -> bool:
    """Whether wrong PINs have blocked the card for now."""
    return cache.get(_failures_key(card), 0) >= MAX_PIN_ATTEMPTS


def check_card_usable(card: IdDocument) -> None:
    """Refuse a card that cannot sign in: not activated for NIA, expired, its holder deceased,
    or blocked by wrong PINs."""
    if not card.nia_activated or not card.card_pin:
        raise CardRefused(
            "not_activated",
            _(
                "This eObčanka is not activated for electronic identification. The holder can "
                "activate it at any office issuing identity cards, or in the eObčanka "
                "identification application."
            ),
        )
    if card.valid_until is not None and card.valid_until < timezone.localdate():
        raise CardRefused("expired", _("This eObčanka has expired."))
    if card.citizen.deceased:
        raise CardRefused(
            "deceased",
            _("The base register of inhabitants records the holder of this eObčanka as deceased."),
        )
    if is_blocked(card):
        raise CardRefused(
            "blocked",
            _("The card is blocked after too many wrong PINs. Try again in a while."),
        )


def _reserve_attempt(key: str) -> int:
    """Count one more PIN attempt before the PIN is checked; the attempt's number."""
    for _retry in range(3):
        cache.add(key, 0, PIN_LOCK_SECONDS)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            continue
    return MAX_PIN_ATTEMPTS + 1  # the cache misbehaves: refuse rather than check unlimited PINs


def verify_pin(card: IdDocument, pin: str) -> None:
    """Check the PIN against the card's (hashed) PIN; count the failures and block at the limit.

    Each attempt is counted before the PIN is checked, atomically in the cache: of any number
    of attempts at once, at most MAX_PIN_ATTEMPTS are checked, the others are refused unchecked.
    The right PIN clears the count."""
    check_card_usable(card)
    key = _failures_key(card)
    attempt = _reserve_attempt(key)
    if attempt > MAX_PIN_ATTEMPTS:
        raise CardRefused(
            "blocked",
            _("The card is blocked after too many wrong PINs. Try again in a while."),
        )
    if check_password(pin or "", card.card_pin):
        cache.delete(key)
        return
    # Each failure starts the blocking time anew, so it runs from the last wrong PIN.
    cache.touch(key, PIN_LOCK_SECONDS)
    if attempt >= MAX_PIN_ATTEMPTS:
        raise CardRefused(
            "blocked",
            _("Wrong PIN. The card is now blocked after too many wrong PINs; try again later."),
        )
    raise WrongPin(MAX_PIN_ATTEMPTS - attempt)


def demo_cards() -> list[IdDocument]:
    """The eObčanky of the simulated register, for the card-reader list of the login page."""
    return list(
        IdDocument.objects.filter(kind=DocumentKind.ID_CARD)
        .select_related("citizen")
        .order_by("citizen__last_name", "citizen__first_names", "number")[:DEMO_CARDS_SHOWN]
    )
