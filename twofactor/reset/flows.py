"""Request-bound steps of the two-factor reset: the per-client limits, then the services.

The services count per account; these count per client address too (an attacker with many
accounts' passwords must not start resets for all of them from one place).
"""

from django.http import HttpRequest

from accounts import ratelimit
from accounts.models import User

from ..adapter import get_adapter
from ..models import TwoFactorReset
from . import services

STARTS_PER_ADDRESS_PER_HOUR = 10
ATTEMPTS_PER_ADDRESS_PER_HOUR = 30


def start(request: HttpRequest, user: User) -> TwoFactorReset:
    """Send PIN1 and PIN2 for `user` (see `services.do_start_reset`); limited per client too."""
    ratelimit.hit_address(request, "two-factor-reset-start", limit=STARTS_PER_ADDRESS_PER_HOUR)
    return services.do_start_reset(user, request=request)


def complete(request: HttpRequest, reset: TwoFactorReset, **answers: str) -> None:
    """Check the answers (see `services.do_complete_reset`); limited per client too. A service
    above that must hear of the reset (NIA) is asked first, outside the reset's transaction:
    LinkedServiceUnavailable, and nothing changes, while it cannot be reached."""
    ratelimit.hit_address(request, "two-factor-reset-attempt", limit=ATTEMPTS_PER_ADDRESS_PER_HOUR)
    get_adapter().ensure_linked_services_answer(reset.user)
    services.do_complete_reset(reset, **answers, request=request)
