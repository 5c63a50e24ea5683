from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from .roles import ensure_helpdesk_group, ensure_supervisor_group

        def ensure_roles(**kwargs) -> None:
            ensure_helpdesk_group(using=kwargs.get("using", "default"))
            ensure_supervisor_group(using=kwargs.get("using", "default"))

        # After every migrate (the permissions exist by then), so the roles are always there.
        post_migrate.connect(
            ensure_roles,
            sender=self,
            dispatch_uid="helpdesk.helpdesk_group",
            weak=False,
        )


class HelpdeskAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the helpdesk's site (`helpdesk.sites`) as `admin.site`."""

    default = False  # `helpdesk` itself is HelpdeskConfig; this one is named in INSTALLED_APPS
    default_site = "helpdesk.sites.HelpdeskAdminSite"
