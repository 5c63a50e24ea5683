"""The one customisation surface of accounts: what other apps add to signing in.

`settings.ACCOUNTS_ADAPTER` names the class; the two-factor app provides one that asks for a
security key after the password, at sign-in and at re-authentication alike.
"""

from functools import cache

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils.module_loading import import_string


class AccountAdapter:
    def second_step_url(self, request: HttpRequest, user, next_url: str) -> str | None:
        """Where to go after a right password instead of signing in at once (None: sign in)."""
        return None

    def reauthentication_template(self, request: HttpRequest, user) -> str | None:
        """A template to include in the re-authentication form for a second factor, or None."""
        return None

    def second_factor_missing(self, request: HttpRequest) -> bool:
        """True when the signed-in user has a second factor this session has not proved.

        Such a session came in by a path that skipped the second step (the admin's own login,
        say); `SecondFactorMiddleware` ends it.
        """
        return False

    def verify_reauthentication(self, request: HttpRequest, user, data: QueryDict) -> bool:
        """Check the second factor posted with the password; True when none is needed.

        Called whatever the password turned out to be, so that a one-time challenge is spent.
        """
        return True


@cache
def get_adapter() -> AccountAdapter:
    return import_string(settings.ACCOUNTS_ADAPTER)()
