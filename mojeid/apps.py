from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MojeidConfig(AppConfig):
    name = "mojeid"
    verbose_name = _("Portal infrastructure")
