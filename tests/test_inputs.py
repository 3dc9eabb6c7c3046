"""Numbers read from text (sixfold/inputs.py): only ASCII digits, and ids within range."""

from __future__ import annotations

import pytest

from sixfold.inputs import MAX_ID, ascii_int, parse_id

# Text that str.isdigit() accepts but that is no number here: int() refuses the first two
# (superscripts, a circled digit) and the last (more than 4,300 digits); Arabic-Indic digits
# it would read, but no form or header of ours sends them.
NOT_ASCII_NUMBERS = ["²", "¹²", "①", "٣", "9" * 5000]


@pytest.mark.parametrize("text", [*NOT_ASCII_NUMBERS, "", " 1", "-1", "+1", "1.0", "0x10"])
def test_only_ascii_digits_are_a_number(text: str) -> None:
    assert ascii_int(text) is None
    assert parse_id(text) is None


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("007", 7), ("120", 120)])
def test_ascii_digits_are_read(text: str, number: int) -> None:
    assert ascii_int(text) == number


@pytest.mark.parametrize(("text", "id_"), [("1", 1), (str(MAX_ID), MAX_ID), ("0", None)])
def test_an_id_is_within_range(text: str, id_: int | None) -> None:
    assert parse_id(text) == id_
    assert parse_id(str(MAX_ID + 1)) is None
