"""`manage.py govsim_person USERNAME`: add or change one of the simulator's own people — a Czech
POINT clerk, a simulator operator, or both — e.g. the first operator of a simulator started
without the demo world (`GOVSIM_DEMO` off), who then manages everybody else in its admin.

The password is asked for twice on a terminal, or read from the first line of the standard input
(`printf '%s\\n' "$PASSWORD" | manage.py govsim_person spravce --operator`); it is never an
argument, which other users of the machine could read.
"""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Add or change a person of the simulator (a Czech POINT clerk and/or an operator)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="full name (default: the username)")
        parser.add_argument("--operator", action="store_true", help="may use the simulator admin")
        parser.add_argument("--clerk", action="store_true", help="may use the Czech POINT desk")
        parser.add_argument("--office", default="", help="the clerk's Czech POINT office")

    def handle(
        self, *args, username: str, name: str, operator: bool, clerk: bool, office: str, **_
    ):
        from django.contrib.auth import password_validation

        from govsim.models import StaffMember

        member = StaffMember.objects.filter(username__iexact=username).first() or StaffMember(
            username=username.lower()
        )
        member.full_name = name or member.full_name or username
        member.is_operator = operator or (member.pk is not None and member.is_operator)
        member.is_clerk = clerk or (member.pk is not None and member.is_clerk)
        member.office = office or member.office
        member.is_active = True
        password = self._password()
        try:
            password_validation.validate_password(password, member)
            member.set_password(password)
            member.full_clean()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=2) from None
        created = member.pk is None
        member.save()
        roles = [
            role
            for role, holds in (("operator", member.is_operator), ("clerk", member.is_clerk))
            if holds
        ]
        self.stdout.write(
            f"{'Added' if created else 'Changed'} {member.username} ({member.full_name}): "
            f"{', '.join(roles)}."
        )

    def _password(self) -> str:
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\r\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.", returncode=2)
        return first
