from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from . import signals  # noqa: F401  (connects the receivers)

        # The audit log records every sign-in; a second copy in User.last_login would cost a
        # write per login and could disagree with it.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
