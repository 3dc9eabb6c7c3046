"""The cheap checks that let a scanner skip a slow pattern hold for every match of that pattern.

A scanner may look for a literal or a short pattern before it runs a slow regular expression
(or a detector), and skip it when the mark is missing. That is only right if every text the
pattern matches shows the mark; Hypothesis generates matches of each pattern to check it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sixfold.risk.scanners import attacks, base, links, personal_data, secrets, tragedy

_THREE_DIGITS = re.compile(r"\d{3}")


def _any(words: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda text: any(word in text for word in words)


MARKS: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("password", secrets._PASSWORD, lambda t: bool(secrets._PASSWORD_MARK.search(t))),
    ("google key", secrets._EXTRA[0][1], lambda t: secrets._GOOGLE_MARK in t),
    (
        "conditional giving",
        tragedy._CONDITIONAL_GIVING,
        lambda t: _any(tragedy._GIVING_COUNTS)(t) and _any(tragedy._ENGAGING)(t),
    ),
    ("promotion", base._PROMO_PATTERN, _any(base._PROMO_MARKS)),
    ("age", attacks._AGE, lambda t: "y" in t and bool(attacks._DIGIT.search(t))),
    ("labelled id", personal_data._LABELLED, _any(personal_data._LABELS)),
    (
        "card",
        personal_data._CARD,
        lambda t: len(personal_data._DIGITS.findall(t)) >= personal_data._CARD_DIGITS,
    ),
    ("broken hashtag", links._BROKEN_TAG, lambda t: bool(links._BROKEN_TAG_GATE.search(t))),
    ("punctuation", links._PUNCTUATION, _any(("!!", "??", "!?", "?!", "...."))),
    *[
        (what, pattern, lambda t, mark=mark: bool(_THREE_DIGITS.search(t)) and mark in t)
        for pattern, _, what, mark in personal_data._NATIONAL_IDS
    ],
]


def _holds_for_every_match(pattern: re.Pattern[str], shown: Callable[[str], bool]) -> None:
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern))
    def check(text: str) -> None:
        if pattern.search(text):  # from_regex may add text around the match
            assert shown(text), text

    check()


@pytest.mark.parametrize(("name", "pattern", "shown"), MARKS, ids=[m[0] for m in MARKS])
def test_every_match_of_a_skippable_pattern_shows_its_mark(
    name: str, pattern: re.Pattern[str], shown: Callable[[str], bool]
) -> None:
    _holds_for_every_match(pattern, shown)


DETECTORS = secrets._detectors()


@pytest.mark.parametrize(
    ("secret_type", "pattern"), DETECTORS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(DETECTORS)]
)
def test_every_match_of_a_secret_detector_shows_its_mark(
    secret_type: str, pattern: re.Pattern[str]
) -> None:
    _holds_for_every_match(pattern, lambda text: secret_type in secrets._marked_types(text))


def test_case_blind_detectors_are_marked_by_words_not_by_runs_of_key_characters() -> None:
    # "K" (the Kelvin sign) matches [a-z] when case is ignored but is no key character, so
    # a run of key characters would not mark this secret.
    kelvin = "\u212a" * 40
    text = f"aws key '{kelvin}'"
    [pattern] = [p for t, p in DETECTORS if t == "AWS Access Key" and p.flags & re.IGNORECASE]
    assert pattern.search(text)
    assert not secrets._LONG_RUN.search(text)
    assert "AWS Access Key" in secrets._marked_types(text)
