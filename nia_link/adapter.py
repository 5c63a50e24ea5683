"""The NIA link's side of the two-factor adapter (`twofactor.adapter`): what happens to the link
when the second factors change."""

from accounts.models import User
from twofactor.adapter import TwoFactorAdapter
from twofactor.exceptions import LinkedServiceUnavailable

from . import services
from .exceptions import NiaUnavailable


class NiaLinkAdapter(TwoFactorAdapter):
    def factors_reset(self, user: User, *, actor: User | None) -> bool:
        """A two-factor reset ends the account's NIA link (the link rests on those factors)."""
        try:
            return services.cancel_link(user, reason="two_factor_reset", actor=actor)
        except NiaUnavailable as problem:
            raise LinkedServiceUnavailable(problem.message) from problem
