from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovsimConfig(AppConfig):
    """The simulated world's own parts: the outage switches and its admin site."""

    name = "govsim"
    verbose_name = _("Simulated state systems")
    default_auto_field = "django.db.models.BigAutoField"
