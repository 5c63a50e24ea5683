"""The simulated NIA: the services it signs people in to, the pseudonyms it gave them, and its
back-channel for qualified identity providers (the MojeID portal): the authenticators they
registered with it and the notifications NIA keeps for them.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govsim.rob.models import Citizen


class ServiceProvider(models.Model):
    """A service (SAML SP) NIA knows: it answers only the AuthnRequests of these.

    Its SAML metadata says where answers go (AssertionConsumerService, HTTP-POST) and holds the
    certificate assertions are encrypted to. With an API key it may also use the back-channel of
    qualified identity providers (`api.submit`); only a SHA-256 of the key is kept.
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
    metadata_url = models.URLField(
        _("metadata address"),
        max_length=500,
        blank=True,
        help_text=_(
            "Where the service publishes its metadata: NIA reads it again from there now and "
            "then (a qualified identity provider's sign-in role arrives this way)."
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

    The value is computed (see `services.person_identifier`): "CZ/CZ/" + the citizen's BSI for
    the service, the pseudonym the back-channel speaks of. The row remembers that it was given —
    in a SAML answer or by TR_ZTOTOZNENI — so the back-channel accepts that BSI from this service
    only, and tells the service of the citizen's changes.
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

    @property
    def bsi(self) -> str:
        """The BSI this PersonIdentifier carries."""
        return self.value.rsplit("/", 1)[-1]


class LevelOfAssurance(models.TextChoices):
    """Levels of assurance as the back-channel names them."""

    LOW = "Low", _("low")
    SUBSTANTIAL = "Substantial", _("substantial")
    HIGH = "High", _("high")


class RegistrationState(models.TextChoices):
    ACTIVE = "Aktivni", _("active")
    INACTIVE = "Neaktivni", _("inactive")
    ENDED = "Ukonceny", _("ended")


class AuthenticatorRegistration(models.Model):
    """An authenticator a qualified provider issued to a person and registered with NIA
    (TR_EVIDENCE_VIP_ZAPIS), one row per (provider, BSI, the provider's own id of it).

    The provider changes it with TR_EVIDENCE_VIP_ZMENA; NIA's own side (an operator in the
    simulator's admin) may suspend, end or reactivate it, which the provider learns from its
    notifications (EVPROST). An ended registration stays ended.
    """

    service_provider = models.ForeignKey(
        ServiceProvider,
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=_("registered by"),
    )
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("citizen")
    )
    bsi = models.CharField(_("BSI"), max_length=36)
    identifier = models.CharField(_("provider's identifier"), max_length=255)
    loa = models.CharField(_("level of assurance"), max_length=16, choices=LevelOfAssurance.choices)
    state = models.CharField(_("state"), max_length=16, choices=RegistrationState.choices)
    verified_by_document = models.BooleanField(_("verified with an identity document"))
    document_kind = models.CharField(_("identity document"), max_length=32, blank=True)
    last_message = models.CharField(_("last message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("authenticator registration")
        verbose_name_plural = _("authenticator registrations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_provider", "bsi", "identifier"],
                name="sim_nia_one_registration_per_identifier",
            )
        ]

    def __str__(self) -> str:
        return self.identifier


class NotificationSource(models.TextChoices):
    REGISTER = "ROBREF", _("base register of inhabitants")
    REGISTRATION = "EVPROST", _("registration of an authenticator")


class ProviderNotification(models.Model):
    """One item of a provider's notification feed (TR_NOTIFIKACE_IDP); ids only grow.

    ROBREF: the register recorded a change of a citizen whose BSI NIA gave the provider, with the
    citizen's data after it. EVPROST: NIA's side changed the state of one of the provider's
    registrations. Never changed once written, so a page read again is the same page.
    """

    service_provider = models.ForeignKey(
        ServiceProvider,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("service provider"),
    )
    bsi = models.CharField(_("BSI"), max_length=36)
    source = models.CharField(_("source"), max_length=8, choices=NotificationSource.choices)
    reference_data = models.JSONField(_("reference data"), default=dict)
    pseudonym_invalidated = models.BooleanField(_("pseudonym invalidated"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider notification")
        verbose_name_plural = _("provider notifications")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.pk} {self.source} {self.bsi}"
