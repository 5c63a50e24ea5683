import warnings

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# pysaml2 7.5 names cryptography's CFB mode, which cryptography 50 deprecates; it warns at import
# in every process. Nothing here uses CFB.
warnings.filterwarnings("ignore", message="CFB has been moved")


class Config(AppConfig):
    name = "govsim.nia"
    label = "sim_nia"
    verbose_name = _("NIA (simulator)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the receivers)
