"""The base register of inhabitants (ROB), as a data recipient reads it: the data provisions the
Czech POINT desk filed for MojeID, and the data of the citizens they name.

Dataclasses out, typed errors (`nia_link.exceptions`) for everything else.
"""

from dataclasses import dataclass
from datetime import date, datetime

from ..exceptions import SystemRefused
from . import http

PAGE_SIZE = 100


@dataclass(frozen=True)
class Provision:
    """A data provision filed at a Czech POINT office under a request code."""

    id: int
    request_code: str
    citizen: str  # the register's identifier of the citizen
    filed_at: datetime
    office: str


@dataclass(frozen=True)
class ProvisionPage:
    provisions: list[Provision]
    cursor: int
    has_more: bool


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str
    orientation_number: str
    municipality_part: str
    municipality: str
    postal_code: str
    address_point_code: int | None


@dataclass(frozen=True)
class Citizen:
    """A citizen's register data, as far as the portal uses them."""

    identifier: str
    first_names: str
    last_name: str
    birth_date: date
    birth_place: str
    citizenship: str
    residence_type: str
    address: Address
    deceased: bool


def _system() -> http.System:
    return http.System.configured("rob")


def provisions(after: int) -> ProvisionPage:
    """The provisions filed for MojeID after cursor `after`, oldest first."""
    system = _system()
    answer = http.call(system, "GET", "provisions", query={"after": after, "limit": PAGE_SIZE})
    parsed = [
        Provision(
            id=http.field(system, item, "id", int),
            request_code=http.field(system, item, "request_code", str),
            citizen=http.field(system, item, "citizen", str),
            filed_at=http.datetime_field(system, item, "filed_at"),
            office=http.field(system, item, "office", str),
        )
        for item in http.objects(system, answer, "items")
    ]
    cursor = http.field(system, answer, "cursor", int)
    return ProvisionPage(parsed, cursor, http.field(system, answer, "has_more", bool))


def citizen(identifier: str) -> Citizen | None:
    """The citizen's data; None if the register does not give them to MojeID (no provision)."""
    system = _system()
    try:
        answer = http.call(system, "GET", f"citizens/{identifier}")
    except SystemRefused as refusal:
        if refusal.code == "not_found":
            return None
        raise
    address = http.field(system, answer, "address", dict)
    return Citizen(
        identifier=http.field(system, answer, "identifier", str),
        first_names=http.field(system, answer, "first_names", str),
        last_name=http.field(system, answer, "last_name", str),
        birth_date=http.date_field(system, answer, "birth_date"),
        birth_place=http.field(system, answer, "birth_place", str),
        citizenship=http.field(system, answer, "citizenship", str),
        residence_type=http.field(system, answer, "residence_type", str),
        address=address_from(system, address),
        deceased=http.field(system, answer, "deceased", bool),
    )


def address_from(system: http.System, data: dict) -> Address:
    """An address as the register's API and the data box system's give it (the same fields)."""
    return Address(
        street=http.field(system, data, "street", str),
        house_number=http.field(system, data, "house_number", str),
        orientation_number=http.field(system, data, "orientation_number", str),
        municipality_part=http.field(system, data, "municipality_part", str),
        municipality=http.field(system, data, "municipality", str),
        postal_code=http.field(system, data, "postal_code", str),
        address_point_code=http.optional(system, data, "address_point_code", int),
    )
