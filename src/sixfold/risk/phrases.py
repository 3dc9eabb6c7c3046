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
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ahocorasick
import numpy as np

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
def phrases(terms: frozenset[tuple[str, bool]]) -> Phrases:
    return Phrases(terms)


class Phrases:
    """The chosen pair of neighbouring words of each term of several words, numbered; ``mark``
    finds, for each word of a joined view, the pairs it may end and the pairs it may start.

    A term's match starts mid-word only inside a hashtag or a letter-by-letter spelling, and
    ends mid-word only there or when it is a prefix term (lexicon._accept). So outside such
    "joinable" words, a pair's first half must follow the word's start or a character that is
    not a letter or digit, and its second half must be followed by the word's end or such a
    character, unless the term is a prefix term ending with it. To find only those, the words
    are read with every such character written as ``_EDGE``, and the keys carry the edges."""

    def __init__(self, terms: frozenset[tuple[str, bool]]) -> None:
        rare = rarity()
        chosen: dict[tuple[str, str], bool] = {}  # pair -> its second half may run on
        for term, prefix in terms:
            words = term.split(" ")
            if len(words) < 2:
                continue
            pairs = list(itertools.pairwise(words))
            pair = max(pairs, key=lambda p: rare(p[0]) + rare(p[1]))
            last = prefix and pair == pairs[-1]
            chosen[pair] = chosen.get(pair, False) or last
        # key -> the pairs it stands for; the starts' keys also keep the second half's length
        # (keys are written with edges, so two words may share one: "don't", "don’t").
        ends: dict[str, set[int]] = {}
        starts: dict[str, tuple[int, set[int]]] = {}
        loose_ends: dict[str, set[int]] = {}
        loose_starts: dict[str, tuple[int, set[int]]] = {}
        for n, ((first, second), runs_on) in enumerate(sorted(chosen.items())):
            head, tail = _edged(first), _edged(second)
            closings = ("",) if runs_on else (SEPARATOR, _EDGE)
            for edge in (SEPARATOR, _EDGE):
                ends.setdefault(edge + head + SEPARATOR, set()).add(n)
            for edge in closings:
                starts.setdefault(SEPARATOR + tail + edge, (len(second), set()))[1].add(n)
            loose_ends.setdefault(first + SEPARATOR, set()).add(n)
            loose_starts.setdefault(SEPARATOR + second, (len(second), set()))[1].add(n)
        self._ends, self._starts = _keyed(ends), _keyed(starts)
        # Joinable words are read as they are, with keys that carry only the word's edge.
        self._loose_ends, self._loose_starts = _keyed(loose_ends), _keyed(loose_starts)

    def mark(
        self, text: str, begins: list[int], joinable: Sequence[int]
    ) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
        """For the words of ``text`` (each starting at ``begins``, separated by text that starts
        and ends with the separator), by word: the pairs it may end and those it may start.
        ``joinable`` are the words that have a hashtag or were spelled out."""
        ends: dict[int, set[int]] = {}
        starts: dict[int, set[int]] = {}
        if self._ends is None:
            return ends, starts
        # One separator more at each end, so the first and last words have one on both sides.
        # A match ending at ``last`` in it ends at ``last - 1`` in ``text``.
        padded = SEPARATOR + _EDGES.sub(_EDGE, text) + SEPARATOR
        for last, pairs in self._ends.iter(padded):  # "...first" + separator
            _add(ends, bisect.bisect_right(begins, last - 2) - 1, pairs)
        for last, (length, pairs) in self._starts.iter(padded):  # separator + "second..."
            _add(starts, bisect.bisect_right(begins, last - length) - 1, pairs)
        if joinable:
            # Those words again, as they are, each after a separator.
            pieces = [text[begins[i] : _word_end(text, begins[i])] for i in joinable]
            loose = SEPARATOR + SEPARATOR.join(pieces) + SEPARATOR
            opening = np.cumsum([0, *(len(piece) + 1 for piece in pieces)])
            for last, pairs in self._loose_ends.iter(loose):
                k = int(np.searchsorted(opening, last - 1, "right")) - 1
                _add(ends, joinable[k], pairs)
            for last, (_, pairs) in self._loose_starts.iter(loose):
                k = int(np.searchsorted(opening, last, "right")) - 1
                _add(starts, joinable[k], pairs)
        return ends, starts


def _add(found: dict[int, set[int]], word: int, pairs: set[int]) -> None:
    found.setdefault(word, set()).update(pairs)


def _word_end(text: str, start: int) -> int:
    end = text.find(SEPARATOR, start)
    return len(text) if end < 0 else end


# Characters that are neither letters nor digits, written as one when words are marked.
_EDGES = re.compile(r"[^\w\x00]|_")
_EDGE = "\x01"


def _edged(word: str) -> str:
    return _EDGES.sub(_EDGE, word)


def _keyed(keys: dict[str, Any]) -> Any:
    if not keys:
        return None
    automaton: Any = ahocorasick.Automaton()
    for key, value in keys.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton
