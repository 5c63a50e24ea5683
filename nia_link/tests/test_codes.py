"""Request codes: the portal issues what the Czech POINT desk accepts, and reads them back."""

import pytest

from czechpoint import request_code as desk
from nia_link.internal import codes


def test_every_issued_code_is_accepted_by_the_desk_in_the_same_form():
    for _ in range(500):
        code = codes.new_code()
        assert desk.is_well_formed(code), code
        assert desk.canonical(code) == code
        assert desk.from_qr(codes.qr_content(code)) == code


def test_the_desk_s_codes_are_read_back_whatever_the_clerk_typed():
    code = desk.generate()
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")

    assert codes.canonical(typed) == code


@pytest.mark.parametrize("position", range(12))
def test_any_single_wrong_character_is_refused(position):
    code = codes.new_code().replace("-", "")
    wrong = codes.ALPHABET[(codes.ALPHABET.index(code[position]) + 7) % 32]
    typo = code[:position] + wrong + code[position + 1 :]

    assert codes.canonical(typo) is None


def test_codes_are_found_in_a_message_text():
    first, second = codes.new_code(), codes.new_code()
    text = (
        f"Dobrý den, ověření MojeID: {first.lower()}.\n"
        f"Ještě jednou {first} a {second.replace('-', '')}"
    )

    assert codes.find_in_text(text) == [first, second]
    assert codes.find_in_text("bez kódu, jen slova a čísla 1234-5678") == []
