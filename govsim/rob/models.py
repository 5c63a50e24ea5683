"""The simulated base register of inhabitants (ROB).

A citizen is known to the outside world only by an opaque identifier. Data-provision requests
("Data provision from the Register of inhabitants to another person") are filed at the Czech POINT
desk for a recipient such as the MojeID portal, which reads them, and later the changes of those
citizens' data, through the register's JSON API with its own API key.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ResidenceType(models.TextChoices):
    CITIZEN = "citizen", _("citizen with permanent residence")
    FOREIGNER_PERMANENT = "foreigner_permanent", _("foreigner with permanent residence")
    FOREIGNER_TEMPORARY = (
        "foreigner_temporary",
        _("foreigner with temporary residence (residence certificate)"),
    )
    NONE = "none", _("no residence")


class Citizen(models.Model):
    identifier = models.UUIDField(_("identifier"), default=uuid.uuid4, unique=True, editable=False)
    first_names = models.CharField(_("first name(s)"), max_length=200)
    last_name = models.CharField(_("last name"), max_length=200)
    birth_date = models.DateField(_("birth date"))
    birth_place = models.CharField(_("birth place"), max_length=200)
    citizenship = models.CharField(_("citizenship"), max_length=2, default="CZ")  # ISO 3166
    residence_type = models.CharField(
        _("residence type"), max_length=24, choices=ResidenceType.choices
    )
    # Permanent address, structured as the register keeps it (RÚIAN address point).
    street = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=10, blank=True)
    orientation_number = models.CharField(_("orientation number"), max_length=10, blank=True)
    municipality_part = models.CharField(_("part of municipality"), max_length=200, blank=True)
    municipality = models.CharField(_("municipality"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    address_point_code = models.PositiveIntegerField(_("address point code"), null=True, blank=True)
    data_box_id = models.CharField(_("data box"), max_length=7, blank=True)
    deceased = models.BooleanField(_("deceased"), default=False)
    death_date = models.DateField(_("date of death"), null=True, blank=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        indexes = [models.Index(fields=["last_name", "birth_date"])]

    def __str__(self) -> str:
        return f"{self.first_names} {self.last_name} ({self.birth_date:%d. %m. %Y})"


class DocumentKind(models.TextChoices):
    ID_CARD = "id_card", _("identity card (eObčanka)")
    PASSPORT = "passport", _("passport")
    RESIDENCE_CERTIFICATE = "residence_certificate", _("temporary residence certificate")


class IdDocument(models.Model):
    # Never filtered, searched or sorted in an admin (adminguard): a hash is still a secret.
    SECRET_FIELDS = ("card_pin",)

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=20)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # eObčanka only: whether its chip is activated for signing in through NIA, and the chip's PIN
    # (a password hash; the NIA simulator asks for it).
    nia_activated = models.BooleanField(_("activated for NIA"), default=False)
    card_pin = models.CharField(_("card PIN (hash)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="one_document_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Recipient(models.Model):
    """Another person the register provides data to (the MojeID portal), with its API key."""

    SECRET_FIELDS = ("api_key_hash",)

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), unique=True)
    api_key_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("data recipient")
        verbose_name_plural = _("data recipients")

    def __str__(self) -> str:
        return self.name


class DataProvisionRequest(models.Model):
    """ "Data provision from the Register of inhabitants to another person", filed at the desk."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="requests")
    request_code = models.CharField(_("recipient's request code"), max_length=32)
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="provisions")
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)
    # The simulator's own person who filed it (never a portal account).
    clerk = models.ForeignKey(
        "govsim.StaffMember",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    office = models.CharField(_("office"), max_length=200)
    document = models.ForeignKey(
        IdDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A foreigner identified by a residence certificate: the names and birth date as the clerk
    # typed them from the document, diacritics included.
    stated_first_names = models.CharField(max_length=200, blank=True)
    stated_last_name = models.CharField(max_length=200, blank=True)
    stated_birth_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("data provision request")
        verbose_name_plural = _("data provision requests")

    def __str__(self) -> str:
        return f"{self.request_code} → {self.recipient}"


class CitizenChange(models.Model):
    """One change of a citizen's data, for the recipients' change feed (ids only grow)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    fields = models.JSONField(default=list)  # names of the fields that changed

    class Meta:
        verbose_name = _("change of citizen data")
        verbose_name_plural = _("changes of citizen data")

    def __str__(self) -> str:
        return f"{self.citizen_id}: {', '.join(self.fields)}"
