"""The Czech POINT desk app. Its clerks are the simulator's own people (`govsim.StaffMember`)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CzechpointConfig(AppConfig):
    name = "czechpoint"
    verbose_name = _("Czech POINT")
