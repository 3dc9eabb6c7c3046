"""Every scanner that reads words must see through the same four evasions: letters swapped for
lookalike digits (sh1t), letters spelled out with separators (f.u.c.k), Cyrillic homoglyphs and
invisible zero-width characters. Each case names the word an evader would disguise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from sixfold.risk import Event, EventRegister, Policy
from tests.risk.helpers import by_scanner, check

_LEET = str.maketrans({"e": "3", "i": "1", "o": "0", "a": "4", "s": "5"})
_CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "y": "у", "x": "х"})


def leet(word: str) -> str:
    return word[0] + word[1:].translate(_LEET)


def spelled_out(word: str) -> str:
    return ".".join(word)


def homoglyphs(word: str) -> str:
    return word[0] + word[1:].translate(_CYRILLIC)


def zero_width(word: str) -> str:
    return word[:2] + "\u200b" + word[2:]


EVASIONS: dict[str, Callable[[str], str]] = {
    "leet": leet,
    "spelled_out": spelled_out,
    "homoglyphs": homoglyphs,
    "zero_width": zero_width,
}
SANDY = EventRegister(
    [Event("Hurricane Sandy", dt.date(2012, 10, 28), dt.date(2012, 11, 10), keywords=("Sandy",))]
)
KESTREL = Policy(confidential_terms=("Kestrel",))
QUIET_DAY = "2024-03-05"
# scanner, post with {} where the disguised word goes, the word, posting day, policy, register
CASES: list[tuple[str, str, str, str, Policy | None, EventRegister | None]] = [
    ("sensitive_events", "Stay safe from {}! Free shipping", "Sandy", "2012-10-30", None, SANDY),
    ("tragedy_promotion", "{} deals: 30% off today", "earthquake", QUIET_DAY, None, None),
    ("profanity", "what the {} is this", "fuck", QUIET_DAY, None, None),
    ("personal_attack", "@jordan_kx is such an {}", "idiot", QUIET_DAY, None, None),
    ("confidential", "{} launches next week", "Kestrel", QUIET_DAY, KESTREL, None),
    ("hot_topics", "Vote {} this year", "Republican", QUIET_DAY, None, None),
    ("off_brand", "we are so {} lol", "drunk", QUIET_DAY, None, None),
]


@pytest.mark.parametrize("evasion", sorted(EVASIONS))
@pytest.mark.parametrize(("scanner", "template", "word", "day", "policy", "events"), CASES)
def test_scanner_sees_through_evasion(
    scanner: str,
    template: str,
    word: str,
    day: str,
    policy: Policy | None,
    events: EventRegister | None,
    evasion: str,
) -> None:
    text = template.format(EVASIONS[evasion](word))
    verdict = check(text, day, policy=policy, events=events)
    flagged = [f for f in by_scanner(verdict, scanner) if f.severity.value != "info"]
    assert flagged, text
    start = template.index("{}")
    assert flagged[0].start <= start < flagged[0].end or any(
        f.start <= start < f.end for f in flagged
    ), (text, flagged)
