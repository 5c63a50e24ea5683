"""Accounts: the user, the profile with its identity lock, contact confirmation codes, audit events.

The profile lock is enforced here, below every form: `Profile.save()`, `Profile.clean()` and the
queryset's `update()` refuse to change a locked identity field unless the change comes through
`accounts.services.profile` (which opens `identity_writes_allowed`). On PostgreSQL a trigger
(migration 0002) refuses it even for raw SQL.
"""

from contextlib import contextmanager, suppress
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .validators import (
    validate_latin_text,
    validate_name,
    validate_username,
)

# The identity fields a lock freezes; the register is their only source once a profile is locked.
LOCKED_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "city",
    "postal_code",
    "country",
    "address_point_code",
)
# The address as the register structures it (RÚIAN's address point): only the register sets it;
# the citizen's own change of the address clears it.
REGISTER_ONLY_FIELDS = ("address_point_code",)
ADDRESS_FIELDS = ("street", "city", "postal_code", "country")
# What the citizen edits on the profile page: the identity fields (unless locked) and the
# organisation, which no register holds, so it stays theirs to change on a locked profile too.
PROFILE_FIELDS = (
    *(name for name in LOCKED_FIELDS if name not in REGISTER_ONLY_FIELDS),
    "organisation",
)

_identity_writes_allowed: ContextVar[bool] = ContextVar("identity_writes_allowed", default=False)


@contextmanager
def identity_writes_allowed():
    """Let the profile services write locked fields; nothing else may open this.

    Must be used inside a transaction: on PostgreSQL it also opens the trigger for that transaction.
    """
    token = _identity_writes_allowed.set(True)
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('mojeid.identity_writes', 'on', true)")
        yield
    finally:
        _identity_writes_allowed.reset(token)
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Close the trigger for the rest of an enclosing transaction. If that transaction
            # already failed, PostgreSQL ends the setting with it anyway.
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('mojeid.identity_writes', 'off', true)")


class ProfileLocked(Exception):
    """A locked identity field was about to change outside the register-data service."""

    def __init__(self, fields: list[str]):
        self.fields = fields
        super().__init__(
            "The profile is locked; these fields come from the base register only: "
            + ", ".join(fields)
        )


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **profile_fields) -> "User":
        """Create a user and its profile; profile fields (email, phone, names …) go to Profile."""
        language = profile_fields.pop("language", settings.LANGUAGE_CODE)
        is_staff = profile_fields.pop("is_staff", False)
        is_superuser = profile_fields.pop("is_superuser", False)
        user = self.model(
            username=username.strip().lower(),
            language=language,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        profile_fields["email"] = (profile_fields.get("email") or "").strip().lower() or None
        Profile.objects.using(self._db).create(user=user, **profile_fields)
        return user

    def create_superuser(self, username: str, password: str | None = None, **profile_fields):
        return self.create_user(
            username, password, is_staff=True, is_superuser=True, **profile_fields
        )


class User(AbstractBaseUser, PermissionsMixin):
    # Never filtered, searched or sorted in an admin (adminguard): a hash is still a secret.
    SECRET_FIELDS = ("password",)

    username = models.CharField(
        _("username"),
        max_length=30,
        unique=True,
        validators=[validate_username],
        help_text=_("3–30 characters: lowercase letters, digits, dot, hyphen and underscore."),
        error_messages={"unique": _("This username is taken.")},
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Part of every session's auth hash: raising it ends all the user's sessions, as a password
    # change does (see end_other_sessions).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.username

    @property
    def email(self) -> str:
        return self.profile.email or ""

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django keeps this HMAC of the password hash in each session and signs the session out
        # when it no longer matches; the epoch joins the password in it.
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return f"{self.profile.first_name} {self.profile.last_name}".strip() or self.username

    def get_short_name(self) -> str:
        return self.profile.first_name or self.username


class ProfileQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Refuse a bulk update of locked identity fields on locked rows (bulk_update too)."""
        if not _identity_writes_allowed.get():
            guarded = [name for name in [*LOCKED_FIELDS, "locked_at"] if name in kwargs]
            if "organisation_locked" in kwargs:
                guarded.append("organisation_locked")
            if guarded and (
                {"locked_at", "organisation_locked"} & set(guarded)
                or self.filter(locked_at__isnull=False).exists()
            ):
                raise ProfileLocked(guarded)
            if "organisation" in kwargs and self.filter(organisation_locked=True).exists():
                raise ProfileLocked(["organisation"])
        return super().update(**kwargs)


class Country(models.TextChoices):
    CZ = "CZ", _("Czechia")
    SK = "SK", _("Slovakia")
    AT = "AT", _("Austria")
    DE = "DE", _("Germany")
    PL = "PL", _("Poland")
    HU = "HU", _("Hungary")
    UA = "UA", _("Ukraine")
    GB = "GB", _("United Kingdom")
    FR = "FR", _("France")
    IT = "IT", _("Italy")
    ES = "ES", _("Spain")
    NL = "NL", _("Netherlands")
    BE = "BE", _("Belgium")
    CH = "CH", _("Switzerland")
    US = "US", _("United States")
    OTHER = "XX", _("Other country")


class Profile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    first_name = models.CharField(
        _("first name"), max_length=100, blank=True, validators=[validate_name]
    )
    last_name = models.CharField(
        _("last name"), max_length=100, blank=True, validators=[validate_name]
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    street = models.CharField(
        _("street and number"), max_length=200, blank=True, validators=[validate_latin_text]
    )
    city = models.CharField(_("city"), max_length=100, blank=True, validators=[validate_latin_text])
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    # The register recorded the person's death (through the NIA link): no e-mail goes to the
    # address any more, and the helpdesk sees why.
    deceased_on = models.DateField(_("died (per the register)"), null=True, blank=True)
    # The permanent address's RÚIAN address point, from the register (a linked profile's).
    address_point_code = models.PositiveIntegerField(_("address point code"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default="CZ")
    organisation = models.CharField(
        _("organisation"), max_length=200, blank=True, validators=[validate_latin_text]
    )
    # Empty (NULL) only for staff accounts made with createsuperuser. Unique among confirmed
    # addresses only: typing an address at registration must not keep its owner out of it.
    email = models.EmailField(_("e-mail"), null=True, blank=True, db_index=True)
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_confirmed_at = models.DateTimeField(_("phone confirmed"), null=True, blank=True)
    locked_at = models.DateTimeField(
        _("locked"),
        null=True,
        blank=True,
        help_text=_("While set, identity fields change only with data from the base register."),
    )
    # Locked empty by a link to NIA: access to public administration services is for natural
    # non-business persons. (A profile locked otherwise keeps the organisation editable.)
    organisation_locked = models.BooleanField(_("organisation locked"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(email_confirmed_at__isnull=False),
                name="one_account_per_confirmed_email",
                violation_error_message=_("An account with this e-mail address already exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or str(self.user_id)

    def save(self, *args, **kwargs) -> None:
        refused = self.refused_changes()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            refused = [name for name in refused if name in update_fields]
        if refused:
            raise ProfileLocked(refused)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        refused = self.refused_changes()
        if refused:
            message = _("Locked: this comes from the base register and cannot be changed here.")
            raise ValidationError({name: message for name in refused})

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def phone_confirmed(self) -> bool:
        return self.phone_confirmed_at is not None

    def _stored_guarded_values(self) -> dict | None:
        if self._state.adding:
            return None
        return (
            type(self)
            .objects.filter(pk=self.pk)
            .values(*LOCKED_FIELDS, "locked_at", "organisation", "organisation_locked")
            .first()
        )

    def refused_changes(self) -> list[str]:
        """The guarded fields this unsaved instance would change against the lock."""
        if _identity_writes_allowed.get():
            return []
        stored = self._stored_guarded_values()
        if stored is None:
            return [
                name
                for name, locked in (
                    ("locked_at", self.locked_at is not None),
                    ("organisation_locked", self.organisation_locked),
                )
                if locked
            ]
        refused = [
            name
            for name in ("locked_at", "organisation_locked")
            if stored[name] != getattr(self, name)
        ]
        if stored["locked_at"] is not None:
            refused += [name for name in LOCKED_FIELDS if stored[name] != getattr(self, name)]
        if stored["organisation_locked"] and stored["organisation"] != self.organisation:
            refused.append("organisation")
        return refused


class ContactCode(models.Model):
    """A one-time PIN proving control of an e-mail address (PIN1) or a phone number (PIN2)."""

    SECRET_FIELDS = ("code_hash",)

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_codes")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The address or number the code was sent to; confirming it makes it the profile's contact.
    target = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contact confirmation code")
        verbose_name_plural = _("contact confirmation codes")
        indexes = [models.Index(fields=["user", "channel", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} code for {self.target}"


class AuditEvent(models.Model):
    """An append-only record of a security-relevant event."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Account registered")
        REGISTRATION_EMAIL_TAKEN = (
            "registration_email_taken",
            _("Somebody registered with this account's e-mail address"),
        )
        UNCONFIRMED_ACCOUNT_DELETED = (
            "unconfirmed_account_deleted",
            _("Account deleted: e-mail never confirmed"),
        )
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        LOGOUT = "logout", _("Signed out")
        SESSION_EXPIRED = "session_expired", _("Session expired")
        REAUTHENTICATED = "reauthenticated", _("Password confirmed again")
        CONTACT_CODE_SENT = "contact_code_sent", _("Confirmation code sent")
        EMAIL_CONFIRMED = "email_confirmed", _("E-mail confirmed")
        PHONE_CONFIRMED = "phone_confirmed", _("Phone confirmed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        SECURITY_KEY_ADDED = "security_key_added", _("Security key added")
        SECURITY_KEY_RENAMED = "security_key_renamed", _("Security key renamed")
        SECURITY_KEY_REMOVED = "security_key_removed", _("Security key removed")
        SECURITY_KEY_REJECTED = (
            "security_key_rejected",
            _("Security key rejected (possibly cloned)"),
        )
        SECURITY_KEY_DOWNGRADED = (
            "security_key_downgraded",
            _("Security key no longer available for public administration"),
        )
        KLIC_PAIRED = "klic_paired", _("MojeID Klíč paired")
        KLIC_CONFIRMED = "klic_confirmed", _("MojeID Klíč confirmed")
        KLIC_REMOVED = "klic_removed", _("MojeID Klíč removed")
        KLIC_LOGIN_APPROVED = "klic_login_approved", _("Sign-in approved in MojeID Klíč")
        KLIC_LOGIN_DENIED = "klic_login_denied", _("Sign-in denied in MojeID Klíč")
        KLIC_WRONG_PIN = "klic_wrong_pin", _("Wrong PIN in MojeID Klíč")
        KLIC_BLOCKED = "klic_blocked", _("MojeID Klíč blocked")
        KLIC_UNBLOCKED = "klic_unblocked", _("MojeID Klíč unblocked")
        TWO_FACTOR_RESET_STARTED = "two_factor_reset_started", _("Two-factor reset started")
        TWO_FACTOR_RESET_FAILED = "two_factor_reset_failed", _("Two-factor reset attempt failed")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor authentication reset")
        PROFILE_UPDATED = "profile_updated", _("Profile updated")
        PROFILE_LOCKED = "profile_locked", _("Profile locked")
        PROFILE_UNLOCKED = "profile_unlocked", _("Profile unlocked")
        REGISTER_DATA_APPLIED = "register_data_applied", _("Register data applied")
        NIA_LINK_REQUESTED = (
            "nia_link_requested",
            _("Access to public administration services requested"),
        )
        NIA_LINK_VERIFIED = "nia_link_verified", _("Identity verified for public administration")
        NIA_LINK_FAILED = "nia_link_failed", _("Identity verification failed")
        NIA_LINK_CANCELLED = (
            "nia_link_cancelled",
            _("Access to public administration services cancelled"),
        )
        NIA_LINK_ACTIVATED = (
            "nia_link_activated",
            _("Access to public administration services enabled"),
        )
        NIA_LINK_NOT_COMPLETED = (
            "nia_link_not_completed",
            _("Access to public administration services could not be completed"),
        )
        NIA_SIGN_IN = (
            "nia_sign_in",
            _("Signed in to a public administration service through NIA"),
        )
        NIA_SIGN_IN_REFUSED = (
            "nia_sign_in_refused",
            _("Sign-in to a public administration service refused"),
        )
        NIA_KEY_ADDED = (
            "nia_key_added",
            _("Authenticator added to access to public administration services"),
        )
        HELPDESK_CALLER_VERIFIED = "helpdesk_caller_verified", _("Caller verified by the helpdesk")
        HELPDESK_CALLER_NOT_VERIFIED = (
            "helpdesk_caller_not_verified",
            _("Caller not verified by the helpdesk"),
        )
        HELPDESK_CALLER_CHECK_LOCKED = (
            "helpdesk_caller_check_locked",
            _("Caller check refused: too many failed attempts"),
        )
        HELPDESK_VIEWED_IDENTITY = (
            "helpdesk_viewed_identity",
            _("Identity data viewed by the helpdesk"),
        )
        HELPDESK_RESET_FORM_RECORDED = (
            "helpdesk_reset_form_recorded",
            _("Verified reset form recorded by the helpdesk"),
        )
        HELPDESK_RESET_FORM_APPROVED = (
            "helpdesk_reset_form_approved",
            _("Verified reset form approved: login reset"),
        )
        HELPDESK_RESET_FORM_REJECTED = (
            "helpdesk_reset_form_rejected",
            _("Verified reset form rejected"),
        )

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=40, choices=Kind.choices)
    user = models.ForeignKey(
        User,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("acting user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{formats.localize(timezone.localtime(self.created_at))} {self.get_kind_display()}"
