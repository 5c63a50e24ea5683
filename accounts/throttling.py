"""Failed-login throttling per account and per client address.

The first few failures are free; after that each attempt must wait a delay that doubles with every
failure up to a ceiling, and past the hourly maximum the key is blocked until its hour ends
(OWASP ASVS 2.2.1: at most 100 failed attempts an hour on one account). Counters live in the
shared cache.

An attempt is *reserved* before the password is checked: under a short lock per key the attempt
is checked against the delay and the cap and counted, and a right password gives it back. So
parallel requests cannot all pass one free slot: each sees the ones reserved before it. A
throttled attempt is refused before the password is checked and does not count. Per-address keys
count IPv6 clients by their /64 (`ratelimit.address_key`).
"""

import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .ratelimit import address_key

WINDOW_SECONDS = 3600
# A lock is held for a few cache round trips; a holder that died frees it after LOCK_SECONDS.
LOCK_SECONDS = 5
# Far longer than any holder needs. An attempt that cannot get the lock by then is throttled.
LOCK_WAIT_SECONDS = 2.0
LOCK_POLL_SECONDS = 0.002


@dataclass(frozen=True)
class _Key:
    scope: str  # "account" or "address"
    value: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()[:32]

    def _name(self, part: str) -> str:
        return f"login-throttle:{self.scope}:{self.digest}:{part}"

    @property
    def count_key(self) -> str:
        return self._name("count")

    @property
    def last_key(self) -> str:
        return self._name("last")

    @property
    def start_key(self) -> str:
        return self._name("start")

    @property
    def lock_key(self) -> str:
        return self._name("lock")

    @property
    def all_keys(self) -> list[str]:
        return [self.count_key, self.last_key, self.start_key]

    @property
    def policy(self) -> dict:
        return settings.LOGIN_THROTTLE[self.scope]


def _wait_seconds(policy: dict, stored: dict, key: _Key, now: float) -> float:
    """How long the next attempt on `key` must wait: 0 now, inf when blocked for the hour."""
    started = stored.get(key.start_key)
    if started is None or now - started >= WINDOW_SECONDS:
        return 0.0
    count, last_attempt = stored.get(key.count_key, 0), stored.get(key.last_key)
    if count >= policy["max_per_hour"]:
        return float("inf")
    if count < policy["free"] or last_attempt is None:
        return 0.0
    delay = min(2 ** (count - policy["free"]), policy["max_delay"])
    return max(0.0, last_attempt + delay - now)


@contextmanager
def _locked(names: list[str]) -> Iterator[bool]:
    """Hold the cache locks `names` (taken in this order); yields False if they stay busy."""
    token = secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    taken: list[str] = []
    try:
        for name in names:
            while not cache.add(name, token, LOCK_SECONDS):
                if time.monotonic() > deadline:
                    break
                time.sleep(LOCK_POLL_SECONDS)
            else:
                taken.append(name)
                continue
            break
        yield len(taken) == len(names)
    finally:
        # Only locks still ours: a holder that outlived LOCK_SECONDS must not free the next
        # holder's lock. (Between get and delete another may take it; the window is a round
        # trip, against the seconds a lapsed lock was held.)
        held = cache.get_many(taken) if taken else {}
        mine = [name for name in taken if held.get(name) == token]
        if mine:
            cache.delete_many(mine)


class LoginThrottle:
    """Throttle state for one login attempt: who it names and where it comes from."""

    def __init__(self, identifier: str, address: str | None):
        # The account's key first: every attempt takes the locks in the same order.
        self.keys = [_Key("account", identifier)]
        if address:
            self.keys.append(_Key("address", address_key(address)))

    def retry_after(self) -> float:
        """Seconds until an attempt may be checked: 0 now, inf when blocked for the hour."""
        stored = cache.get_many([name for key in self.keys for name in key.all_keys])
        now = time.time()
        return max(_wait_seconds(key.policy, stored, key, now) for key in self.keys)

    def reserve(self) -> bool:
        """Count this attempt on every key before the password is checked; False if throttled.

        A refused attempt counts nowhere. A right password then calls `give_back`.
        """
        with _locked([key.lock_key for key in self.keys]) as locked:
            if not locked:
                return False
            stored = cache.get_many([name for key in self.keys for name in key.all_keys])
            now = time.time()
            if any(_wait_seconds(key.policy, stored, key, now) > 0 for key in self.keys):
                return False
            fresh: dict = {}
            for key in self.keys:
                started = stored.get(key.start_key)
                # The hour runs from the first attempt. The cache's own expiry only tidies up;
                # the stored start decides, so that one clock rules the window.
                if started is None or now - started >= WINDOW_SECONDS:
                    fresh.update({key.count_key: 1, key.start_key: now})
                else:
                    try:
                        cache.incr(key.count_key)
                    except ValueError:  # evicted meanwhile
                        fresh[key.count_key] = 1
                fresh[key.last_key] = now
            cache.set_many(fresh, WINDOW_SECONDS)
        return True

    def give_back(self) -> None:
        """A right password: the account's failures are forgiven, the address's count returns
        the one attempt it reserved."""
        cache.delete_many(self.keys[0].all_keys)
        for key in self.keys[1:]:
            with suppress(ValueError):  # the window ended meanwhile: nothing to give back
                cache.decr(key.count_key)
