"""Hashtags that read two ways: "#susanalbumparty" was meant as Susan Album Party.

A hashtag written in one case hides its word boundaries, so readers choose them, and a rude
word can appear across the intended ones ("#expertsexchange", "#whorepresents"). This module
splits a tag into the likeliest words and reports the rude words that straddle a boundary of
that split. The dictionary is the profanity model's own vocabulary (words seen in real posts,
each with its inverse document frequency as the cost of using it) plus scikit-learn's English
stop words, which the model drops; both ship with the installed packages. A tag that does not
split cleanly into known words is left alone: the check only speaks when it can show the
intended reading.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping

# Costs: a rare word costs more than a common one (its IDF); short words cost extra, since the
# vocabulary holds many three-letter fragments; every word adds one, so fewer words win.
_SHORT = 3
_SHORT_EXTRA = 3.0
_STOP_WORD_COST = 2.0
_PER_WORD = 1.0


def word_costs(idf: Mapping[str, float], stop_words: Iterable[str]) -> dict[str, float]:
    costs = {
        word: value + (_SHORT_EXTRA if len(word) <= _SHORT else 0.0)
        for word, value in idf.items()
        if word.isalpha() and word.isascii() and len(word) >= _SHORT
    }
    for word in stop_words:
        costs[word] = min(costs.get(word, math.inf), _STOP_WORD_COST)
    return costs


def best_split(tag: str, costs: Mapping[str, float], longest: int) -> list[str] | None:
    """The cheapest split of ``tag`` into dictionary words, or None if it has none."""
    best: list[tuple[float, int]] = [(0.0, -1)] + [(math.inf, -1)] * len(tag)
    for end in range(1, len(tag) + 1):
        for start in range(max(0, end - longest), end):
            cost = costs.get(tag[start:end])
            if cost is not None and best[start][0] + cost + _PER_WORD < best[end][0]:
                best[end] = (best[start][0] + cost + _PER_WORD, start)
    if math.isinf(best[len(tag)][0]):
        return None
    words, end = [], len(tag)
    while end > 0:
        start = best[end][1]
        words.append(tag[start:end])
        end = start
    return words[::-1]


def straddling(tag: str, words: list[str], hidden: Iterable[str]) -> list[str]:
    """The hidden words that occur in ``tag`` across a boundary between ``words``."""
    bounds, position = set(), 0
    for word in words[:-1]:
        position += len(word)
        bounds.add(position)
    found = []
    for term in hidden:
        index = tag.find(term)
        while index >= 0:
            if any(index < b < index + len(term) for b in bounds):
                found.append(term)
                break
            index = tag.find(term, index + 1)
    return found


@functools.cache
def model_costs() -> tuple[dict[str, float], int]:
    """The dictionary built from the profanity model's vocabulary, and its longest word."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from sixfold.risk.profanity_model import ProfanityModel

    costs = word_costs(ProfanityModel.from_package().idf_by_word(), ENGLISH_STOP_WORDS)
    return costs, max(map(len, costs))
