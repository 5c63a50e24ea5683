"""The one customisation surface of accounts: what other apps add to signing in.

`settings.ACCOUNTS_ADAPTER` names the class; the two-factor app provides one that asks for a
security key after the password.
"""

from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string


class AccountAdapter:
    def second_step_url(self, request: HttpRequest, user, next_url: str) -> str | None:
        """Where to go after a right password instead of signing in at once (None: sign in)."""
        return None


@cache
def get_adapter() -> AccountAdapter:
    return import_string(settings.ACCOUNTS_ADAPTER)()
