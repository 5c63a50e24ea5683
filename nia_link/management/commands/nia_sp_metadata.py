"""`manage.py nia_sp_metadata [FILE]`: the portal's SAML metadata as NIA's service provider.

This is what NIA registers (its entity ID, assertion consumer service and the certificate NIA
encrypts assertions to). `make run` hands it to the embedded simulator with
`seed_govsim --portal-metadata FILE`; for the real NIA it goes into the provider's registration.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from nia_link.clients.saml import service_provider_metadata


class Command(BaseCommand):
    help = "Print (or write to FILE) the portal's SAML metadata as NIA's service provider."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="write it here instead of printing it")

    def handle(self, *args, file: str | None = None, **options):
        xml = service_provider_metadata()
        if file:
            Path(file).write_text(xml, encoding="utf-8")
            self.stdout.write(f"The portal's SAML metadata is in {file}.")
        else:
            self.stdout.write(xml)
