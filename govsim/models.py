"""The outage switches of the simulated systems (see `govsim.outage`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
