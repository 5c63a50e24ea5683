"""NIA's interface for qualified identity providers, as MojeID calls it (DESIGN §8).

The operations and field names are NIA's own: `TR_ZTOTOZNENI` (match a person, get their BSI and
canonical register data), `TR_EVIDENCE_VIP_ZAPIS` / `TR_EVIDENCE_VIP_ZMENA` (register an issued
authenticator, change its level or state) and `TR_NOTIFIKACE_IDP` (the feed of events about
MojeID's people). The real NIA takes them as a GovTalk `Submit(action, body)` SOAP call behind
WS-Trust tokens; the simulator takes them as JSON over HTTP with the provider's key. Only this
module knows the transport: a SOAP implementation would replace `_submit` and nothing else.

NIA answers a business refusal with `Status: Error` and a `Detail` code: `SystemRefused` with that
code. Dataclasses out.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ..exceptions import SystemAnswerInvalid, SystemRefused
from . import http
from .rob import Address


class Level(StrEnum):
    LOW = "Low"
    SUBSTANTIAL = "Substantial"
    HIGH = "High"


class State(StrEnum):
    ACTIVE = "Aktivni"
    INACTIVE = "Neaktivni"
    ENDED = "Ukonceny"


class Source(StrEnum):
    REGISTER = "ROBREF"  # the person's register data changed
    AUTHENTICATOR = "EVPROST"  # NIA changed the state of an authenticator


@dataclass(frozen=True)
class Person:
    """A person as NIA matched them: their BSI for MojeID and the register's canonical data."""

    bsi: str
    first_names: str
    last_name: str
    birth_date: date
    birth_place: str
    citizenship: str
    residence_type: str
    address: Address | None
    death_date: date | None


@dataclass(frozen=True)
class Notification:
    id: int
    bsi: str
    source: str  # a Source value; an unknown one is passed on for the caller to skip
    data: dict
    pseudonym_invalidated: bool


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    last_id: int  # where the next page starts (the given one when the page is empty)
    has_more: bool


NOT_FOUND = "NENALEZEN"
EXISTS = "EXISTUJE"  # the identifier is registered with other data (another level)
AMBIGUOUS = "NEJEDNOZNACNY"


def match_person(
    first_names: str,
    last_name: str,
    birth_date: date,
    *,
    address_point_code: int | None = None,
    birth_place: str | None = None,
    comparison: str = "diakritika",
) -> Person | None:
    """`TR_ZTOTOZNENI`: the one person of the register these data name; None if nobody.

    Several people → SystemRefused with code AMBIGUOUS (the caller must give more data).
    """
    body = {
        "Jmeno": first_names,
        "Prijmeni": last_name,
        "DatumNarozeni": birth_date.isoformat(),
        "AdresaPobytu": address_point_code,
        "MistoNarozeni": birth_place,
        "TypPorovnani": comparison,
    }
    try:
        answer = _submit("TR_ZTOTOZNENI", body)
    except SystemRefused as refusal:
        if refusal.code == NOT_FOUND:
            return None
        raise
    return Person(bsi=http.field(_system(), answer, "Pseudonym", str), **_person_data(answer))


def register_authenticator(
    bsi: str,
    identifier: str,
    level: Level,
    state: State,
    *,
    verified_by_document: bool,
    document_kind: str | None = None,
) -> None:
    """`TR_EVIDENCE_VIP_ZAPIS`: write an authenticator MojeID issued to the person. Repeating the
    same registration is harmless (NIA answers OK), which makes a retry after a lost answer safe."""
    _submit(
        "TR_EVIDENCE_VIP_ZAPIS",
        {
            "Bsi": bsi,
            "IdentifikaceProstredku": identifier,
            "LoA": str(level),
            "Stav": str(state),
            "OverenoDoklademTotoznosti": verified_by_document,
            "PrukazTotoznosti": document_kind,
        },
    )


def change_authenticator(
    bsi: str, identifier: str, level: Level, state: State, message: str = ""
) -> None:
    """`TR_EVIDENCE_VIP_ZMENA`: change a registered authenticator's level or state (`Ukonceny`
    ends it for good; ending it again is harmless)."""
    _submit(
        "TR_EVIDENCE_VIP_ZMENA",
        {
            "Bsi": bsi,
            "IdentifikaceProstredku": identifier,
            "LoA": str(level),
            "Stav": str(state),
            "Zprava": message[:255],
        },
    )


def notifications(after: int) -> NotificationPage:
    """`TR_NOTIFIKACE_IDP`: the events about MojeID's people after event id `after`."""
    system = _system()
    answer = _submit("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": after})
    parsed = [
        Notification(
            id=http.field(system, item, "Id", int),
            bsi=http.field(system, item, "Bsi", str),
            source=http.field(system, item, "Zdroj", str),
            data=http.field(system, item, "ReferencniData", dict),
            pseudonym_invalidated=http.field(system, item, "ZneplatnenPseudonym", bool),
        )
        for item in http.objects(system, answer, "Notifikace")
    ]
    last_id = max((notification.id for notification in parsed), default=after)
    more = http.field(system, answer, "ExistujiDalsiNotifikace", bool)
    return NotificationPage(parsed, last_id, more)


def person_data(data: dict) -> dict:
    """The register data of a `ROBREF` notification, as `Person`'s fields (without the BSI)."""
    return _person_data(data)


def _system() -> http.System:
    return http.System.configured("nia")


def _submit(action: str, body: dict) -> dict:
    system = _system()
    answer = http.call(system, "POST", f"submit/{action}", body=body)
    status = http.field(system, answer, "Status", str)
    if status == "OK":
        return answer
    if status == "Error":
        detail, message = answer.get("Detail"), answer.get("Message")
        raise SystemRefused(
            system.name,
            detail if isinstance(detail, str) else "Error",
            message if isinstance(message, str) else "",
        )
    raise SystemAnswerInvalid(system.name, f"unknown Status {status!r}")


def _person_data(data: dict) -> dict:
    system = _system()
    address = http.optional(system, data, "AdresaPobytu", dict)
    died = data.get("DatumUmrti") is not None
    return {
        "first_names": http.field(system, data, "Jmeno", str),
        "last_name": http.field(system, data, "Prijmeni", str),
        "birth_date": http.date_field(system, data, "DatumNarozeni"),
        "birth_place": http.field(system, data, "MistoNarozeni", str),
        "citizenship": http.field(system, data, "StatniObcanstvi", str),
        "residence_type": http.field(system, data, "TypPobytu", str),
        "address": None if address is None else _address(system, address),
        "death_date": http.date_field(system, data, "DatumUmrti") if died else None,
    }


def _address(system: http.System, data: dict) -> Address:
    return Address(
        street=http.field(system, data, "Ulice", str),
        house_number=http.field(system, data, "CisloDomovni", str),
        orientation_number=http.field(system, data, "CisloOrientacni", str),
        municipality_part=http.field(system, data, "CastObce", str),
        municipality=http.field(system, data, "Obec", str),
        postal_code=http.field(system, data, "Psc", str),
        address_point_code=http.optional(system, data, "Kod", int),
    )
