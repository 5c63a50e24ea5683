"""The simulated NIA: the services it signs people in to, the pseudonyms it gave them, and the
identity means qualified providers (the MojeID portal) registered with it.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govsim.rob.models import Citizen


class ServiceProvider(models.Model):
    """A service (SAML SP) NIA knows: it answers only the AuthnRequests of these.

    Its SAML metadata says where answers go (AssertionConsumerService, HTTP-POST) and holds the
    certificate assertions are encrypted to. With an API key it may also use the identity-means
    API; only a SHA-256 of the key is kept.
    """

    # Never filtered, searched or sorted in an admin (adminguard): a hash is still a secret.
    SECRET_FIELDS = ("api_key_hash",)

    entity_id = models.CharField(_("entity ID"), max_length=500, unique=True)
    name = models.CharField(_("name"), max_length=200)
    metadata_xml = models.TextField(
        _("SAML metadata"),
        help_text=_(
            "The service's EntityDescriptor: its assertion consumer service and certificate."
        ),
    )
    encrypt_assertions = models.BooleanField(
        _("encrypt assertions"),
        default=False,
        help_text=_("Encrypt assertions to the certificate in the metadata."),
    )
    active = models.BooleanField(_("active"), default=True)
    api_key_hash = models.CharField(
        _("API key (SHA-256)"), max_length=64, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key_hash"],
                condition=~Q(api_key_hash=""),
                name="sim_nia_one_sp_per_api_key",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Pseudonym(models.Model):
    """A PersonIdentifier NIA gave a service for a citizen (each service gets its own).

    The value is computed (see `services.person_identifier`); the row remembers that it was given,
    so the identity-means API can tell whose means a service registers.
    """

    service_provider = models.ForeignKey(
        ServiceProvider, on_delete=models.CASCADE, related_name="pseudonyms"
    )
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(_("PersonIdentifier"), max_length=100)
    first_issued_at = models.DateTimeField(_("first given"), auto_now_add=True)
    last_issued_at = models.DateTimeField(_("last given"), auto_now=True)

    class Meta:
        verbose_name = _("pseudonym")
        verbose_name_plural = _("pseudonyms")
        constraints = [
            models.UniqueConstraint(
                fields=["service_provider", "value"], name="sim_nia_one_pseudonym_value"
            ),
            models.UniqueConstraint(
                fields=["service_provider", "citizen"], name="sim_nia_one_pseudonym_per_sp"
            ),
        ]

    def __str__(self) -> str:
        return self.value


class MeansKind(models.TextChoices):
    SECURITY_KEY = "security_key", _("security key")
    MOJEID_KLIC = "mojeid_klic", _("MojeID Klíč")


class MeansLevel(models.TextChoices):
    SUBSTANTIAL = "substantial", _("substantial")
    HIGH = "high", _("high")


class IdentityMeans(models.Model):
    """An identity means a provider registered for a person: NIA's record of "this security key /
    this MojeID Klíč identifies this citizen at this level", one row per means."""

    service_provider = models.ForeignKey(
        ServiceProvider,
        on_delete=models.CASCADE,
        related_name="means",
        verbose_name=_("registered by"),
    )
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("citizen")
    )
    person = models.CharField(_("PersonIdentifier"), max_length=100)
    means_id = models.CharField(_("means ID"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=MeansKind.choices)
    level = models.CharField(_("level of assurance"), max_length=16, choices=MeansLevel.choices)
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity means")
        verbose_name_plural = _("identity means")
        ordering = ["registered_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_provider", "means_id"], name="sim_nia_one_means_per_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.means_id}"
