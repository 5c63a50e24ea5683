"""The accounts adapter of this portal: a security key after the password, once a user has one.

This holds for signing in and for re-authentication alike, so a stolen session plus a guessed
password is not enough to change the account.
"""

from django.urls import reverse

from accounts.adapter import AccountAdapter

from . import flows


class TwoFactorAccountAdapter(AccountAdapter):
    def second_step_url(self, request, user, next_url: str) -> str | None:
        # Any key counts, a blocked one too: a cloned key must not turn into password-only login.
        if not user.security_keys.exists():
            return None
        flows.park_login(request, user, next_url)
        return reverse("twofactor:login_key")

    def reauthentication_template(self, request, user) -> str | None:
        return "twofactor/reauth_key.html" if user.security_keys.exists() else None

    def verify_reauthentication(self, request, user, data) -> bool:
        if not user.security_keys.exists():
            return True
        return flows.verify_reauthentication(request, user, data.get("credential", ""))
