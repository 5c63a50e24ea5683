"""Create the demo accounts listed in the README (development only; idempotent).

The demo helpdesk operator is staff in the group "Helpdesk" (`helpdesk.roles`), and `dohled` in
"Helpdesk supervisor" (to approve the reset forms `helpdesk` records), neither a superuser,
and has no second factor yet: the admin sends them to set one up on their first visit.
"""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services.profile import apply_register_data, lock_profile
from helpdesk.roles import ensure_helpdesk_group, ensure_supervisor_group

DEMO_PASSWORD = "demo-heslo-2026"  # noqa: S105 (development only, printed in the README)
DEMO_ACCOUNTS = [
    {
        "username": "jana",
        "email": "jana.novakova@example.cz",
        "phone": "+420601123456",
        "first_name": "Jana",
        "last_name": "Nováková",
        "confirmed": True,
        "register": {
            "birth_date": date(1985, 3, 14),
            "street": "Vinohradská 1511/230",
            "city": "Praha",
            "postal_code": "100 00",
        },
    },
    {
        "username": "petr",
        "email": "petr.dvorak@example.cz",
        "phone": "+420602234567",
        "first_name": "Petr",
        "last_name": "Dvořák",
        "confirmed": False,
    },
    {
        "username": "karel",
        "email": "karel.cerny@example.cz",
        "phone": "+420603345678",
        "first_name": "Karel",
        "last_name": "Černý",
        "confirmed": True,
        "register": {
            "birth_date": date(1972, 11, 2),
            "street": "Příliš žluťoučká 7",
            "city": "Brno",
            "postal_code": "602 00",
        },
        "locked": True,
    },
    {
        "username": "helpdesk",
        "email": "helpdesk@mojeid.example",
        "phone": "+420604456789",
        "first_name": "Hana",
        "last_name": "Podporová",
        "confirmed": True,
        "staff": True,
    },
    {
        "username": "dohled",
        "email": "dohled@mojeid.example",
        "phone": "+420604456780",
        "first_name": "Dana",
        "last_name": "Dohledová",
        "confirmed": True,
        "staff": True,
        "supervisor": True,  # approves verified reset forms the other one records
    },
]


class Command(BaseCommand):
    help = f"Create the demo accounts (password: {DEMO_PASSWORD})."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo accounts are for development only.", returncode=2)
        created = 0
        for account in DEMO_ACCOUNTS:
            if User.objects.filter(username=account["username"]).exists():
                continue
            with transaction.atomic():
                self._create(account)
            created += 1
        self.stdout.write(
            f"Demo accounts: {created} created, {len(DEMO_ACCOUNTS) - created} existed. "
            "The helpdesk (http://localhost:8000/admin/) opens to 'helpdesk' once a second "
            "factor is set up: sign in as 'helpdesk', then MojeID Klíč with the phone simulator "
            "at http://localhost:8000/sim/klic/, or a security key."
        )

    def _create(self, account: dict) -> None:
        now = timezone.now() if account["confirmed"] else None
        user = User.objects.create_user(
            account["username"],
            DEMO_PASSWORD,
            email=account["email"],
            phone=account["phone"],
            first_name=account["first_name"],
            last_name=account["last_name"],
            is_staff=account.get("staff", False),
        )
        if account.get("supervisor"):
            user.groups.add(ensure_supervisor_group())
        elif account.get("staff"):
            user.groups.add(ensure_helpdesk_group())
        Profile.objects.filter(pk=user.pk).update(email_confirmed_at=now, phone_confirmed_at=now)
        if "register" in account:
            apply_register_data(user, account["register"], actor=None, source="demo data")
        if account.get("locked"):
            lock_profile(user, actor=None, reason="demo data")
