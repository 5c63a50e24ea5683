"""Failed-login throttling per account and per client address.

The first few failures are free; after that each attempt must wait a delay that doubles with every
failure up to a ceiling, and past the hourly maximum the key is blocked until its hour ends
(OWASP ASVS 2.2.1: at most 100 failed attempts an hour on one account). Counters live in the
shared cache.

An attempt is *reserved* before the password is checked: in one atomic step the attempt is checked
against the delay and the cap of every key it names and counted on all of them, and a right
password gives it back. So parallel requests cannot all pass one free slot: each sees the ones
reserved before it. A throttled attempt is refused before the password is checked and does not
count. Per-address keys count IPv6 clients by their /64 (`ratelimit.address_key`).

How the step is made atomic depends on where the counters live, one way for each cache the
settings allow:

- Redis (production, the tests, the benchmark): one Lua script (`_SCRIPT`) checks and counts all
  keys at once; Redis runs a script with nothing in between, and it costs one round trip, where
  locks and separate reads and writes cost nine. The give-back is one more call of the script.
- Local memory (the embedded default, one web process): the same rule in Python
  (`_wait_seconds`, `_reserve_locally`) under a lock of the process, which holds the counters.

Both keep, per key, one record: the attempts counted in the current hour, when that hour started
(the first attempt) and when the last attempt was. Tests run the rule on both.
"""

import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from mojeid.cache import RedisCache

from .ratelimit import address_key

WINDOW_SECONDS = 3600

CHECK, RESERVE, GIVE_BACK = "check", "reserve", "give_back"

# KEYS: one hash per key of the attempt (count, start, last), the account's first.
# ARGV: the action, now (seconds since the epoch, the caller's clock), the window, and then
# free, max_delay and max_per_hour of each key in turn. Returns the seconds to wait as a string
# ("0": reserved or free now; "inf": blocked for the hour): Redis would truncate a Lua number.
# The same rule as `_wait_seconds` and `_reserve_locally`, which the tests hold to it.
_SCRIPT = """
local action, now, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if action == 'give_back' then
  redis.call('DEL', KEYS[1])
  for i = 2, #KEYS do
    if (tonumber(redis.call('HGET', KEYS[i], 'count')) or 0) > 0 then
      redis.call('HINCRBY', KEYS[i], 'count', -1)
    end
  end
  return '0'
end
local wait, fresh = 0, {}
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[3 * i + 1])
  local max_delay, cap = tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  local count, started, last = unpack(redis.call('HMGET', key, 'count', 'start', 'last'))
  count, started, last = tonumber(count) or 0, tonumber(started), tonumber(last)
  if started == nil or now - started >= window then
    fresh[i] = true
  elseif count >= cap then
    return 'inf'
  elseif count >= free and last then
    wait = math.max(wait, last + math.min(2 ^ (count - free), max_delay) - now)
  end
end
if wait > 0 or action == 'check' then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  if fresh[i] then
    redis.call('HSET', key, 'count', 1, 'start', ARGV[2], 'last', ARGV[2])
  else
    redis.call('HINCRBY', key, 'count', 1)
    redis.call('HSET', key, 'last', ARGV[2])
  end
  redis.call('EXPIRE', key, window)
end
return '0'
"""

# The local-memory cache lives in this process, so a lock of the process orders every change.
_LOCAL_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Key:
    scope: str  # "account" or "address"
    value: str

    @property
    def name(self) -> str:
        return f"login-throttle:{self.scope}:{hashlib.sha256(self.value.encode()).hexdigest()[:32]}"

    @property
    def policy(self) -> dict:
        return settings.LOGIN_THROTTLE[self.scope]


# (count, start, last) of one key; None when it has no attempts.
_Record = tuple[int, float, float] | None


def _wait_seconds(policy: dict, record: _Record, now: float) -> float:
    """How long the next attempt on a key must wait: 0 now, inf when blocked for the hour."""
    if record is None:
        return 0.0
    count, started, last = record
    if now - started >= WINDOW_SECONDS:
        return 0.0  # the hour runs from the first attempt; the cache's expiry only tidies up
    if count >= policy["max_per_hour"]:
        return float("inf")
    if count < policy["free"]:
        return 0.0
    delay = min(2 ** (count - policy["free"]), policy["max_delay"])
    return max(0.0, last + delay - now)


def _reserve_locally(cache: LocMemCache, keys: list[_Key], action: str, now: float) -> float:
    """`_SCRIPT`'s rule for the local-memory cache."""
    with _LOCAL_LOCK:
        if action == GIVE_BACK:
            cache.delete(keys[0].name)
            for key in keys[1:]:
                record = cache.get(key.name)
                if record and record[0] > 0:
                    cache.set(key.name, (record[0] - 1, *record[1:]), WINDOW_SECONDS)
            return 0.0
        records = cache.get_many([key.name for key in keys])
        wait = max(_wait_seconds(key.policy, records.get(key.name), now) for key in keys)
        if wait > 0 or action == CHECK:
            return wait
        counted = {}
        for key in keys:
            record = records.get(key.name)
            if record is None or now - record[1] >= WINDOW_SECONDS:
                counted[key.name] = (1, now, now)
            else:
                counted[key.name] = (record[0] + 1, record[1], now)
        cache.set_many(counted, WINDOW_SECONDS)
        return 0.0


class LoginThrottle:
    """Throttle state for one login attempt: who it names and where it comes from."""

    def __init__(self, identifier: str, address: str | None):
        # The account's key first: a right password clears it and returns the others' attempt.
        self.keys = [_Key("account", identifier)]
        if address:
            self.keys.append(_Key("address", address_key(address)))

    def retry_after(self) -> float:
        """Seconds until an attempt may be checked: 0 now, inf when blocked for the hour."""
        return self._run(CHECK)

    def reserve(self) -> bool:
        """Count this attempt on every key before the password is checked; False if throttled.

        A refused attempt counts nowhere. A right password then calls `give_back`.
        """
        return self._run(RESERVE) == 0

    def give_back(self) -> None:
        """A right password: the account's failures are forgiven, the address's count returns
        the one attempt it reserved."""
        self._run(GIVE_BACK)

    def _run(self, action: str) -> float:
        cache, now = caches["default"], time.time()
        if isinstance(cache, RedisCache):
            arguments = [action, repr(now), WINDOW_SECONDS]
            for key in self.keys:
                policy = key.policy
                arguments += [policy["free"], policy["max_delay"], policy["max_per_hour"]]
            names = [cache.make_and_validate_key(key.name) for key in self.keys]
            return float(cache.script(_SCRIPT)(keys=names, args=arguments))
        if isinstance(cache, LocMemCache):
            return _reserve_locally(cache, self.keys, action, now)
        raise ImproperlyConfigured(
            "The login throttle needs the Redis cache (mojeid.cache.RedisCache) or, in a single "
            "process, the local-memory cache."
        )
