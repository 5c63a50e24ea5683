"""Request codes: what a citizen takes to the Czech POINT office, or writes into a data-box message.

A code is 12 characters of Crockford base32 (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`: no I, L, O, U)
shown as `XXXX-XXXX-XXXX`: 11 random characters (55 bits) and a Luhn mod 32 check character, so
that a clerk's typing error is caught at the desk. The QR code on the printed request holds
`mojeid:request?code=<CODE>`.

This is the form the Czech POINT desk checks; the desk is another system (another organisation's
code, never imported here), so the portal keeps its own copy of the rule and the tests hold the two
to each other. Pure functions only.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
GROUP = 4
QR_PREFIX = "mojeid:request?code="

_VALUE = {character: value for value, character in enumerate(ALPHABET)}
# Crockford's decoding reads the letters that look like digits as those digits.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-\u00a0]+")


def check_character(payload: str) -> str:
    """The Luhn mod 32 check character of `payload` (characters of ALPHABET)."""
    factor, total = 2, 0
    # From the right, doubling every other value starting with the rightmost payload character,
    # so that the check character itself counts once when the whole code is verified.
    for character in reversed(payload):
        addend = factor * _VALUE[character]
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
        factor = 1 if factor == 2 else 2
    return ALPHABET[(len(ALPHABET) - total % len(ALPHABET)) % len(ALPHABET)]


def new_code() -> str:
    """A new random code in its canonical form `XXXX-XXXX-XXXX`."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return _grouped(payload + check_character(payload))


def canonical(text: str) -> str | None:
    """The canonical form of a code as a person or a system wrote it (dashes, spaces and case
    ignored, look-alike letters read as digits), or None if `text` is not a well-formed code."""
    normal = _SEPARATORS.sub("", text.strip()).upper().translate(_LOOKALIKES)
    if len(normal) != LENGTH or any(character not in _VALUE for character in normal):
        return None
    if check_character(normal[:-1]) != normal[-1]:
        return None
    return _grouped(normal)


def find_in_text(text: str) -> list[str]:
    """Every well-formed code written in a free text (a data-box message), canonical, in order,
    without repeats. A citizen may write it grouped or not, with dashes or spaces, in lower case,
    inside a sentence; it must start and end at word boundaries."""
    words = list(re.finditer(r"[0-9A-Za-z]+", text))
    found: list[str] = []
    for start in range(len(words)):
        joined, end = "", start
        while end < len(words) and len(joined) < LENGTH:
            if end > start and not _SEPARATORS.fullmatch(
                text[words[end - 1].end() : words[end].start()]
            ):
                break  # only dashes and spaces may stand inside a code
            joined += words[end].group()
            end += 1
        code = canonical(joined) if len(joined) == LENGTH else None
        if code is not None and code not in found:
            found.append(code)
    return found


def qr_content(code: str) -> str:
    """What the QR code on the printed request holds."""
    return QR_PREFIX + code


def _grouped(normal: str) -> str:
    return "-".join(normal[i : i + GROUP] for i in range(0, LENGTH, GROUP))
