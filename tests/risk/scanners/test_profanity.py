from __future__ import annotations

import pytest

from sixfold.risk import Severity
from tests.risk.helpers import by_scanner, check


def _worst(text: str) -> Severity | None:
    found = by_scanner(check(text), "profanity")
    return max((f.severity for f in found), key=lambda s: s.rank, default=None)


@pytest.mark.parametrize(
    "text",
    [
        "what the fuck is this",
        "f.u.c.k this weather",
        "f u c k mondays",
        "this is sh1t",
        "$h!t happens",
        "fuсk it",  # Cyrillic es
        "fu\u200bck it",  # zero-width space
        "ｆｕｃｋ it",  # fullwidth
        "nobody knows how to f***ing drive",
        "that actress is kind of a c*nt",
    ],
)
def test_strong_profanity_blocks_however_it_is_spelled(text: str) -> None:
    assert _worst(text) is Severity.BLOCK


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United kick off at 3pm",
        "Spotted dick and custard is our pudding of the week",
        "Pussy willow and daffodils are in store now",
        "Magna cum laude graduates get 10% off",
        "Our classic grape assortment is back",
        "Galaxy A55 cases now in stock",
    ],
)
def test_innocent_words_containing_profanity_are_clean(text: str) -> None:
    assert _worst(text) in (None, Severity.INFO)


def test_mild_words_are_only_noted_unless_the_model_agrees() -> None:
    assert _worst("a damn fine cup of coffee") is Severity.INFO
    assert _worst("what a dick, screw you") is Severity.REVIEW


def test_the_model_catches_abuse_the_lists_do_not_name() -> None:
    [finding] = by_scanner(check("you are all idiots and morons, hate you"), "profanity")
    assert finding.severity is Severity.REVIEW
    assert "profanity model" in finding.message


def test_slurs_block_and_are_named_as_slurs() -> None:
    [finding] = by_scanner(check("what a retard"), "profanity")
    assert (finding.category, finding.severity) == ("slur", Severity.BLOCK)


@pytest.mark.parametrize(
    "text",
    [
        "Ask your questions with #expertsexchange",
        "Vote for the firm #whorepresents you",
        "Tune in to the #classicsexchange tonight",
    ],
)
def test_one_case_hashtags_that_read_two_ways_are_reviewed(text: str) -> None:
    found = [f for f in by_scanner(check(text), "profanity") if f.severity.value == "review"]
    assert found
    assert "capitalise" in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        "#ExpertsExchange is open",
        "#analytics for small teams",
        "Cruising on the #canalboat",
        "#grassroots football is back",
        "#classact all round",
        "#essex days out",
    ],
)
def test_camel_case_and_innocent_tags_are_fine(text: str) -> None:
    assert by_scanner(check(text), "profanity") == []
