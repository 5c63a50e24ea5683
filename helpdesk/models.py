"""The helpdesk's own records: the callers an operator verified (the window to act for them)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
