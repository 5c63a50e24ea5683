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
    def start_key(self) -> str:
        return f"login-throttle:{self.scope}:{self.digest}:start"

    @property
    def all_keys(self) -> list[str]:
        return [self.count_key, self.last_key, self.start_key]

    @property
    def policy(self) -> dict:
        return settings.LOGIN_THROTTLE[self.scope]


def _wait_seconds(policy: dict, stored: dict, key: _Key, now: float) -> float:
    started = stored.get(key.start_key)
    if started is None or now - started >= WINDOW_SECONDS:
        return 0.0
    count, last_failure = stored.get(key.count_key, 0), stored.get(key.last_key)
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
        stored = cache.get_many([name for key in self.keys for name in key.all_keys])
        self._account_has_failures = self.keys[0].start_key in stored
        now = time.time()
        return max(_wait_seconds(key.policy, stored, key, now) for key in self.keys)

    def record_failure(self) -> None:
        now = time.time()
        stored = cache.get_many([key.start_key for key in self.keys])
        for key in self.keys:
            started = stored.get(key.start_key)
            # The hour runs from the first failure. The cache's own expiry only tidies up; the
            # stored start decides, so that one clock rules the window.
            if started is None or now - started >= WINDOW_SECONDS:
                cache.set_many({key.count_key: 1, key.start_key: now}, WINDOW_SECONDS)
            else:
                try:
                    cache.incr(key.count_key)
                except ValueError:  # evicted meanwhile
                    cache.set(key.count_key, 1, WINDOW_SECONDS)
            cache.set(key.last_key, now, WINDOW_SECONDS)

    def record_success(self) -> None:
        """A right password clears the account's counter, not the address's."""
        if getattr(self, "_account_has_failures", True):
            cache.delete_many(self.keys[0].all_keys)
