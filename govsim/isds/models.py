"""The simulated data box system (ISDS): boxes, the persons who act for them, and messages.

A data box has a seven-character identifier and a type: FO (a natural person, non-business), PFO
(a business natural person), PO (a legal person) or OVM (a public authority). Persons of the data
box system sign in with their own username and password (not the portal's accounts, nor Django's
users: the data box system is another system) and act for the boxes they have access to, as the
owner or as an authorised person. A box that reads its messages over the JSON API (the portal's
own box) holds only the SHA-256 of its API key.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govsim.rob.models import Citizen
from govsim.signin import PasswordHolder

BOX_ID_PATTERN = r"^[a-z0-9]{7}$"
SUBJECT_MAX_LENGTH = 255  # the envelope's annotation field of the real system has this limit
TEXT_MAX_LENGTH = 10_000
REFERENCE_MAX_LENGTH = 64  # a sending system's own key of a message (see Message.reference)


class BoxType(models.TextChoices):
    FO = "FO", _("natural person")
    PFO = "PFO", _("business natural person")
    PO = "PO", _("legal person")
    OVM = "OVM", _("public authority")


class Role(models.TextChoices):
    OWNER = "owner", _("owner")
    AUTHORISED = "authorised", _("authorised person")


class DataBox(models.Model):
    # Never filtered, searched or sorted in an admin (adminguard): a hash is still a secret.
    SECRET_FIELDS = ("api_key_hash",)

    box_id = models.CharField(
        _("data box ID"),
        max_length=7,
        unique=True,
        validators=[
            RegexValidator(BOX_ID_PATTERN, _("Seven lowercase letters or digits."), "box_id")
        ],
    )
    box_type = models.CharField(_("type"), max_length=3, choices=BoxType.choices)
    name = models.CharField(_("name of the owner"), max_length=200)
    ico = models.CharField(_("company ID (IČO)"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("accessible"), default=True)
    # SHA-256 of the key the box reads its messages with over the API; empty: no API access.
    api_key_hash = models.CharField(_("API key (SHA-256)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("data box")
        verbose_name_plural = _("data boxes")
        ordering = ["box_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key_hash"],
                condition=~models.Q(api_key_hash=""),
                name="isds_one_box_per_api_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.box_id} ({self.box_type}) {self.name}"


class Person(PasswordHolder, models.Model):
    """Someone who signs in to the data box system, linked to the register when known."""

    SECRET_FIELDS = ("password",)
    SESSION_SALT = "govsim.isds.person"

    username = models.CharField(_("username"), max_length=64, unique=True)
    password = models.CharField(_("password (hash)"), max_length=256)
    first_names = models.CharField(_("first name(s)"), max_length=200)
    last_name = models.CharField(_("last name"), max_length=200)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("citizen in the base register"),
    )
    is_active = models.BooleanField(_("may sign in"), default=True)
    last_login = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    boxes = models.ManyToManyField(DataBox, through="BoxAccess", related_name="persons")

    class Meta:
        verbose_name = _("data box person")
        verbose_name_plural = _("data box persons")
        ordering = ["last_name", "first_names"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"

    @property
    def register_identifier(self) -> str | None:
        return str(self.citizen.identifier) if self.citizen_id else None


class BoxAccess(models.Model):
    box = models.ForeignKey(
        DataBox, on_delete=models.CASCADE, related_name="access", verbose_name=_("data box")
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="access", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("access to a data box")
        verbose_name_plural = _("access to data boxes")
        constraints = [
            models.UniqueConstraint(fields=["box", "person"], name="isds_one_access_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.box.box_id} ({self.get_role_display()})"


class Message(models.Model):
    """A data message. The sender's details are copied at sending, as on a real envelope, so the
    API answers the same for a message however its box or person changes later."""

    # The text is what a person wrote to an office (the portal's verification codes among it);
    # the concept token lets the sender's form be sent once.
    SECRET_FIELDS = ("text", "concept_token")

    sender_box = models.ForeignKey(
        DataBox,
        on_delete=models.PROTECT,
        related_name="sent_messages",
        verbose_name=_("sender's data box"),
    )
    recipient_box = models.ForeignKey(
        DataBox,
        on_delete=models.PROTECT,
        related_name="received_messages",
        verbose_name=_("recipient's data box"),
    )
    sender_person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sent_messages",
        verbose_name=_("sent by"),
    )
    sender_box_type = models.CharField(
        _("sender's box type"), max_length=3, choices=BoxType.choices
    )
    sender_box_name = models.CharField(_("sender's name"), max_length=200)
    sender_person_name = models.CharField(_("sending person"), max_length=401, blank=True)
    sender_person_role = models.CharField(
        _("sending person's role"), max_length=16, choices=Role.choices, blank=True
    )
    # "Publish my identity", ticked by the sending person: only then does the recipient learn
    # who sent the message beyond the box's name.
    identity_published = models.BooleanField(_("identity published"), default=False)
    # What was published, copied at sending (see services.published_identity); null when not.
    sender_identity = models.JSONField(_("published identity"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    text = models.TextField(_("text"), blank=True)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    # The random token of the concept form the message was sent from: sending the same form twice
    # (a double click, a reload) sends one message.
    concept_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The sending box's own key of a message sent over the API: a retry with the same reference
    # (a lost answer, a timeout) sends nothing new. Null for a message sent from the web pages.
    reference = models.CharField(
        _("sender's reference"), max_length=REFERENCE_MAX_LENGTH, null=True, blank=True
    )

    class Meta:
        verbose_name = _("data message")
        verbose_name_plural = _("data messages")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["recipient_box", "id"], name="isds_msg_recipient_feed")]
        constraints = [
            # A published identity is there exactly when the sender chose to publish it.
            models.CheckConstraint(
                condition=models.Q(identity_published=True, sender_identity__isnull=False)
                | models.Q(identity_published=False, sender_identity__isnull=True),
                name="isds_identity_when_published",
            ),
            models.UniqueConstraint(
                fields=["sender_box", "reference"], name="isds_one_message_per_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.sender_box.box_id} → {self.recipient_box.box_id}: {self.subject}"
