"""The helpdesk's own records: the callers an operator verified (the window to act for them), and
the officially verified paper forms asking for a login reset, with their scans."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScanStorage(FileSystemStorage):
    """Where the scans are kept: under VAR_DIR (read at each use), outside anything served; no
    URL at all — a supervisor sees a scan only through the admin's permission-checked view."""

    @property
    def base_location(self) -> Path:
        return Path(settings.VAR_DIR) / "helpdesk" / "forms"

    @property
    def location(self) -> str:
        return str(self.base_location.resolve())

    @property
    def base_url(self) -> None:
        return None


scan_storage = ScanStorage()


class VerifiedCall(models.Model):
    """An operator verified a caller as the account's holder (all six details matched): until
    `until`, that operator — no other — may see the account's identity data and act for it."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("operator"),
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )
    verified_at = models.DateTimeField(_("verified"), auto_now_add=True)
    until = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("verified call")
        verbose_name_plural = _("verified calls")
        indexes = [models.Index(fields=["operator", "account", "until"])]
        permissions = [("verify_caller", _("Can verify a caller and act for them"))]

    def __str__(self) -> str:
        return f"{self.operator} → {self.account}"


class ResetFormState(models.TextChoices):
    WAITING = "waiting", _("Waiting for a supervisor")
    APPROVED = "approved", _("Approved: login reset")
    REJECTED = "rejected", _("Rejected")


class ResetForm(models.Model):
    """A received paper form asking for a login reset, officially verified (e.g. the Czech POINT
    legalisation): recorded by one staff member, decided by another with the supervisor role."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
    )
    reference = models.CharField(_("verification reference"), max_length=100)
    verified_on = models.DateField(_("verified on"))
    scan = models.FileField(_("scan"), storage=scan_storage, upload_to="%Y/%m/")
    scan_type = models.CharField(_("scan type"), max_length=40)
    state = models.CharField(
        _("state"), max_length=16, choices=ResetFormState.choices, default=ResetFormState.WAITING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("verified reset form")
        verbose_name_plural = _("verified reset forms")
        ordering = ["-recorded_at"]
        permissions = [("decide_resetform", _("Can approve or reject a verified reset form"))]

    def __str__(self) -> str:
        return f"{self.account} — {self.reference}"
