"""NIA's back-channel for qualified identity providers (the MojeID portal), as its operations are
named by the real NIA: each is a JSON object posted to `api/v1/submit/<operation>` with the
provider's API key (see `api.submit`).

    TR_ZTOTOZNENI            match a person in the base register → their BSI for this provider
    TR_EVIDENCE_VIP_ZAPIS    register an authenticator the provider issued to a person
    TR_EVIDENCE_VIP_ZMENA    change the level or state of one
    TR_NOTIFIKACE_IDP        the provider's notifications after a cursor (ROBREF, EVPROST)

A request that is not what the operation reads (not an object, an unknown field, a value of the
wrong JSON type, a string too long, a bad date) is refused with 400 `BadRequest` before anything
is read. A business answer is `{"Status": "OK", …}` or `{"Status": "Error", "Detail": CODE,
"Message": text}` (a `Refusal`), and nothing is written when it is an error.

The BSI is the provider's pseudonym of a person (`services.bsi`); NIA accepts from a provider only
the BSIs it gave that provider (its `Pseudonym` rows: "CZ/CZ/" + BSI).
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from govsim.api import ApiError, lock_feed
from govsim.rob.models import Citizen, DocumentKind, IdDocument

from . import eidas, services
from .models import (
    AuthenticatorRegistration,
    LevelOfAssurance,
    NotificationSource,
    ProviderNotification,
    Pseudonym,
    RegistrationState,
    ServiceProvider,
)

# The notifications feed (see govsim.api.lock_feed), and how many items a page holds at most.
NOTIFICATIONS_FEED = "nia-notifications"
NOTIFICATIONS_PAGE = 100

# Longest strings each field takes (a longer one is a 400): the register's own lengths.
NAME_LENGTH = 200
DOCUMENT_NUMBER_LENGTH = 50
BSI_LENGTH = 64
IDENTIFIER_LENGTH = 255
DOCUMENT_KIND_LENGTH = 32
MESSAGE_LENGTH = 255
LARGEST_ADDRESS_CODE = 2**31 - 1
LARGEST_CURSOR = 2**63 - 1

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
STRICT, DIACRITICS, ASCII = "striktni", "diakritika", "ascii"
COMPARISONS = (STRICT, DIACRITICS, ASCII)


class BadRequest(ApiError):
    """A request the operation cannot read: 400 `bad_request`."""

    def __init__(self, message: str):
        super().__init__("bad_request", 400, message)


class Refusal(Exception):
    """A business answer "Error": `detail` is the code, `message` the human text."""

    def __init__(self, detail: str, message: str):
        super().__init__(message)
        self.detail, self.message = detail, message

    def answer(self) -> dict:
        return {"Status": "Error", "Detail": self.detail, "Message": self.message}


# --- Reading a request ----------------------------------------------------------------------

_ABSENT = object()


def _describe(names: Iterable[str]) -> str:
    return ", ".join(repr(name[:40]) for name in list(names)[:5])


class Fields:
    """The fields of a request object, each read with its JSON type checked."""

    def __init__(self, body: object, allowed: Iterable[str], *, what: str = "the body"):
        if not isinstance(body, dict):
            raise BadRequest(f"{what} must be a JSON object")
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise BadRequest(f"unknown fields in {what}: {_describe(unknown)}")
        self.body = body

    def _value(self, name: str, required: bool) -> object:
        value = self.body.get(name, _ABSENT)
        if value is _ABSENT or value is None:
            if required:
                raise BadRequest(f"{name} is required")
            return None
        return value

    def text(
        self, name: str, max_length: int, *, required: bool = True, min_length: int = 1
    ) -> str | None:
        """A string of `min_length`..`max_length` characters, without NUL or a lone surrogate
        (which no database takes); None when optional and absent or null."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        if not min_length <= len(value) <= max_length:
            raise BadRequest(f"{name} must be {min_length} to {max_length} characters long")
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain NUL")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"{name} must be valid Unicode text") from None
        return value

    def choice(self, name: str, choices: Iterable[str], *, required: bool = True) -> str | None:
        choices = list(choices)
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            raise BadRequest(f"{name} must be one of {', '.join(choices)}")
        return value

    def boolean(self, name: str) -> bool:
        value = self._value(name, True)
        if not isinstance(value, bool):
            raise BadRequest(f"{name} must be true or false")
        return value

    def integer(self, name: str, low: int, high: int, *, required: bool = True) -> int | None:
        """A JSON whole number (not a boolean, not 1.0) between `low` and `high`."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest(f"{name} must be a whole number")
        if not low <= value <= high:
            raise BadRequest(f"{name} must be between {low} and {high}")
        return value

    def date(self, name: str) -> date:
        value = self._value(name, True)
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise BadRequest(f"{name} must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadRequest(f"{name} is not a valid date") from None

    def object(self, name: str) -> object | None:
        """An optional nested object, for its own `Fields` (None when absent or null)."""
        return self._value(name, False)


# --- The register's data as NIA gives it ----------------------------------------------------


def reference_data(citizen: Citizen) -> dict:
    """The citizen's data as the register keeps it: the answer of TR_ZTOTOZNENI and the
    `ReferencniData` of a ROBREF notification ("" for what the register leaves empty)."""
    address_parts = [
        citizen.street,
        citizen.house_number,
        citizen.orientation_number,
        citizen.municipality_part,
        citizen.municipality,
        citizen.postal_code,
    ]
    has_address = any(address_parts) or citizen.address_point_code is not None
    return {
        "Jmeno": citizen.first_names,
        "Prijmeni": citizen.last_name,
        "DatumNarozeni": citizen.birth_date.isoformat(),
        "MistoNarozeni": citizen.birth_place or "",
        "StatniObcanstvi": citizen.citizenship,
        "TypPobytu": citizen.residence_type,
        "AdresaPobytu": (
            {
                "Kod": citizen.address_point_code,
                "Ulice": citizen.street or "",
                "CisloDomovni": citizen.house_number or "",
                "CisloOrientacni": citizen.orientation_number or "",
                "CastObce": citizen.municipality_part or "",
                "Obec": citizen.municipality or "",
                "Psc": citizen.postal_code or "",
            }
            if has_address
            else None
        ),
        "DatumUmrti": citizen.death_date.isoformat() if citizen.death_date else None,
    }


# --- TR_ZTOTOZNENI --------------------------------------------------------------------------


def comparable(value: str, comparison: str) -> str:
    """`value` as `comparison` compares it: as it is (striktni); without the spaces around it and
    case ignored, diacritics kept (diakritika); and diacritics ignored too (ascii)."""
    if comparison == STRICT:
        return value
    value = unicodedata.normalize("NFC", value.strip()).casefold()
    if comparison == ASCII:
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(char for char in decomposed if not unicodedata.combining(char))
    return value


def _document(given: object) -> tuple[str, str] | None:
    """(kind, number without spaces) of the `Doklad` of TR_ZTOTOZNENI, if one is given."""
    if given is None:
        return None
    fields = Fields(given, ["Cislo", "Druh"], what="Doklad")
    number = fields.text("Cislo", DOCUMENT_NUMBER_LENGTH)
    kind = fields.choice("Druh", DocumentKind.values)
    return kind, "".join(number.split())


def identify(service: ServiceProvider, body: object) -> dict:
    """TR_ZTOTOZNENI: the one citizen every given criterion matches, with their BSI for this
    provider (then remembered as given to it); NENALEZEN for none, NEJEDNOZNACNY for several."""
    fields = Fields(
        body,
        [
            "Jmeno",
            "Prijmeni",
            "DatumNarozeni",
            "AdresaPobytu",
            "MistoNarozeni",
            "Doklad",
            "TypPorovnani",
        ],
    )
    first_names = fields.text("Jmeno", NAME_LENGTH)
    last_name = fields.text("Prijmeni", NAME_LENGTH)
    birth_date = fields.date("DatumNarozeni")
    address_code = fields.integer("AdresaPobytu", 0, LARGEST_ADDRESS_CODE, required=False)
    birth_place = fields.text("MistoNarozeni", NAME_LENGTH, required=False, min_length=0)
    document = _document(fields.object("Doklad"))
    comparison = fields.choice("TypPorovnani", COMPARISONS, required=False) or DIACRITICS

    def same(stored: str, given: str) -> bool:
        return comparable(stored, comparison) == comparable(given, comparison)

    candidates = Citizen.objects.filter(birth_date=birth_date)
    if address_code is not None:
        candidates = candidates.filter(address_point_code=address_code)
    if document is not None:
        kind, number = document
        candidates = candidates.filter(
            pk__in=IdDocument.objects.filter(kind=kind, number__iexact=number).values("citizen")
        )
    matched = [
        citizen
        for citizen in candidates.order_by("pk")
        if same(citizen.first_names, first_names)
        and same(citizen.last_name, last_name)
        and (birth_place is None or same(citizen.birth_place, birth_place))
    ]
    if not matched:
        raise Refusal("NENALEZEN", _("The base register of inhabitants has no such person."))
    if len(matched) > 1:
        raise Refusal(
            "NEJEDNOZNACNY",
            _("Several people in the base register of inhabitants match; give more data."),
        )
    (citizen,) = matched
    value = services.give_pseudonym(service, citizen)
    return {
        "Status": "OK",
        "Pseudonym": value.removeprefix(eidas.PERSON_IDENTIFIER_PREFIX),
        **reference_data(citizen),
    }


# --- TR_EVIDENCE_VIP_ZAPIS, TR_EVIDENCE_VIP_ZMENA -------------------------------------------


def _known_bsi(service: ServiceProvider, value: str) -> Citizen:
    citizen = services.citizen_of_bsi(service, value)
    if citizen is None:
        raise Refusal("BSI_NEZNAME", _("NIA gave this provider no such BSI."))
    return citizen


def register(service: ServiceProvider, body: object) -> dict:
    """TR_EVIDENCE_VIP_ZAPIS: register an authenticator of a person (by the BSI NIA gave this
    provider). The same registration again is OK and changes nothing; the same identifier with
    other data is EXISTUJE."""
    fields = Fields(
        body,
        [
            "Bsi",
            "IdentifikaceProstredku",
            "LoA",
            "Stav",
            "OverenoDoklademTotoznosti",
            "PrukazTotoznosti",
        ],
    )
    bsi = fields.text("Bsi", BSI_LENGTH)
    identifier = fields.text("IdentifikaceProstredku", IDENTIFIER_LENGTH)
    wanted = {
        "loa": fields.choice("LoA", LevelOfAssurance.values),
        "state": fields.choice("Stav", RegistrationState.values),
        "verified_by_document": fields.boolean("OverenoDoklademTotoznosti"),
        "document_kind": fields.text(
            "PrukazTotoznosti", DOCUMENT_KIND_LENGTH, required=False, min_length=0
        )
        or "",
    }
    citizen = _known_bsi(service, bsi)
    if citizen.deceased:
        raise Refusal(
            "ZEMRELY", _("The base register of inhabitants records this person as deceased.")
        )
    key = {"service_provider": service, "bsi": bsi.lower(), "identifier": identifier}
    existing = AuthenticatorRegistration.objects.filter(**key).first()
    if existing is None:
        try:
            with transaction.atomic():
                AuthenticatorRegistration.objects.create(citizen=citizen, **key, **wanted)
            return {"Status": "OK"}
        except IntegrityError:  # the same registration, sent twice at once
            existing = AuthenticatorRegistration.objects.get(**key)
    if all(getattr(existing, name) == value for name, value in wanted.items()):
        return {"Status": "OK"}
    raise Refusal(
        "EXISTUJE",
        _("This provider has registered an authenticator with this identifier, with other data."),
    )


def change(service: ServiceProvider, body: object) -> dict:
    """TR_EVIDENCE_VIP_ZMENA: change the level and state of a registration. An ended one stays
    ended: ending it again is OK, any other state UKONCENY."""
    fields = Fields(body, ["Bsi", "IdentifikaceProstredku", "LoA", "Stav", "Zprava"])
    bsi = fields.text("Bsi", BSI_LENGTH)
    identifier = fields.text("IdentifikaceProstredku", IDENTIFIER_LENGTH)
    loa = fields.choice("LoA", LevelOfAssurance.values)
    state = fields.choice("Stav", RegistrationState.values)
    message = fields.text("Zprava", MESSAGE_LENGTH, required=False, min_length=0)
    registration = (
        AuthenticatorRegistration.objects.select_for_update()
        .filter(service_provider=service, bsi=bsi.lower(), identifier=identifier)
        .first()
        if services.BSI.fullmatch(bsi)
        else None
    )
    if registration is None:
        raise Refusal(
            "NENALEZEN", _("This provider registered no authenticator with this identifier.")
        )
    if registration.state == RegistrationState.ENDED:
        if state == RegistrationState.ENDED:
            return {"Status": "OK"}
        raise Refusal("UKONCENY", _("The registration of this authenticator has ended."))
    registration.loa, registration.state = loa, state
    registration.last_message = message or ""
    registration.save(update_fields=["loa", "state", "last_message", "updated_at"])
    return {"Status": "OK"}


# --- TR_NOTIFIKACE_IDP and what writes it ---------------------------------------------------


def serialise_notification(item: ProviderNotification) -> dict:
    return {
        "Id": item.pk,
        "Bsi": item.bsi,
        "Zdroj": item.source,
        "ReferencniData": item.reference_data,
        "ZneplatnenPseudonym": item.pseudonym_invalidated,
        "Vytvoreno": item.created_at.isoformat(),
    }


def notifications(service: ServiceProvider, body: object) -> dict:
    """TR_NOTIFIKACE_IDP: this provider's notifications after `NotifikaceIdpPosledniId`, oldest
    first, at most NOTIFICATIONS_PAGE of them. Ids only grow and an item never changes, so a page
    read again is the same page."""
    fields = Fields(body, ["NotifikaceIdpPosledniId"])
    after = fields.integer("NotifikaceIdpPosledniId", 0, LARGEST_CURSOR)
    items = list(
        ProviderNotification.objects.filter(service_provider=service, pk__gt=after).order_by("pk")[
            : NOTIFICATIONS_PAGE + 1
        ]
    )
    return {
        "Status": "OK",
        "Notifikace": [serialise_notification(item) for item in items[:NOTIFICATIONS_PAGE]],
        "ExistujiDalsiNotifikace": len(items) > NOTIFICATIONS_PAGE,
    }


def notify_register_change(citizen: Citizen, *, invalidated: bool = False) -> int:
    """A ROBREF for every provider NIA gave the citizen's BSI to, with the citizen's data as the
    register now keeps it; `invalidated` when the register no longer knows the person (their BSI
    is then void). How many were written."""
    given = list(
        Pseudonym.objects.filter(
            citizen=citizen, value__startswith=eidas.PERSON_IDENTIFIER_PREFIX
        ).order_by("service_provider_id")
    )
    if not given:
        return 0
    data = reference_data(citizen)
    with transaction.atomic():
        lock_feed(NOTIFICATIONS_FEED)
        ProviderNotification.objects.bulk_create(
            ProviderNotification(
                service_provider_id=pseudonym.service_provider_id,
                bsi=pseudonym.bsi,
                source=NotificationSource.REGISTER,
                reference_data=data,
                pseudonym_invalidated=invalidated,
            )
            for pseudonym in given
        )
    return len(given)


def change_by_nia(registration: AuthenticatorRegistration, state: str) -> bool:
    """NIA's side sets the registration's state (an operator in the simulator's admin): an
    EVPROST tells the provider. False, and nothing written, when it is in that state already or
    has ended (an ended registration stays ended)."""
    if state not in RegistrationState.values:
        raise ValueError(f"not a state: {state}")
    with transaction.atomic():
        current = AuthenticatorRegistration.objects.select_for_update().get(pk=registration.pk)
        if current.state in (state, RegistrationState.ENDED):
            return False
        current.state = state
        current.save(update_fields=["state", "updated_at"])
        lock_feed(NOTIFICATIONS_FEED)
        ProviderNotification.objects.create(
            service_provider_id=current.service_provider_id,
            bsi=current.bsi,
            source=NotificationSource.REGISTRATION,
            reference_data={
                "IdentifikaceProstredku": current.identifier,
                "LoA": current.loa,
                "Stav": current.state,
            },
        )
    registration.state = state
    return True


#: The operations of the back-channel, by the name a provider posts to.
OPERATIONS: dict[str, Callable[[ServiceProvider, object], dict]] = {
    "TR_ZTOTOZNENI": identify,
    "TR_EVIDENCE_VIP_ZAPIS": register,
    "TR_EVIDENCE_VIP_ZMENA": change,
    "TR_NOTIFIKACE_IDP": notifications,
}
