"""The transactional outbox: every e-mail and SMS the portal sends is first a row here.

The row is written in the same database transaction as the change that caused it, so a message is
never lost and never sent for a change that rolled back. A Celery task delivers it after commit;
if the broker was down, the periodic drain picks it up later.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    # Never filtered, searched, sorted or shown in any admin (see adminguard).
    SECRET_FIELDS = ("body",)

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    # Which message it is (`templates/mail/<template>…`): what support needs once the body is gone.
    template = models.CharField(_("template"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    # Blanked as soon as the message is delivered: bodies hold confirmation codes and links.
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), auto_now_add=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        # Never the body: it holds confirmation codes, and this string shows up in the admin.
        return f"{self.get_channel_display()} → {self.recipient} ({self.created_at:%Y-%m-%d %H:%M})"
