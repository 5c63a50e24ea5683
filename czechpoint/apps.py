from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CzechpointConfig(AppConfig):
    name = "czechpoint"
    verbose_name = _("Czech POINT")
