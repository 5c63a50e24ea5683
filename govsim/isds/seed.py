"""What the simulated data box system is seeded with, idempotently (`manage.py seed_govsim`).

`seed_portal()` makes the portal's own box `mojeid1` (CZ.NIC, a PO box) that reads its messages
over the API with the key of `settings.GOVSIM_ISDS_API_KEY` — under development settings, when
that is empty, the public DEVELOPMENT key `dev-isds-key-mojeid` (see `govsim.seed.portal_key`).

`seed_demo()` loads the demo boxes and persons. Boxes are keyed by their box ID and persons by
their username, so running it again changes nothing. The owners of the natural persons' boxes
are looked up in the base register (which `govsim.rob.seed.seed_demo()` fills first) by last name
and first names; a box whose owner is not there is skipped and named in the result. Such a box
takes the box ID the register keeps for its owner (`Citizen.data_box_id`) when there is one, so
that the register and the data boxes agree.

Every person signs in with the password `demo-heslo-2026`; the demo person `hana` acts for the
portal's box.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction

from govsim.api import key_hash
from govsim.rob.models import Citizen
from govsim.seed import portal_key

from .models import BOX_ID_PATTERN, BoxAccess, BoxType, DataBox, Person, Role

DEMO_PASSWORD = "demo-heslo-2026"  # noqa: S105 - the documented password of the demo logins
DEV_API_KEY = "dev-isds-key-mojeid"  # DEVELOPMENT ONLY: the portal box's key when none is set
PORTAL_BOX_ID = "mojeid1"


@dataclass(frozen=True)
class DemoPerson:
    first_names: str
    last_name: str
    birth_date: datetime.date | None = None
    # Must the person be in the base register? An owner of a natural person's box must; an
    # employee acting for an organisation need not be.
    in_register: bool = True

    @property
    def username(self) -> str:
        return ascii_lower(self.first_names.split()[0])


@dataclass(frozen=True)
class DemoBox:
    box_id: str
    box_type: str
    name: str
    owner: DemoPerson | None = None
    authorised: tuple[DemoPerson, ...] = field(default_factory=tuple)
    ico: str = ""
    address: str = ""


JANA = DemoPerson("Jana", "Nováková", datetime.date(1985, 3, 14))
PETR = DemoPerson("Petr", "Dvořák")
KAREL = DemoPerson("Karel", "Černý")
ZDENKA = DemoPerson("Zdeňka", "Řeháková")
JIRI = DemoPerson("Jiří", "Šťastný")  # the register's entrepreneur
HANA = DemoPerson("Hana", "Podporová", in_register=False)
TOMAS = DemoPerson("Tomáš", "Král", in_register=False)

# A natural person's box takes the ID the register keeps for the citizen, when it keeps one;
# the IDs here are used otherwise.
BOXES = (
    DemoBox(
        PORTAL_BOX_ID,
        BoxType.PO,
        "CZ.NIC, z. s. p. o.",
        authorised=(HANA,),
        ico="67985726",
        address="Milešovská 1136/5, 130 00 Praha 3",
    ),
    DemoBox("jnovak1", BoxType.FO, "Jana Nováková", owner=JANA),
    DemoBox("pdvora1", BoxType.FO, "Petr Dvořák", owner=PETR),
    DemoBox("kcerny1", BoxType.FO, "Karel Černý", owner=KAREL),
    DemoBox("zrehak1", BoxType.FO, "Zdeňka Řeháková", owner=ZDENKA),
    DemoBox("jstast1", BoxType.PFO, "Jiří Šťastný – zámečnictví", owner=JIRI, ico="87654321"),
    DemoBox(
        "peknov1",
        BoxType.PO,
        "Pekárna U Nováků s.r.o.",
        authorised=(JANA,),
        ico="12345678",
        address="Náměstí 12, 252 63 Roztoky",
    ),
    DemoBox(
        "ovmdemo",
        BoxType.OVM,
        "Ministerstvo pro místní rozvoj (simulátor)",
        authorised=(TOMAS,),
        ico="66002222",
        address="Staroměstské náměstí 932/6, 110 00 Praha 1",
    ),
)


def ascii_lower(text: str) -> str:
    """'Zdeňka' → 'zdenka': the username of a demo person."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def find_citizen(
    last_name: str, first_names: str, birth_date: datetime.date | None = None
) -> Citizen | None:
    """The one citizen of the register with these names (and birth date, when given); None when
    there is none or more than one — the register is being filled by its own seed."""
    candidates = Citizen.objects.filter(last_name__iexact=last_name, deceased=False)
    if birth_date is not None:
        candidates = candidates.filter(birth_date=birth_date)
    exact = list(candidates.filter(first_names__iexact=first_names)[:2])
    if not exact:  # "Jana" is also "Jana Marie" in the register
        exact = list(candidates.filter(first_names__istartswith=f"{first_names} ")[:2])
    return exact[0] if len(exact) == 1 else None


def _person(demo: DemoPerson, citizen: Citizen | None) -> Person:
    person, _created = Person.objects.update_or_create(
        username=demo.username,
        defaults={
            "first_names": demo.first_names,
            "last_name": demo.last_name,
            "birth_date": citizen.birth_date if citizen else demo.birth_date,
            "citizen": citizen,
            "is_active": True,
        },
    )
    # Only when the password is not the demo one already: hashing anew would change the row.
    if not person.check_password(DEMO_PASSWORD):
        person.set_password(DEMO_PASSWORD)
        person.save(update_fields=["password"])
    return person


PORTAL_BOX = next(box for box in BOXES if box.box_id == PORTAL_BOX_ID)


@transaction.atomic
def seed_portal() -> dict:
    """The portal's own box with its API key from the settings (idempotent); says where the key
    came from."""
    key, source = portal_key("GOVSIM_ISDS_API_KEY", DEV_API_KEY)
    DataBox.objects.update_or_create(
        box_id=PORTAL_BOX_ID,
        defaults={
            "box_type": PORTAL_BOX.box_type,
            "name": PORTAL_BOX.name,
            "ico": PORTAL_BOX.ico,
            "address": PORTAL_BOX.address,
            "is_active": True,
            "api_key_hash": key_hash(key),
        },
    )
    return {"box": PORTAL_BOX_ID, "key": source}


@transaction.atomic
def seed_demo() -> dict:
    """Load the demo boxes and persons; return counts and the boxes skipped, with the reason.

    The portal's box is only given its demo person here: its key is `seed_portal()`'s."""
    skipped: list[str] = []
    boxes: set[str] = set()
    persons: set[str] = set()
    for demo in BOXES:
        people: list[tuple[DemoPerson, str, Citizen | None]] = []
        missing = []
        members = [(demo.owner, Role.OWNER)] if demo.owner else []
        members += [(someone, Role.AUTHORISED) for someone in demo.authorised]
        for someone, role in members:
            citizen = find_citizen(someone.last_name, someone.first_names, someone.birth_date)
            if citizen is None and someone.in_register:
                missing.append(f"{someone.first_names} {someone.last_name}")
            people.append((someone, role, citizen))
        if missing:
            skipped.append(f"{demo.box_id}: not in the base register: {', '.join(missing)}")
            continue

        box_id = demo.box_id
        owner_citizen = people[0][2] if demo.owner else None
        if (
            demo.box_type in (BoxType.FO, BoxType.PFO)
            and owner_citizen is not None
            and re.fullmatch(BOX_ID_PATTERN, owner_citizen.data_box_id)
            and owner_citizen.data_box_id not in boxes  # one box per register entry
        ):
            # The register says which box the citizen has: both systems must agree. (The
            # register is only read here; it records its own changes for its change feed.)
            box_id = owner_citizen.data_box_id
        defaults = {
            "box_type": demo.box_type,
            "name": demo.name,
            "ico": demo.ico,
            "address": demo.address,
            "is_active": True,
        }
        box, _created = DataBox.objects.update_or_create(box_id=box_id, defaults=defaults)
        boxes.add(box.box_id)
        for someone, role, citizen in people:
            person = _person(someone, citizen)
            persons.add(person.username)
            BoxAccess.objects.update_or_create(box=box, person=person, defaults={"role": role})
    return {"boxes": len(boxes), "persons": len(persons), "skipped": skipped}
