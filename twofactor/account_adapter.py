"""The accounts adapter of this portal: a second factor after the password, once a user has one.

A security key if the user has any, else MojeID Klíč. This holds for signing in and for
re-authentication alike, so a stolen session plus a guessed password is not enough to change the
account.
"""

from django.urls import reverse

from accounts.adapter import AccountAdapter

from . import flows
from .klic import flows as klic_flows
from .klic import services as klic_services


class TwoFactorAccountAdapter(AccountAdapter):
    def second_step_url(self, request, user, next_url: str) -> str | None:
        # Any key counts, a blocked one too: a cloned key must not turn into password-only
        # login. Likewise a blocked Klíč still asks for the second step (where it says so).
        if user.security_keys.exists():
            flows.park_login(request, user, next_url)
            return reverse("twofactor:login_key")
        if klic_services.active_device(user):
            flows.park_login(request, user, next_url)
            return reverse("twofactor:klic:login")
        return None

    def second_factor_missing(self, request) -> bool:
        user = request.user
        if user.is_verified():  # django-otp: a key or the app completed this session's sign-in
            return False
        return user.security_keys.exists() or klic_services.active_device(user) is not None

    def reauthentication_template(self, request, user) -> str | None:
        if user.security_keys.exists():
            return "twofactor/reauth_key.html"
        if klic_services.active_device(user):
            return "twofactor/klic/reauth.html"
        return None

    def verify_reauthentication(self, request, user, data) -> bool:
        if user.security_keys.exists():
            return flows.verify_reauthentication(request, user, data.get("credential", ""))
        if klic_services.active_device(user):
            _, device = klic_flows.answer(request, user, purpose=klic_flows.REAUTHENTICATE)
            return device is not None
        return True
