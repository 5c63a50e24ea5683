"""What `manage.py seed_govsim` loads besides each system's own seed: the keys of the portal's
accounts at the simulated systems, and the simulator's demo people.

The portal's accounts (the register's recipient, the portal's data box, the portal at NIA) are
always registered, with the keys the settings give (`GOVSIM_ROB_API_KEY`, `GOVSIM_ISDS_API_KEY`,
`GOVSIM_NIA_API_KEY`). Only under development settings may a missing key fall back to the
system's public DEVELOPMENT key; under production settings it is an error.

The demo people — the Czech POINT clerk `urednik` and the simulator operator `spravce`, both
with the password `demo-heslo-2026` — are loaded with the rest of the demo world only when asked
for (`settings.GOVSIM_DEMO`, or `seed_govsim --demo`). Development data only: public passwords.
"""

from django.conf import settings
from django.db import transaction

from .exceptions import MissingPortalKey
from .models import StaffMember

DEMO_PASSWORD = "demo-heslo-2026"  # noqa: S105 (development only, printed in the README)
DEMO_OFFICE = "Czech POINT – Úřad městské části Praha 1"
DEMO_STAFF = (
    {
        "username": "urednik",
        "full_name": "Marie Úřednická",
        "is_clerk": True,
        "office": DEMO_OFFICE,
        "is_operator": False,
    },
    {
        "username": "spravce",
        "full_name": "Sára Správcová",
        "is_clerk": False,
        "office": "",
        "is_operator": True,
    },
)


def portal_key(setting: str, development_key: str) -> tuple[str, str]:
    """The portal's key at a simulated system and where it comes from: the setting `setting`,
    or under development settings only the public `development_key`.

    Raises MissingPortalKey under production settings when the setting is empty.
    """
    configured = getattr(settings, setting, "")
    if configured:
        return configured, setting
    if settings.PRODUCTION:
        raise MissingPortalKey(setting)
    return development_key, f"DEVELOPMENT key {development_key}"


@transaction.atomic
def seed_demo_staff() -> list[str]:
    """The demo clerk and operator, made when missing; returns their usernames.

    A demo person that exists already is left as it is: an operator who changed its password or
    switched it off must not find it reset at the next start (compose seeds on every start).
    """
    for entry in DEMO_STAFF:
        member, created = StaffMember.objects.get_or_create(
            username=entry["username"], defaults={**entry, "is_active": True}
        )
        if created:
            member.set_password(DEMO_PASSWORD)
            member.save(update_fields=["password"])
    return [entry["username"] for entry in DEMO_STAFF]
