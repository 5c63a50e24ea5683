"""What the simulated base register is seeded with, idempotently (`manage.py seed_govsim`).

`seed_portal()` registers the recipient "MojeID" (code `mojeid`) with the key of
`settings.GOVSIM_ROB_API_KEY` — under development settings, when that is empty, the public
DEVELOPMENT key `DEVELOPMENT_API_KEY` (see `govsim.seed.portal_key`).

`seed_demo()` loads the demo register, creating or updating by stable keys, so running it again
changes nothing:

- citizens with diacritics and RÚIAN addresses (fixed identifiers, derived from a stable key);
  two namesakes born the same day (the desk then lists both); a foreigner with temporary
  residence identified by a residence certificate (Ólafur Jóhannsson, IS); an entrepreneur whose
  data box is a PFO box; a deceased person;
- identity documents: eObčanka cards activated for NIA and not, all with the card PIN
  `DEMO_CARD_PIN` (123456), stored as a password hash; passports; a residence certificate;
- FO data box ids of some citizens (7 characters, lower-case letters and digits).

The Czech POINT clerk is one of the simulator's own people (`govsim.seed`). Development data
only: the keys and PINs here are public.
"""

import uuid
from datetime import date

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from govsim.api import key_hash
from govsim.seed import portal_key

from .models import Citizen, DocumentKind, IdDocument, Recipient, ResidenceType
from .services import record_documents_changed, update_citizen

# Development only (public, printed in the README): never use in production.
DEVELOPMENT_API_KEY = "dev-rob-key-mojeid"
DEMO_CARD_PIN = "123456"
RECIPIENT_CODE = "mojeid"

# Seeded citizens keep the same identifier on every machine and every run.
_NAMESPACE = uuid.UUID("6f1c2a9e-4b7d-5e1a-9c3f-2d8e7b6a5c41")


def citizen_identifier(key: str) -> uuid.UUID:
    """The fixed identifier of the seeded citizen `key` (e.g. "jana-novakova")."""
    return uuid.uuid5(_NAMESPACE, key)


_CZ = ResidenceType.CITIZEN

CITIZENS: list[dict] = [
    {
        "key": "jana-novakova",
        "first_names": "Jana",
        "last_name": "Nováková",
        "birth_date": date(1985, 3, 14),
        "birth_place": "Praha",
        "residence_type": _CZ,
        "street": "Vinohradská",
        "house_number": "1511",
        "orientation_number": "230",
        "municipality_part": "Strašnice",
        "municipality": "Praha",
        "postal_code": "10000",
        "address_point_code": 21776075,
        "data_box_id": "fo12345",
        "documents": [
            ("id_card", "203495821", date(2031, 5, 20), True),
            ("passport", "45123987", date(2030, 1, 31), False),
        ],
    },
    {
        "key": "petr-dvorak",
        "first_names": "Petr",
        "last_name": "Dvořák",
        "birth_date": date(1990, 7, 22),
        "birth_place": "Brno",
        "residence_type": _CZ,
        "street": "Kounicova",
        "house_number": "966",
        "orientation_number": "67",
        "municipality_part": "Veveří",
        "municipality": "Brno",
        "postal_code": "60200",
        "address_point_code": 19153601,
        "data_box_id": "fo56789",
        "documents": [("id_card", "204118736", date(2032, 9, 1), False)],
    },
    {
        "key": "karel-cerny",
        "first_names": "Karel",
        "last_name": "Černý",
        "birth_date": date(1972, 11, 2),
        "birth_place": "Jihlava",
        "residence_type": _CZ,
        "street": "Příliš žluťoučká",
        "house_number": "7",
        "orientation_number": "",
        "municipality_part": "Veveří",
        "municipality": "Brno",
        "postal_code": "60200",
        "address_point_code": 19157453,
        "data_box_id": "fo23456",
        "documents": [("id_card", "201987654", date(2029, 11, 30), True)],
    },
    {
        "key": "zdenka-rehakova",
        "first_names": "Zdeňka",
        "last_name": "Řeháková",
        "birth_date": date(1958, 1, 30),
        "birth_place": "Ostrava",
        "residence_type": _CZ,
        "street": "Nádražní",
        "house_number": "2956",
        "orientation_number": "112",
        "municipality_part": "Moravská Ostrava",
        "municipality": "Ostrava",
        "postal_code": "70200",
        "address_point_code": 3216511,
        "data_box_id": "fo34567",
        "documents": [("id_card", "202556781", date(2028, 4, 15), True)],
    },
    {
        # An entrepreneur: the data box the register knows is the PFO box of the business.
        "key": "jiri-stastny",
        "first_names": "Jiří",
        "last_name": "Šťastný",
        "birth_date": date(1979, 9, 9),
        "birth_place": "Plzeň",
        "residence_type": _CZ,
        "street": "Americká",
        "house_number": "2215",
        "orientation_number": "36",
        "municipality_part": "Východní Předměstí",
        "municipality": "Plzeň",
        "postal_code": "30100",
        "address_point_code": 22787534,
        "data_box_id": "pfo1234",
        "documents": [("id_card", "203300417", date(2030, 6, 30), False)],
    },
    {
        "key": "olafur-johannsson",
        "first_names": "Ólafur",
        "last_name": "Jóhannsson",
        "birth_date": date(1988, 6, 17),
        "birth_place": "Reykjavík",
        "citizenship": "IS",
        "residence_type": ResidenceType.FOREIGNER_TEMPORARY,
        "street": "Korunní",
        "house_number": "810",
        "orientation_number": "104",
        "municipality_part": "Vinohrady",
        "municipality": "Praha",
        "postal_code": "10100",
        "address_point_code": 22201122,
        "data_box_id": "",
        "documents": [
            ("residence_certificate", "PP0123456", date(2027, 12, 31), False),
            ("passport", "A3456789", date(2031, 3, 1), False),
        ],
    },
    {
        # Two namesakes born the same day: identified by name, the clerk must choose.
        "key": "jan-novak-praha",
        "first_names": "Jan",
        "last_name": "Novák",
        "birth_date": date(1990, 5, 5),
        "birth_place": "Praha",
        "residence_type": _CZ,
        "street": "Dlouhá",
        "house_number": "733",
        "orientation_number": "12",
        "municipality_part": "Staré Město",
        "municipality": "Praha",
        "postal_code": "11000",
        "address_point_code": 21700148,
        "data_box_id": "fo45678",
        "documents": [("id_card", "205001122", date(2033, 2, 28), True)],
    },
    {
        "key": "jan-novak-olomouc",
        "first_names": "Jan",
        "last_name": "Novák",
        "birth_date": date(1990, 5, 5),
        "birth_place": "Olomouc",
        "residence_type": _CZ,
        "street": "Horní náměstí",
        "house_number": "583",
        "orientation_number": "",
        "municipality_part": "Olomouc",
        "municipality": "Olomouc",
        "postal_code": "77900",
        "address_point_code": 25672321,
        "data_box_id": "",
        "documents": [("id_card", "205009988", date(2029, 8, 31), False)],
    },
    {
        "key": "bozena-vesela",
        "first_names": "Božena",
        "last_name": "Veselá",
        "birth_date": date(1931, 4, 4),
        "birth_place": "Tábor",
        "residence_type": _CZ,
        "street": "Husova",
        "house_number": "540",
        "orientation_number": "",
        "municipality_part": "Tábor",
        "municipality": "Tábor",
        "postal_code": "39002",
        "address_point_code": 13985844,
        "data_box_id": "",
        "deceased": True,
        "death_date": date(2024, 12, 1),
        "documents": [("id_card", "200123456", date(2026, 2, 1), False)],
    },
]


def _seed_citizen(entry: dict) -> int:
    """Create or update one citizen and their documents; returns the number of documents.

    An existing citizen is updated through `update_citizen`, so that putting the demo data back
    after an edit in the admin reaches the recipients' change feed like any other change.
    """
    data = {name: value for name, value in entry.items() if name not in {"key", "documents"}}
    data.setdefault("citizenship", "CZ")
    data.setdefault("deceased", False)
    data.setdefault("death_date", None)
    identifier = citizen_identifier(entry["key"])
    citizen = Citizen.objects.filter(identifier=identifier).first()
    if citizen is None:
        citizen = Citizen.objects.create(identifier=identifier, **data)
        change = None
    else:
        change = update_citizen(citizen, data)
    documents_changed = False
    for kind, number, valid_until, nia_activated in entry["documents"]:
        wanted = {
            "citizen_id": citizen.pk,
            "valid_until": valid_until,
            "nia_activated": nia_activated,
        }
        document = IdDocument.objects.filter(kind=kind, number=number).first() or IdDocument(
            kind=kind, number=number
        )
        dirty = document.pk is None
        for name, value in wanted.items():
            if getattr(document, name) != value:
                setattr(document, name, value)
                dirty = True
        # Hash the PIN only when it is missing or different: a fresh salt on every run would
        # rewrite every card (and cost an Argon2 hash each).
        if kind == DocumentKind.ID_CARD and not (
            document.card_pin and check_password(DEMO_CARD_PIN, document.card_pin)
        ):
            document.card_pin = make_password(DEMO_CARD_PIN)
            dirty = True
        if dirty:
            document.save()
            documents_changed = True
    if documents_changed and citizen.provisions.exists():
        record_documents_changed(citizen, into=change)
    return len(entry["documents"])


@transaction.atomic
def seed_portal() -> dict:
    """Register the MojeID portal as a recipient of the register, with its key from the settings
    (idempotent); says where the key came from."""
    key, source = portal_key("GOVSIM_ROB_API_KEY", DEVELOPMENT_API_KEY)
    Recipient.objects.update_or_create(
        code=RECIPIENT_CODE, defaults={"name": "MojeID", "api_key_hash": key_hash(key)}
    )
    return {"recipient": RECIPIENT_CODE, "key": source}


@transaction.atomic
def seed_demo() -> dict:
    """Load the demo register (idempotent); returns how many of each exist."""
    documents = 0
    for entry in CITIZENS:
        documents += _seed_citizen(entry)
    return {"citizens": len(CITIZENS), "documents": documents}
