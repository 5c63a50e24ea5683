"""Validators for what people type: names in Latin script, no control characters, phone numbers."""

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,29}$")
# Characters a name may hold besides Latin letters: "Anna-Marie", "O'Neil", "Jr.", "Karel IV."
NAME_PUNCTUATION = set(" -'.’")
# Punctuation allowed in an address line or a city: "Na Příkopě 12/3a", "Praha 1 – Nové Město"
TEXT_PUNCTUATION = set(" -–'’.,/()&#:;\"+")


def validate_no_control_characters(value: str) -> None:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise ValidationError(_("Remove the control or invisible characters."), code="control")


def _is_latin_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and "LATIN" in unicodedata.name(ch, "")


def validate_name(value: str) -> None:
    validate_no_control_characters(value)
    if not all(_is_latin_letter(ch) or ch in NAME_PUNCTUATION for ch in value):
        raise ValidationError(
            _("Use letters of the Latin alphabet (diacritics are fine), spaces and hyphens."),
            code="script",
        )


def validate_latin_text(value: str) -> None:
    validate_no_control_characters(value)
    if not all(_is_latin_letter(ch) or ch.isdigit() or ch in TEXT_PUNCTUATION for ch in value):
        raise ValidationError(
            _("Use letters of the Latin alphabet, digits and ordinary punctuation."), code="script"
        )


def validate_username(value: str) -> None:
    if not USERNAME_RE.match(value):
        raise ValidationError(
            _(
                "Use 3–30 characters: lowercase letters a–z, digits, dot, hyphen and underscore, "
                "starting with a letter or digit."
            ),
            code="username",
        )


def normalize_phone(value: str, region: str = "CZ") -> str:
    """Return the number in E.164 (+420601123456) or raise ValidationError."""
    validate_no_control_characters(value)
    # phonenumbers reads letters as keypad digits ("601 ABC DEF") and drops "ext. 12": a typo
    # would send the code to somebody else's phone.
    if any(ch.isalpha() for ch in value):
        raise ValidationError(_("Enter a valid phone number, e.g. +420 601 123 456."), code="phone")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number, e.g. +420 601 123 456."), code="phone")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("Enter a mobile phone number: we send the confirmation code by SMS."), code="mobile"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """+420601123456 → '+420 601 123 456' for display."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


CZ_POSTAL_CODE_RE = re.compile(r"^([0-9]{3}) ?([0-9]{2})$")
POSTAL_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")


def normalize_postal_code(value: str, country: str) -> str:
    value = value.strip()
    if country == "CZ":
        match = CZ_POSTAL_CODE_RE.match(value)
        if not match:
            raise ValidationError(_("A Czech postal code has five digits, e.g. 110 00."))
        return f"{match.group(1)} {match.group(2)}"
    if not POSTAL_CODE_RE.match(value):
        raise ValidationError(_("Enter a valid postal code."))
    return value.upper()
