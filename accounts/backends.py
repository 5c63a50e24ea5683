"""Sign-in with a username or an e-mail address, throttled in one place for every login path."""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .audit import client_address, record
from .models import AuditEvent, User
from .throttling import LoginThrottle


def normalize_identifier(identifier: str) -> str:
    return identifier.strip().lower()


def find_user(identifier: str) -> User | None:
    """The account named by a username, or by an e-mail address.

    An address belongs to the account that confirmed it. Until somebody has, several accounts may
    have typed it at registration: it then names an account only if it names exactly one.
    """
    if "@" not in identifier:
        try:
            # A unique column: no ordering, no join beyond the lookup (this is the hot path).
            return User.objects.get(username=identifier)
        except User.DoesNotExist:
            return None
    owner = User.objects.filter(
        profile__email=identifier, profile__email_confirmed_at__isnull=False
    ).first()
    if owner is not None:
        return owner
    claimants = list(User.objects.filter(profile__email=identifier)[:2])
    return claimants[0] if len(claimants) == 1 else None


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend, looking users up by username or e-mail and throttling failures.

    A throttled attempt, an unknown user and a wrong password all return None, so every caller
    (our login page, the admin login) shows the same generic error.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ) -> User | None:
        if not username or password is None:
            return None
        identifier = normalize_identifier(username)
        user = find_user(identifier)
        # One counter per account, whether it is named by username or e-mail; unknown names count
        # by what was typed, so that they are throttled alike.
        account_key = f"user:{user.pk}" if user is not None else f"name:{identifier}"
        throttle = LoginThrottle(account_key, client_address(request))
        # Counted before the password is checked, so parallel guesses each take an attempt.
        if not throttle.reserve():
            return None
        if user is None:
            # Spend the same time as a real check so that timing does not reveal unknown users.
            User().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            throttle.give_back()
            return user
        if user is not None:
            record(AuditEvent.Kind.LOGIN_FAILED, user=user, request=request)
        return None
