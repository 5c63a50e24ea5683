"""Who may link an account to NIA, and with what: pure rules over a profile, the register's data
and the authenticators `twofactor` finds eligible. Each rule answers a code; `MESSAGES` says it
to the citizen."""

from django.utils.translation import gettext_lazy as _

from accounts.models import Profile

from ..clients.nia import Person
from ..models import Level, Route

# The register's residence types that may link: a Czech citizen with permanent residence, a
# foreigner with permanent or temporary residence (a residence certificate).
RESIDENCES = {"citizen", "foreigner_permanent", "foreigner_temporary"}

#: Routes that may prove identity for each level (MojeID's published policy, DESIGN §8).
ROUTES = {
    Level.SUBSTANTIAL: (Route.CZECH_POINT, Route.DATA_BOX, Route.EOBCANKA),
    Level.HIGH: (Route.CZECH_POINT, Route.EOBCANKA),
}

MESSAGES = {
    "first_name": _("Fill in your first name."),
    "last_name": _("Fill in your last name."),
    "address": _("Fill in your permanent address (street, city and postal code)."),
    "email": _("Confirm your e-mail address."),
    "phone": _("Confirm your phone number."),
    "organisation": _(
        "Leave the Organisation field empty: access to public administration services is for "
        "natural persons, not for businesses."
    ),
    "no_authenticator": _(
        "Add a security key that can be used for public administration services, or set up "
        "MojeID Klíč."
    ),
    "no_authenticator_high": _(
        "For the high level, set up MojeID Klíč, or add a hardware security key certified at "
        "level L2 or higher that asks for its PIN."
    ),
    "route": _("This way of verifying your identity is not available for the chosen level."),
    "deceased": _("The register records this person as deceased."),
    "expired": _(
        "The request was not verified within 30 days and has expired. Get access again to file "
        "a new one."
    ),
    "box_type": _(
        "The message was not sent from a non-business natural person's data box. Only such a "
        "data box can verify your identity; use another way to verify it."
    ),
    "identity_not_published": _(
        "The sender did not publish their identity with the message. Send it again and choose "
        "to publish your identity."
    ),
    "not_matched": _(
        "The national identity hub could not match the register's data to one person. Contact "
        "MojeID support."
    ),
    "no_residence": _(
        "The register records no permanent residence in the Czech Republic (or, for a "
        "foreigner, no permanent or temporary residence)."
    ),
}


def profile_problems(profile: Profile) -> list[str]:
    """What the profile lacks before a request may be filed (codes of MESSAGES)."""
    problems = []
    if not profile.first_name.strip():
        problems.append("first_name")
    if not profile.last_name.strip():
        problems.append("last_name")
    if not (profile.street.strip() and profile.city.strip() and profile.postal_code.strip()):
        problems.append("address")
    if not (profile.email and profile.email_confirmed_at):
        problems.append("email")
    if not (profile.phone and profile.phone_confirmed_at):
        problems.append("phone")
    if profile.organisation.strip():
        problems.append("organisation")
    return problems


def authenticator_problems(eligible: list, level: str) -> list[str]:
    """`eligible` are the authenticators `twofactor` finds eligible for `level`."""
    if eligible:
        return []
    return ["no_authenticator_high" if level == Level.HIGH else "no_authenticator"]


def route_problems(level: str, route: str) -> list[str]:
    return [] if route in ROUTES.get(level, ()) else ["route"]


def person_problems(person: Person) -> list[str]:
    """What in the register's data of the person forbids the link."""
    if person.death_date is not None:
        return ["deceased"]
    if person.residence_type not in RESIDENCES:
        return ["no_residence"]
    return []
