"""Failed-login throttling per account and per client address.

The first few failures are free; after that each attempt must wait a delay that doubles with every
failure up to a ceiling, and past the hourly maximum the key is blocked until its hour ends
(OWASP ASVS 2.2.1: at most 100 failed attempts an hour on one account). Counters live in the
shared cache; a throttled attempt is refused before the password is checked and does not count.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class _Key:
    scope: str  # "account" or "address"
    value: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()[:32]

    @property
    def count_key(self) -> str:
        return f"login-throttle:{self.scope}:{self.digest}:count"

    @property
    def last_key(self) -> str:
        return f"login-throttle:{self.scope}:{self.digest}:last"

    @property
    def policy(self) -> dict:
        return settings.LOGIN_THROTTLE[self.scope]


def _wait_seconds(policy: dict, count: int, last_failure: float | None, now: float) -> float:
    if count >= policy["max_per_hour"]:
        return float("inf")
    if count < policy["free"] or last_failure is None:
        return 0.0
    delay = min(2 ** (count - policy["free"]), policy["max_delay"])
    return max(0.0, last_failure + delay - now)


class LoginThrottle:
    """Throttle state for one login attempt: who it names and where it comes from."""

    def __init__(self, identifier: str, address: str | None):
        self.keys = [_Key("account", identifier)]
        if address:
            self.keys.append(_Key("address", address))

    def retry_after(self) -> float:
        """Seconds until an attempt may be checked: 0 now, inf when blocked for the hour."""
        stored = cache.get_many([k for key in self.keys for k in (key.count_key, key.last_key)])
        now = time.time()
        return max(
            _wait_seconds(key.policy, stored.get(key.count_key, 0), stored.get(key.last_key), now)
            for key in self.keys
        )

    def record_failure(self) -> None:
        now = time.time()
        for key in self.keys:
            # add() starts the hour at the first failure; incr() keeps that expiry.
            cache.add(key.count_key, 0, WINDOW_SECONDS)
            try:
                cache.incr(key.count_key)
            except ValueError:  # expired between add() and incr()
                cache.set(key.count_key, 1, WINDOW_SECONDS)
            cache.set(key.last_key, now, WINDOW_SECONDS)

    def record_success(self) -> None:
        """A right password clears the account's counter, not the address's."""
        account = self.keys[0]
        cache.delete_many([account.count_key, account.last_key])
