"""`manage.py inspect_attestation FILE`: print what a registration response proves, as JSON."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from twofactor.inspector import InspectionError, inspect, report_json


class Command(BaseCommand):
    help = "Inspect a WebAuthn registration response (PublicKeyCredential JSON); - reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as problem:
            raise CommandError(f"{file}: cannot be read: {problem}", returncode=2) from None
        try:
            verdict = inspect(text)
        except InspectionError as problem:
            raise CommandError(f"{file}: {problem}", returncode=2) from None
        self.stdout.write(report_json(verdict))
