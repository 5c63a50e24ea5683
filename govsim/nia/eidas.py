"""eIDAS vocabulary the simulated NIA speaks: attribute names, levels of assurance, comparisons.

Attributes are those of an eIDAS natural person, NameFormat `uri`, with the short eIDAS name as
FriendlyName. `CurrentAddress` follows the eIDAS SAML attribute profile: the value is the base64
of the address's XML elements (`eidas:LocatorDesignator`, `eidas:Thoroughfare`, `eidas:PostName`,
`eidas:PostCode`, `eidas:CvaddressArea`, `eidas:FullCvaddress`, namespace
`http://eidas.europa.eu/attributes/naturalperson`), so a client decodes it and reads the fields
it needs; `FullCvaddress` holds the whole address on one line for clients that only show it.
"""

import base64
from datetime import date
from typing import Protocol
from xml.sax.saxutils import escape

from saml2.saml import NAME_FORMAT_URI

NATURAL_PERSON = "http://eidas.europa.eu/attributes/naturalperson/"
PERSON_IDENTIFIER = NATURAL_PERSON + "PersonIdentifier"
CURRENT_GIVEN_NAME = NATURAL_PERSON + "CurrentGivenName"
CURRENT_FAMILY_NAME = NATURAL_PERSON + "CurrentFamilyName"
DATE_OF_BIRTH = NATURAL_PERSON + "DateOfBirth"
PLACE_OF_BIRTH = NATURAL_PERSON + "PlaceOfBirth"
CURRENT_ADDRESS = NATURAL_PERSON + "CurrentAddress"

#: FriendlyName → Name, in the order NIA lists them.
ATTRIBUTES = {
    "PersonIdentifier": PERSON_IDENTIFIER,
    "CurrentGivenName": CURRENT_GIVEN_NAME,
    "CurrentFamilyName": CURRENT_FAMILY_NAME,
    "DateOfBirth": DATE_OF_BIRTH,
    "PlaceOfBirth": PLACE_OF_BIRTH,
    "CurrentAddress": CURRENT_ADDRESS,
}
ATTRIBUTE_NAME_FORMAT = NAME_FORMAT_URI
ADDRESS_NAMESPACE = "http://eidas.europa.eu/attributes/naturalperson"
PERSON_IDENTIFIER_PREFIX = "CZ/CZ/"

LOA_LOW = "http://eidas.europa.eu/LoA/low"
LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOA_HIGH = "http://eidas.europa.eu/LoA/high"
LEVELS = [LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH]  # ascending


class UnknownLevel(ValueError):
    """A RequestedAuthnContext names a class that is not an eIDAS level of assurance."""


def satisfies(given: str, requested: list[str], comparison: str | None) -> bool:
    """Whether a login at level `given` answers a RequestedAuthnContext.

    SAML core §3.3.2.2.1: with "exact" (the default) the level must be one of those requested,
    with "minimum" at least one of them, with "better" above all of them, with "maximum" at most
    the highest of them. Levels are eIDAS's, ordered low < substantial < high.
    """
    if not requested:
        return True
    unknown = [level for level in requested if level not in LEVELS]
    if unknown:
        raise UnknownLevel(", ".join(unknown))
    rank = LEVELS.index(given)
    ranks = [LEVELS.index(level) for level in requested]
    match comparison or "exact":
        case "exact":
            return rank in ranks
        case "minimum":
            return rank >= min(ranks)
        case "better":
            return rank > max(ranks)
        case "maximum":
            return rank <= max(ranks)
    raise UnknownLevel(f"comparison {comparison}")


class Resident(Protocol):
    """What the attributes are made of: the register's citizen (`govsim.rob.models.Citizen`)."""

    first_names: str
    last_name: str
    birth_date: date
    birth_place: str
    street: str
    house_number: str
    orientation_number: str
    municipality_part: str
    municipality: str
    postal_code: str


def address_line(person: Resident) -> str:
    """The permanent address on one line, as Czech addresses are written:
    "Street 123/4, Part, 110 00 Municipality" (a village without streets: "Part 12, …")."""
    number = person.house_number
    if person.orientation_number:
        number = f"{number}/{person.orientation_number}"
    street = person.street or (
        person.municipality_part if person.municipality_part != person.municipality else ""
    )
    first = f"{street} {number}".strip() if street else (f"č. p. {number}" if number else "")
    postal = person.postal_code
    if len(postal) == 5:
        postal = f"{postal[:3]} {postal[3:]}"
    parts = [first]
    if (
        person.street
        and person.municipality_part
        and person.municipality_part != person.municipality
    ):
        parts.append(person.municipality_part)
    parts.append(f"{postal} {person.municipality}".strip())
    return ", ".join(part for part in parts if part)


def current_address(person: Resident) -> str:
    """The eIDAS CurrentAddress value: base64 of the address's XML elements (see the docstring)."""
    number = person.house_number
    if person.orientation_number:
        number = f"{number}/{person.orientation_number}"
    fields = [
        ("LocatorDesignator", number),
        ("Thoroughfare", person.street),
        ("CvaddressArea", person.municipality_part),
        ("PostName", person.municipality),
        ("PostCode", person.postal_code),
        ("FullCvaddress", address_line(person)),
    ]
    xml = "".join(
        f'<eidas:{name} xmlns:eidas="{ADDRESS_NAMESPACE}">{escape(value)}</eidas:{name}>'
        for name, value in fields
        if value
    )
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def person_attributes(person: Resident, person_identifier: str) -> dict[str, str]:
    """FriendlyName → value, the way the assertion carries them."""
    return {
        "PersonIdentifier": person_identifier,
        "CurrentGivenName": person.first_names,
        "CurrentFamilyName": person.last_name,
        "DateOfBirth": person.birth_date.isoformat(),
        "PlaceOfBirth": person.birth_place,
        "CurrentAddress": current_address(person),
    }
