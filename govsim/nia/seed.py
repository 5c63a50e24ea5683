"""Seed of the simulated NIA: the MojeID portal registered as a service provider.

Given the portal's own metadata (`manage.py nia_sp_metadata FILE`, what `make run` does), NIA
registers it as it is and encrypts assertions to its certificate; seeding again with metadata
replaces the registered one. Without it, the metadata is made from the portal's URLs alone
(entity ID `<portal>/nia/saml/metadata/`, assertion consumer service `<portal>/nia/saml/acs/`,
HTTP-POST) without a certificate: assertions go to it signed but not encrypted, and seeding again
leaves an existing registration's metadata as it is (it may have been pasted into the admin).

Its API key is `settings.GOVSIM_NIA_API_KEY` — under development settings, when that is empty,
the public DEVELOPMENT key (see `govsim.seed.portal_key`).
"""

from django.conf import settings
from django.db import transaction

from govsim.api import key_hash
from govsim.seed import portal_key

from .idp import metadata_problems, service_provider_metadata
from .models import ServiceProvider

#: The portal's API key in development (a clearly marked development secret, like the other
#: simulator keys): used under development settings unless `settings.GOVSIM_NIA_API_KEY` is set.
DEVELOPMENT_API_KEY = "dev-nia-key-mojeid"
PORTAL_NAME = "MojeID"


def portal_urls(portal_base_url: str) -> tuple[str, str]:
    """(entity ID, assertion consumer service URL) of the portal at this address."""
    base = portal_base_url.rstrip("/")
    return f"{base}/nia/saml/metadata/", f"{base}/nia/saml/acs/"


@transaction.atomic
def seed(
    portal_base_url: str = "http://localhost:8000", portal_metadata: str | None = None
) -> dict:
    """Register the MojeID portal with NIA (idempotent); says what it did."""
    entity_id, acs_url = portal_urls(portal_base_url)
    if portal_metadata is not None:
        problems = metadata_problems(portal_metadata, entity_id, need_certificate=True)
        if problems:
            raise ValueError("; ".join(problems))
    api_key, source = portal_key("GOVSIM_NIA_API_KEY", DEVELOPMENT_API_KEY)
    service, created = ServiceProvider.objects.get_or_create(
        entity_id=entity_id,
        defaults={
            "name": PORTAL_NAME,
            "metadata_xml": service_provider_metadata(entity_id, acs_url),
            "encrypt_assertions": False,
            "api_key_hash": key_hash(api_key),
        },
    )
    if portal_metadata is not None:
        service.metadata_xml, service.encrypt_assertions = portal_metadata, True
        service.save(update_fields=["metadata_xml", "encrypt_assertions", "updated_at"])
    metadata_url = getattr(settings, "GOVSIM_PORTAL_METADATA_URL", "")
    if metadata_url and service.metadata_url != metadata_url:
        # Read from there when NIA needs it (see `broker.refresh_metadata`).
        service.metadata_url = metadata_url
        service.save(update_fields=["metadata_url", "updated_at"])
    if not created and service.api_key_hash != key_hash(api_key):
        # The key follows the settings, which the portal reads too.
        service.api_key_hash = key_hash(api_key)
        service.save(update_fields=["api_key_hash", "updated_at"])
    return {
        "service_provider": service.pk,
        "created": created,
        "entity_id": entity_id,
        "acs_url": acs_url,
        "encrypted": service.encrypt_assertions,
        "key": source,
    }
