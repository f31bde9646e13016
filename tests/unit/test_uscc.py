"""USCC (统一社会信用代码) validation and the folding of what phones and Excel produce."""
from __future__ import annotations

import pytest

from registry.certificates.identifiers import fold, is_valid_uscc, make_uscc, normalise_uscc


@pytest.mark.parametrize("code", ["914403001922038216", "9144030071526726XG", "91330100799655058B",
                                  "91110108551385082Q"])
def test_verified_examples_are_valid(code):
    assert normalise_uscc(code) == code


def test_wrong_check_digit_fails_as_checksum():
    with pytest.raises(ValueError, match="checksum"):
        normalise_uscc("914403001922038217")


@pytest.mark.parametrize(("raw", "reason"), [
    ("91440300192203821", "length"),
    ("9144030019220382166", "length"),
    ("", "length"),
    ("91440300I922038216", "format"),   # I is not in the charset
    ("9144A3001922038216", "format"),   # region digits must be digits
])
def test_malformed_codes_say_why(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalise_uscc(raw)


@pytest.mark.parametrize("raw", [
    "９１４４０３００７１５２６７２６ＸＧ",       # full-width, as Chinese input methods type it
    "9144 0300 7152 6726 XG",
    "9144-0300-7152-6726-XG",
    " 9144030071526726xg\t",
    "9144030071526726-xg",
])
def test_full_width_spaces_dashes_and_lower_case_fold_to_the_compact_form(raw):
    assert normalise_uscc(raw) == "9144030071526726XG"
    assert is_valid_uscc(raw)


def test_fold_handles_full_width_letters_and_punctuation():
    assert fold("ａｂ－１２ ３") == "AB123"


def test_make_uscc_appends_a_valid_check_character():
    code = make_uscc("91370200MA3C7N2K4")
    assert len(code) == 18 and is_valid_uscc(code)
    assert not is_valid_uscc(code[:-1] + ("0" if code[-1] != "0" else "1"))
