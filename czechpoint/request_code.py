"""The recipient's request code, as the Czech POINT desk checks it: its form only.

A citizen brings the request printed by the portal (MojeID): a code of 12 characters shown as
`XXXX-XXXX-XXXX`, and a QR code whose content is `mojeid:request?code=<CODE>`. The clerk types the
code or scans the QR; both are accepted.

Format:

- alphabet Crockford base32, `0123456789ABCDEFGHJKMNPQRSTVWXYZ` (no I, L, O, U);
- 12 characters: 11 free characters and a check character, computed over the first 11 with the
  Luhn mod N algorithm for N = 32 (each character's value is its position in the alphabet);
- dashes, spaces and case are ignored when reading; as Crockford's decoding does, a typed `O` is
  read as `0` and `I` or `L` as `1` (the code never contains those letters, so a clerk's misreading
  costs nothing).

The desk cannot know which codes the portal issued, so it accepts any well-formed code; a typing
error is caught by the check character (every single wrong character and most swaps of neighbours).
The canonical form, stored and sent to the recipient, is the grouped upper-case `XXXX-XXXX-XXXX`.

Pure functions only: no database, no settings.
"""

import secrets
from urllib.parse import parse_qs

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
N = len(ALPHABET)  # 32
LENGTH = 12
GROUP = 4
QR_PREFIX = "mojeid:request?"

_VALUE = {character: value for value, character in enumerate(ALPHABET)}
# Crockford's decoding reads the letters that look like digits as those digits.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", "- \t\u00a0")


def from_qr(text: str) -> str:
    """The code inside QR content `mojeid:request?code=<CODE>`; any other text is returned as is."""
    stripped = text.strip()
    if stripped.lower().startswith(QR_PREFIX):
        values = parse_qs(stripped[len(QR_PREFIX) :]).get("code")
        return values[0] if values else ""
    return stripped


def normalise(text: str) -> str:
    """The code without dashes and spaces, upper case, look-alike letters read as digits.

    Accepts the QR content as well. The result is not necessarily well formed.
    """
    return from_qr(text).translate(_IGNORED).upper().translate(_LOOKALIKES)


def check_character(payload: str) -> str:
    """The Luhn mod 32 check character of `payload` (characters of ALPHABET, normalised)."""
    factor, total = 2, 0
    # From the right, doubling every other value starting with the rightmost payload character,
    # so that the check character itself ends up with factor 1 when the whole code is verified.
    for character in reversed(payload):
        addend = factor * _VALUE[character]
        total += addend // N + addend % N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(N - total % N) % N]


def is_well_formed(code: str) -> bool:
    """Whether `code` (typed, or QR content) is a request code of the right form."""
    return problem(code) is None


def problem(code: str) -> str | None:
    """What is wrong with the form of `code`: "length", "alphabet", "check", or None if nothing."""
    normal = normalise(code)
    if len(normal) != LENGTH:
        return "length"
    if any(character not in _VALUE for character in normal):
        return "alphabet"
    if check_character(normal[:-1]) != normal[-1]:
        return "check"
    return None


def canonical(code: str) -> str:
    """The grouped form `XXXX-XXXX-XXXX` of a well-formed code; ValueError for any other."""
    if not is_well_formed(code):
        raise ValueError("not a well-formed request code")
    normal = normalise(code)
    return "-".join(normal[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def generate() -> str:
    """A new random well-formed code in its canonical form (for tests and seed data)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return canonical(payload + check_character(payload))
