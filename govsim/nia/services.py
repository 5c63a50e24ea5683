"""What the simulated NIA does, apart from speaking SAML: reading the eObčanka in the (simulated)
card reader and checking its PIN, pseudonyms per service, and the register of identity means.
"""

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govsim.api import ApiError
from govsim.rob.models import Citizen, DocumentKind, IdDocument

from . import eidas, keys
from .models import IdentityMeans, MeansKind, MeansLevel, Pseudonym, ServiceProvider

# Like the chip of a real eObčanka, three wrong PINs in a row block the card; the simulator
# unblocks it by itself after a while instead of asking for the PUK.
MAX_PIN_ATTEMPTS = 3
PIN_LOCK_SECONDS = 15 * 60
DEMO_CARDS_SHOWN = 50


# --- Pseudonyms -----------------------------------------------------------------------------


def person_identifier(service: ServiceProvider, citizen: Citizen) -> str:
    """The citizen's PersonIdentifier for this service: "CZ/CZ/" + hex HMAC-SHA256 of the register
    identifier, under a key derived from NIA's secret and the service's entity ID. Two services
    get unrelated values; the same service always the same one."""
    service_key = hmac.new(
        keys.pseudonym_secret(), service.entity_id.encode("utf-8"), hashlib.sha256
    ).digest()
    digest = hmac.new(service_key, str(citizen.identifier).encode("ascii"), hashlib.sha256)
    return eidas.PERSON_IDENTIFIER_PREFIX + digest.hexdigest()


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


# --- The register of identity means ---------------------------------------------------------

MEANS_ID = re.compile(r"[A-Za-z0-9._~:=-]{1,255}")
PERSON_IDENTIFIER = re.compile(re.escape(eidas.PERSON_IDENTIFIER_PREFIX) + r"[0-9a-f]{64}")


class MeansError(ApiError):
    """A refusal of the identity-means API (answered as its JSON error)."""


@dataclass(frozen=True)
class MeansRequest:
    """A registration the API was asked for, validated."""

    means_id: str
    kind: str
    level: str
    person: str = ""  # the service's PersonIdentifier …
    citizen: str = ""  # … or the register's identifier of the citizen (exactly one of them)


def check_means_id(means_id: str) -> str:
    """`means_id` if it has the shape of one (a 400 MeansError if not): checked before any query,
    since PostgreSQL refuses some characters (NUL) outright."""
    if not MEANS_ID.fullmatch(means_id):
        raise MeansError(
            "bad_request", 400, "means_id must be 1-255 characters of A-Z a-z 0-9 . _ ~ : = -"
        )
    return means_id


def _citizen_identifier(citizen: str) -> uuid.UUID:
    try:
        return uuid.UUID(citizen)
    except ValueError:
        raise MeansError(
            "bad_request", 400, "citizen must be a register identifier (UUID)"
        ) from None


def check_person(person: str = "", citizen: str = "") -> None:
    """Refuse (400 MeansError) a PersonIdentifier not shaped as NIA's ("CZ/CZ/" + 64 hex digits)
    or a register identifier that is not a UUID, whichever is given."""
    if person and not PERSON_IDENTIFIER.fullmatch(person):
        raise MeansError(
            "bad_request",
            400,
            f"person must be {eidas.PERSON_IDENTIFIER_PREFIX} and 64 lowercase hex digits",
        )
    if citizen:
        _citizen_identifier(citizen)


def _string(body: dict, name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise MeansError("bad_request", 400, f"{name} must be a non-empty string")
    return value.strip()


def validate_means(body: object) -> MeansRequest:
    """A registration's body, checked: {person | citizen, means_id, kind, level}, all strings."""
    if not isinstance(body, dict):
        raise MeansError("bad_request", 400, "the body must be a JSON object")
    unknown = sorted(set(body) - {"person", "citizen", "means_id", "kind", "level"})
    if unknown:
        raise MeansError("bad_request", 400, f"unknown fields: {', '.join(unknown)}")
    wanted = MeansRequest(
        means_id=_string(body, "means_id"),
        kind=_string(body, "kind"),
        level=_string(body, "level"),
        person=_string(body, "person", required=False),
        citizen=_string(body, "citizen", required=False),
    )
    if bool(wanted.person) == bool(wanted.citizen):
        raise MeansError("bad_request", 400, "give either person or citizen")
    check_person(wanted.person, wanted.citizen)
    check_means_id(wanted.means_id)
    if wanted.kind not in MeansKind.values:
        raise MeansError("bad_request", 400, f"kind must be one of {', '.join(MeansKind.values)}")
    if wanted.level not in MeansLevel.values:
        raise MeansError("bad_request", 400, f"level must be one of {', '.join(MeansLevel.values)}")
    return wanted


def resolve_person(
    service: ServiceProvider, *, person: str = "", citizen: str = ""
) -> tuple[Citizen, str]:
    """(citizen, PersonIdentifier) for a registration, from either the service's PersonIdentifier
    or the register's identifier of the citizen (a service that verified the person without NIA
    knows only that; NIA then gives the service the citizen's pseudonym)."""
    check_person(person, citizen)
    if person:
        found = citizen_of(service, person)
        if found is None:
            raise MeansError(
                "unknown_person", 404, "NIA gave this service no such PersonIdentifier"
            )
        return found, person
    found = Citizen.objects.filter(identifier=_citizen_identifier(citizen)).first()
    if found is None:
        raise MeansError("unknown_person", 404, "the register knows no such citizen")
    return found, give_pseudonym(service, found)


def known_person(
    service: ServiceProvider, *, person: str = "", citizen: str = ""
) -> tuple[Citizen, str]:
    """(citizen, PersonIdentifier) for a lookup, which writes nothing and reveals nothing new: by
    register identifier, only a citizen NIA gave this service a pseudonym for or this service
    registered a means for; any other is "unknown", whether the register has them or not."""
    check_person(person, citizen)
    if person:
        return resolve_person(service, person=person)
    identifier = _citizen_identifier(citizen)
    given = (
        Pseudonym.objects.filter(service_provider=service, citizen__identifier=identifier)
        .select_related("citizen")
        .first()
    )
    if given is not None:
        return given.citizen, given.value
    registered = (
        IdentityMeans.objects.filter(service_provider=service, citizen__identifier=identifier)
        .select_related("citizen")
        .order_by("pk")
        .first()
    )
    if registered is not None:
        return registered.citizen, registered.person
    raise MeansError("unknown_person", 404, "NIA knows no such person for this service")


def register_means(service: ServiceProvider, wanted: MeansRequest) -> tuple[IdentityMeans, bool]:
    """Register a means; (means, created). Repeating the same registration changes nothing and
    answers the stored one (a client may retry); the same means_id with other data is a conflict."""
    citizen, person = resolve_person(service, person=wanted.person, citizen=wanted.citizen)
    fields = {"citizen": citizen, "person": person, "kind": wanted.kind, "level": wanted.level}
    existing = IdentityMeans.objects.filter(
        service_provider=service, means_id=wanted.means_id
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                return (
                    IdentityMeans.objects.create(
                        service_provider=service, means_id=wanted.means_id, **fields
                    ),
                    True,
                )
        except IntegrityError:  # the same registration, retried concurrently
            existing = IdentityMeans.objects.get(service_provider=service, means_id=wanted.means_id)
    if all(getattr(existing, name) == value for name, value in fields.items()):
        return existing, False
    raise MeansError("conflict", 409, "this means_id is registered already, with other data")


def means_of(service: ServiceProvider, citizen: Citizen) -> list[IdentityMeans]:
    """The means this service registered for the citizen."""
    return list(IdentityMeans.objects.filter(service_provider=service, citizen=citizen))


def remove_means(service: ServiceProvider, means_id: str) -> None:
    """Remove a means the service registered (a 404 MeansError if it registered none)."""
    check_means_id(means_id)
    deleted, _ = IdentityMeans.objects.filter(service_provider=service, means_id=means_id).delete()
    if not deleted:
        raise MeansError("not_found", 404, "this service registered no such means_id")


def serialise_means(means: IdentityMeans) -> dict:
    """A means as the API shows it."""
    return {
        "means_id": means.means_id,
        "person": means.person,
        "kind": means.kind,
        "level": means.level,
        "registered_at": means.registered_at.isoformat(),
    }
