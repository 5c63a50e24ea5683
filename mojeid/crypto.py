"""The one way the portal keeps a code or a secret it must recognise later: a keyed digest.

Confirmation codes (PIN1, PIN2), the two-factor reset's codes, MojeID Klíč activation codes and the
browser secrets of Klíč sign-ins are stored only as HMAC-SHA256 under the site's secret key, with a
purpose that keeps a digest of one kind from ever matching another kind.
"""

import hashlib
import hmac

from django.conf import settings

_SEPARATOR = "\x1f"  # cannot occur in the codes, ids and names that make up a message


def keyed_digest(purpose: str, *parts: object) -> str:
    """Hex HMAC-SHA256 of `parts` for `purpose` under SECRET_KEY."""
    message = _SEPARATOR.join([purpose, *(str(part) for part in parts)])
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def digest_matches(stored: str, purpose: str, *parts: object) -> bool:
    """Whether `stored` is the keyed digest of `parts`, compared in constant time.

    Bytes, not str: `compare_digest` refuses non-ASCII text, and a user may type anything.
    """
    return hmac.compare_digest(stored.encode(), keyed_digest(purpose, *parts).encode())
