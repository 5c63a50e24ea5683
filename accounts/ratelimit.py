"""Fixed-window rate limits of sensitive actions over the shared cache, per account or per client.

`hit` counts one attempt under any key (an account, a device); `hit_address` counts it under the
client's address, the way every per-address limit of the portal counts: an IPv4 address as it is,
an IPv6 address by its /64 network, since a single client is usually given a whole /64 and can
change address on every request within it.
"""

import hashlib
import ipaddress

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from .audit import client_address

IPV6_CLIENT_PREFIX = 64


class RateLimited(Exception):
    """Too many attempts at one action; `retry_after` says how long the window lasts."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"rate limited, retry within {retry_after} s")


def address_key(address: str | None) -> str:
    """What per-address limits count for `address`: the IPv4 address, or the IPv6 /64 network.

    An IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`) or carried by 6to4 (`2002:c000:201::`,
    which gives any IPv4 holder a whole /48) counts as that IPv4 address. A port a proxy may
    have added (`192.0.2.1:5678`, `[2001:db8::1]:443`) is ignored. Anything that is no address
    at all counts as one shared client, never as a new one per spelling.
    """
    if not address:
        return "-"
    parsed = _parse_address(address.strip())
    if parsed is None:
        return "unparseable"
    if parsed.version == 6:
        parsed = parsed.ipv4_mapped or parsed.sixtofour or parsed
    if parsed.version == 4:
        return str(parsed)
    network = ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False)
    return str(network)


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if text.startswith("[") and "]" in text:  # [v6] or [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


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


def hit_address(
    request: HttpRequest | None, action: str, *, limit: int, per_seconds: int = 3600
) -> None:
    """Count one attempt at `action` from the request's client (see `address_key`)."""
    hit(action, address_key(client_address(request)), limit=limit, per_seconds=per_seconds)


def retry_message(error: RateLimited) -> str:
    """What to tell a user who hit a limit, in their language."""
    minutes = max(1, error.retry_after // 60)
    return ngettext(
        "Too many attempts. Try again in %(minutes)d minute.",
        "Too many attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
