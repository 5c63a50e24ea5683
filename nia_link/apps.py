from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NiaLinkConfig(AppConfig):
    name = "nia_link"
    verbose_name = _("Access to public administration")
