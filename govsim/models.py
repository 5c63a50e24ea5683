"""The simulated world's own records: the outage switches (see `govsim.outage`), the simulator's
own people (Czech POINT clerks and the simulator's operators) and the history of what those
operators changed in the simulator's admin.

The simulator's people are not the portal's accounts: they sign in with passwords kept here, in
sessions of their own (`govsim.services`), and nothing of theirs is a row of the portal's user
table. A Czech POINT clerk files data provisions at the desk; an operator manages the simulated
systems in the simulator's admin; one person may be both.
"""

from django.contrib.admin.models import ACTION_FLAG_CHOICES, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .signin import PasswordHolder


class System(models.TextChoices):
    ROB = "rob", _("Base register of inhabitants (ROB)")
    ISDS = "isds", _("Data boxes (ISDS)")
    NIA = "nia", _("NIA")
    CZECHPOINT = "czechpoint", _("Czech POINT")


class Outage(models.Model):
    """Whether a simulated system is down, switched in the simulator's admin."""

    system = models.CharField(_("system"), max_length=16, choices=System.choices, primary_key=True)
    down = models.BooleanField(_("unavailable"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("outage switch")
        verbose_name_plural = _("outage switches")
        ordering = ["system"]

    def __str__(self) -> str:
        return self.get_system_display()


USERNAME_PATTERN = r"^[a-z0-9._-]{2,64}$"


class StaffMember(PasswordHolder, models.Model):
    """A person of the simulated state who signs in to it: a Czech POINT clerk (at an office),
    an operator of the simulator, or both."""

    # Never filtered, searched or sorted in an admin (adminguard): a hash is still a secret.
    SECRET_FIELDS = ("password",)
    SESSION_SALT = "govsim.staff"

    username = models.CharField(
        _("username"),
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                USERNAME_PATTERN,
                _("2–64 characters: lowercase letters, digits, dot, hyphen and underscore."),
                "username",
            )
        ],
        help_text=_("2–64 characters: lowercase letters, digits, dot, hyphen and underscore."),
    )
    password = models.CharField(_("password (hash)"), max_length=256)
    full_name = models.CharField(_("full name"), max_length=200)
    is_clerk = models.BooleanField(
        _("Czech POINT clerk"),
        default=False,
        help_text=_("May identify citizens and file requests at the Czech POINT desk."),
    )
    office = models.CharField(
        _("office"),
        max_length=200,
        blank=True,
        help_text=_("The Czech POINT office the clerk works at, printed on receipts."),
    )
    is_operator = models.BooleanField(
        _("simulator operator"),
        default=False,
        help_text=_("May manage the simulated systems in the simulator's admin."),
    )
    is_active = models.BooleanField(_("may sign in"), default=True)
    last_login = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # What the admin's templates ask of whoever is signed in (as of Django's users).
    is_authenticated = True
    is_anonymous = False

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["username"]
        constraints = [
            # Sign-in ignores the case of the username: two that differ only in case would be
            # one person to the sign-in and two to the database.
            models.UniqueConstraint(Lower("username"), name="govsim_staff_username_ci")
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"

    def clean(self) -> None:
        super().clean()
        if self.is_clerk and not self.office.strip():
            raise ValidationError({"office": _("A Czech POINT clerk works at an office.")})
        if not (self.is_clerk or self.is_operator):
            raise ValidationError(
                _("Choose at least one role: Czech POINT clerk or simulator operator.")
            )

    def get_username(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name or self.username


class AdminLogEntry(models.Model):
    """One change an operator made in the simulator's admin: the simulator's own history, because
    Django's `LogEntry` names a row of the portal's user table."""

    action_time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", verbose_name=_("operator")
    )
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("content type"),
    )
    object_id = models.TextField(_("object id"), blank=True)
    object_repr = models.CharField(_("object"), max_length=200)
    action_flag = models.PositiveSmallIntegerField(_("action"), choices=ACTION_FLAG_CHOICES)
    change_message = models.TextField(_("change message"), blank=True)

    class Meta:
        verbose_name = _("admin history entry")
        verbose_name_plural = _("admin history")
        ordering = ["-action_time", "-pk"]

    def __str__(self) -> str:
        return f"{self.action_time:%Y-%m-%d %H:%M} {self.staff_member_id} {self.object_repr}"

    @property
    def user(self) -> StaffMember:
        """Who acted, under the name the admin's history page asks for."""
        return self.staff_member

    def get_change_message(self) -> str:
        """The change message in words, as Django's admin history words it."""
        return LogEntry(
            action_flag=self.action_flag, change_message=self.change_message
        ).get_change_message()
