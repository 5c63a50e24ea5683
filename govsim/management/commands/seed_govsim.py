"""`manage.py seed_govsim`: the demo world of the simulated state systems, loaded idempotently.

Citizens of the base register (with diacritics, a foreigner with temporary residence, an
entrepreneur, a deceased person, eObčanka cards activated for NIA and not), the Czech POINT clerk,
data boxes (FO, PFO, PO, OVM and the portal's own), and the portal registered at NIA. Running it
again changes nothing. `make run` runs it; the README lists the demo logins.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Load the demo data of the simulated state systems (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--portal-url",
            default="http://localhost:8000",
            help="the portal's base URL, registered at the simulated NIA",
        )

    def handle(self, *args, portal_url: str, **options):
        if "govsim" not in {app.split(".")[0] for app in settings.INSTALLED_APPS}:
            raise CommandError(
                "The simulator is not installed here (GOVSIM_EMBEDDED is off).", returncode=2
            )
        from govsim.isds.seed import seed as seed_isds
        from govsim.nia.seed import seed as seed_nia
        from govsim.rob.seed import seed as seed_rob

        with transaction.atomic():
            results = {
                "base register": seed_rob(),
                "data boxes": seed_isds(),
                "NIA": seed_nia(portal_base_url=portal_url.rstrip("/")),
            }
        for system, counts in results.items():
            summary = ", ".join(f"{name}: {value}" for name, value in counts.items())
            self.stdout.write(f"{system}: {summary}")
