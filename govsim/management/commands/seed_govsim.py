"""`manage.py seed_govsim`: what the simulated state systems need, loaded idempotently.

Always: the portal's accounts at the simulated systems — the register's recipient `mojeid`, the
portal's data box `mojeid1` and the portal as a service provider of NIA — with the keys of the
settings `GOVSIM_ROB_API_KEY`, `GOVSIM_ISDS_API_KEY` and `GOVSIM_NIA_API_KEY`. Only under
development settings may an empty one fall back to the public DEVELOPMENT key; under production
settings a missing key stops the command (exit status 2) before anything is written.

Only when asked for (`settings.GOVSIM_DEMO`, on by default in development, or `--demo`): the demo
world — citizens of the register with their cards, data boxes with their persons, the Czech POINT
clerk `urednik` and the simulator operator `spravce`. Running it again changes nothing. `make run`
runs it; the README lists the demo logins.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Register the portal at the simulated state systems and, when GOVSIM_DEMO is on or "
        "--demo is given, load the demo world (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--portal-url",
            default="http://localhost:8000",
            help="the portal's base URL, registered at the simulated NIA",
        )
        parser.add_argument(
            "--portal-metadata",
            metavar="FILE",
            help="the portal's SAML metadata (manage.py nia_sp_metadata FILE): NIA registers it "
            "and encrypts assertions to its certificate",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="load the demo world even when settings.GOVSIM_DEMO is off",
        )

    def handle(self, *args, portal_url: str, demo: bool, portal_metadata=None, **options):
        if "govsim" not in {app.split(".")[0] for app in settings.INSTALLED_APPS}:
            raise CommandError(
                "The simulator is not installed here (GOVSIM_EMBEDDED is off).", returncode=2
            )
        from govsim.exceptions import MissingPortalKey
        from govsim.isds import seed as isds
        from govsim.nia import seed as nia
        from govsim.rob import seed as rob
        from govsim.seed import seed_demo_staff

        with_demo = demo or settings.GOVSIM_DEMO
        metadata = None
        if portal_metadata:
            try:
                with open(portal_metadata, encoding="utf-8") as file:
                    metadata = file.read()
            except (OSError, UnicodeDecodeError) as problem:
                raise CommandError(
                    f"Cannot read {portal_metadata}: {problem}", returncode=2
                ) from None
        try:
            with transaction.atomic():
                register = rob.seed_portal()
                box = isds.seed_portal()
                service = nia.seed(portal_base_url=portal_url.rstrip("/"), portal_metadata=metadata)
                if with_demo:
                    citizens = rob.seed_demo()
                    boxes = isds.seed_demo()
                    people = seed_demo_staff()
        except ValueError as problem:  # the portal's metadata is not what NIA can register
            raise CommandError(f"The portal's metadata: {problem}", returncode=2) from None
        except MissingPortalKey as missing:
            raise CommandError(
                f"{missing.setting} is not set: under production settings the simulator has no "
                f"development keys; set it to the key the portal uses.",
                returncode=2,
            ) from None
        self.stdout.write(
            f"The portal's accounts: register recipient {register['recipient']} "
            f"(key: {register['key']}); data box {box['box']} (key: {box['key']}); "
            f"NIA service provider {service['entity_id']} (key: {service['key']}; assertions "
            f"{'encrypted' if service['encrypted'] else 'signed, not encrypted'})."
        )
        if not with_demo:
            self.stdout.write("Demo world: not loaded (GOVSIM_DEMO is off; --demo loads it).")
            return
        skipped = f"; skipped: {'; '.join(boxes['skipped'])}" if boxes["skipped"] else ""
        self.stdout.write(
            f"Demo world: base register: {citizens['citizens']} citizens, "
            f"{citizens['documents']} documents; data boxes: {boxes['boxes']} boxes, "
            f"{boxes['persons']} persons{skipped}; simulator people: {', '.join(people)}."
        )
