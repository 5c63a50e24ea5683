"""The request code's form: alphabet, length, Luhn mod 32 check character, QR content."""

import pytest

from czechpoint import request_code
from czechpoint.request_code import ALPHABET, canonical, check_character, is_well_formed, normalise


def luhn_mod_n_valid(code: str) -> bool:
    """Verification as the algorithm is usually written, independent of the module's generator."""
    factor, total = 1, 0
    for character in reversed(code):
        addend = factor * ALPHABET.index(character)
        total += addend // 32 + addend % 32
        factor = 2 if factor == 1 else 1
    return total % 32 == 0


# Worked by hand: payload "00000000001": the rightmost value 1 is doubled → 2; 32 - 2 = 30 → "Y".
KNOWN = "0000-0000-001Y"


def test_a_known_code_has_the_expected_check_character():
    assert check_character("00000000001") == "Y"
    assert check_character("00000000000") == "0"
    assert is_well_formed(KNOWN)


def test_generated_codes_are_well_formed_and_verify_independently():
    for _ in range(200):
        code = request_code.generate()
        assert len(code) == 14 and code[4] == code[9] == "-"
        assert is_well_formed(code)
        assert luhn_mod_n_valid(normalise(code))


@pytest.mark.parametrize(
    "typed",
    [KNOWN, "00000000001Y", "0000 0000 001y", " 0000-0000-001y ", "0000-0000-00-1Y"],
)
def test_dashes_spaces_and_case_are_ignored(typed):
    assert is_well_formed(typed)
    assert canonical(typed) == KNOWN


def test_look_alike_letters_are_read_as_digits():
    assert normalise("oooo-oooo-ooiy") == "00000000001Y"
    assert canonical("OOOO-OOOO-OOLY") == KNOWN


def test_every_single_wrong_character_is_caught():
    code = normalise(request_code.generate())
    for position in range(len(code)):
        for replacement in ALPHABET:
            if replacement != code[position]:
                mistyped = code[:position] + replacement + code[position + 1 :]
                assert not is_well_formed(mistyped), mistyped
                assert request_code.problem(mistyped) == "check"


@pytest.mark.parametrize(
    "code, problem",
    [
        ("0000-0000-001", "length"),
        ("0000-0000-001Y-0", "length"),
        ("", "length"),
        ("0000-0000-0U1Y", "alphabet"),  # U is not in Crockford's alphabet
        ("0000-0000-0*1Y", "alphabet"),
        ("0000-0000-0Ř1Y", "alphabet"),
        ("0000-0000-001Z", "check"),
    ],
)
def test_malformed_codes_are_refused(code, problem):
    assert not is_well_formed(code)
    assert request_code.problem(code) == problem
    with pytest.raises(ValueError):
        canonical(code)


@pytest.mark.parametrize(
    "content",
    [
        f"mojeid:request?code={KNOWN}",
        "mojeid:request?code=00000000001Y",
        "MOJEID:REQUEST?code=0000-0000-001y",
        "  mojeid:request?code=0000%2D0000%2D001Y\n",
    ],
)
def test_the_qr_content_is_accepted(content):
    assert canonical(content) == KNOWN


@pytest.mark.parametrize(
    "content",
    ["mojeid:request?code=0000-0000-001Z", "mojeid:request?other=x", "mojeid:request?"],
)
def test_a_qr_content_with_a_bad_or_no_code_is_refused(content):
    assert not is_well_formed(content)
