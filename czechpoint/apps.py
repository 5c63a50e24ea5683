"""The Czech POINT desk app; makes sure its clerks' group exists after every migrate."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CzechpointConfig(AppConfig):
    name = "czechpoint"
    verbose_name = _("Czech POINT")

    def ready(self) -> None:
        from .services import ensure_clerks_group

        # After every migrate (Django's own handler has created the permission by then), so that
        # the clerks' group exists wherever the desk does.
        post_migrate.connect(
            lambda **kwargs: ensure_clerks_group(using=kwargs.get("using", "default")),
            sender=self,
            dispatch_uid="czechpoint.clerks_group",
            weak=False,
        )
