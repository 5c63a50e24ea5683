"""The accounts adapter of this portal: a second factor after the password, once a user has one.

A security key if the user has any, else MojeID Klíč. This holds for signing in and for
re-authentication alike, so a stolen session plus a guessed password is not enough to change the
account.
"""

from django.db import connection
from django.urls import reverse

from accounts.adapter import AccountAdapter
from accounts.models import User

from . import flows
from .klic import flows as klic_flows

KEY, KLIC = "key", "klic"


def second_factor(user: User) -> str | None:
    """The factor `user` proves after the password: KEY if they have any security key, else KLIC
    if they have a confirmed MojeID Klíč, else None.

    Any key counts, a blocked one too: a cloned key must not turn into password-only login.
    Likewise a blocked Klíč still asks for the second step (where it says so).
    """
    # One statement in SQL: this runs at every sign-in, and on this path building the same
    # question with the ORM (two Exists subqueries) costs more than the database answering it.
    with connection.cursor() as cursor:
        cursor.execute(_SECOND_FACTOR_SQL, [user.pk, user.pk])
        has_key, has_klic = cursor.fetchone()
    return KEY if has_key else KLIC if has_klic else None


_SECOND_FACTOR_SQL = (
    "SELECT EXISTS (SELECT 1 FROM twofactor_securitykey WHERE user_id = %s), "
    "EXISTS (SELECT 1 FROM twofactor_klicdevice WHERE user_id = %s AND confirmed)"
)


class TwoFactorAccountAdapter(AccountAdapter):
    def second_step_url(self, request, user, next_url: str) -> str | None:
        factor = second_factor(user)
        if factor is None:
            return None
        flows.park_login(request, user, next_url)
        return reverse("twofactor:login_key" if factor == KEY else "twofactor:klic:login")

    def second_factor_missing(self, request) -> bool:
        user = request.user
        if user.is_verified():  # django-otp: a key or the app completed this session's sign-in
            return False
        return second_factor(user) is not None

    def reauthentication_template(self, request, user) -> str | None:
        return {KEY: "twofactor/reauth_key.html", KLIC: "twofactor/klic/reauth.html"}.get(
            second_factor(user)
        )

    def verify_reauthentication(self, request, user, data) -> bool:
        factor = second_factor(user)
        if factor == KEY:
            return flows.verify_reauthentication(request, user, data.get("credential", ""))
        if factor == KLIC:
            _, device = klic_flows.answer(request, user, purpose=klic_flows.REAUTHENTICATE)
            return device is not None
        return True
