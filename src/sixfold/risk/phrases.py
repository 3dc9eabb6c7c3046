"""Terms of several words, seen one word at a time (for the word planner, wordplan.py).

A term's spaces match the spaces of the squeezed view, and a word's squeezed text has none (a
word holding a character that folds to a space goes to the text planner), so each of the term's
spaces falls between two neighbouring words of the post. It is enough to look for one of them:
a word that ends with the term's word before that space, followed by a word that starts with
the term's word after it. The space chosen is the one between the rarest pair of words, so
"shot at the" is looked for as "shot" + "at", not "at" + "the".

Rarity is read from the document frequencies alt-profanity-check's vectoriser learnt from its
training texts, which ship in its wheel.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Container, Iterable
from typing import Any

import ahocorasick

# Words are separated by text that starts and ends with this character (see batch.py).
SEPARATOR = "\x00"


@functools.cache
def rarity() -> Callable[[str], float]:
    """How rare a word is: the highest inverse document frequency of its parts. The
    vectoriser left out English stop words ("at", "the") and one-letter parts ("i'm"), the
    commonest of all; a part it never saw otherwise is rarer than any it did."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from sixfold.risk.profanity_model import TOKEN_PATTERN, ProfanityModel

    idf = ProfanityModel.from_package().idf_by_word()
    unseen = max(idf.values(), default=0.0) + 1.0

    def of(word: str) -> float:
        parts = [p for p in TOKEN_PATTERN.findall(word) if p not in ENGLISH_STOP_WORDS]
        return max((idf.get(p, unseen) for p in parts), default=0.0)

    return of


def rarest_word(term: str) -> str:
    """The rarest of a term's words: no post holds the term without it."""
    return max(term.split(" "), key=rarity())


def substrings(needles: Iterable[str]) -> Any:
    """An automaton finding every occurrence of the needles (None when there is none)."""
    kept = sorted(set(filter(None, needles)))
    if not kept:
        return None
    automaton: Any = ahocorasick.Automaton()
    for needle in kept:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return automaton


@functools.lru_cache(maxsize=8)
def phrases(terms: frozenset[str]) -> Phrases:
    return Phrases(terms)


class Phrases:
    """The chosen pair of neighbouring words of each term of several words, numbered; ``mark``
    finds, for each word of a joined view, the pairs it may end and the pairs it may start."""

    def __init__(self, terms: frozenset[str]) -> None:
        rare = rarity()
        pairs = sorted(
            {
                max(
                    itertools.pairwise(t.split(" ")), key=lambda pair: rare(pair[0]) + rare(pair[1])
                )
                for t in terms
                if " " in t
            }
        )
        self.firsts: dict[str, set[int]] = {}
        self.seconds: dict[str, set[int]] = {}
        for n, (first, second) in enumerate(pairs):
            self.firsts.setdefault(first, set()).add(n)
            self.seconds.setdefault(second, set()).add(n)
        # Keys carry the separator, so they only match where a word ends or starts.
        self._ends = _keyed({word + SEPARATOR: word for word in self.firsts})
        self._starts = _keyed({SEPARATOR + word: word for word in self.seconds})

    def mark(
        self, text: str, begins: list[int], joinable: Container[int]
    ) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
        """For the words of ``text`` (each starting at ``begins``, separated by text that starts
        and ends with the separator), by word: the pairs it may end and those it may start.

        A term's match starts mid-word only inside a hashtag or a letter-by-letter spelling
        (lexicon._accept), so a word ends a pair's first half only where that half follows
        the word's start or a character that is not a letter or digit, unless the word is in
        ``joinable`` (it has a hashtag or was spelled out)."""
        ends: dict[int, set[int]] = {}
        starts: dict[int, set[int]] = {}
        # One separator more at each end, so the first and last words have one on both sides;
        # positions below are in ``text``.
        padded = SEPARATOR + text + SEPARATOR
        if self._ends is not None:
            for last, word in self._ends.iter(padded):
                at = bisect.bisect_right(begins, last - 2) - 1
                before = padded[last - len(word) - 1]
                if before == SEPARATOR or not before.isalnum() or at in joinable:
                    ends.setdefault(at, set()).update(self.firsts[word])
        if self._starts is not None:
            for last, word in self._starts.iter(padded):
                at = bisect.bisect_right(begins, last - len(word)) - 1
                starts.setdefault(at, set()).update(self.seconds[word])
        return ends, starts


def _keyed(keys: dict[str, str]) -> Any:
    if not keys:
        return None
    automaton: Any = ahocorasick.Automaton()
    for key, word in keys.items():
        automaton.add_word(key, word)
    automaton.make_automaton()
    return automaton
