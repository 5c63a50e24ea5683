"""A fixed-window rate limit over the shared cache, for sensitive actions."""

import hashlib

from django.core.cache import cache


class RateLimited(Exception):
    """Too many attempts at one action; `retry_after` says how long the window lasts."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"rate limited, retry within {retry_after} s")


def hit(action: str, key: str, *, limit: int, per_seconds: int) -> None:
    """Count one attempt at `action` by `key`; raise RateLimited past `limit` in the window."""
    cache_key = f"ratelimit:{action}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    cache.add(cache_key, 0, per_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, per_seconds)
        count = 1
    if count > limit:
        raise RateLimited(per_seconds)
