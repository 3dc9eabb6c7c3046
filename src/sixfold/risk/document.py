"""A post's text plus the normalised views the scanners read, each with an offset map.

Evasion works by making text look the same to a person while differing to a machine: a Cyrillic
"а" for a Latin "a", a zero-width space inside a word, "sh1t", "f.u.c.k". Scanners therefore never
read the raw text; they read a view in which all of these are folded away. Every character of a
view remembers the index of the original character it came from, so a finding found in a view
still points at the span the author typed.

Views:
- ``folded``: compatibility decomposition (NFKD, which also covers NFKC's compatibility forms such
  as fullwidth and mathematical letters), diacritics and invisible characters removed, casefolded,
  homoglyphs mapped to Latin letters.
- ``squeezed``: ``folded`` with leetspeak digits and symbols inside words read as letters and
  letter-by-letter spellings ("f u c k", "s-h-i-t") joined. Its offsets point straight into the
  original text. ``collapsed`` lists the squeezed spans that were joined, where word boundaries
  were erased on purpose and a match may therefore start or end mid-word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sixfold.risk.confusables import CONFUSABLES

# Characters that render as nothing but break naive matching. Most are in category Cf (format);
# the variation selectors and combining grapheme joiner are Mn and are listed explicitly.
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(
    chr(c) for c in range(0xFE00, 0xFE10)
)

# A leetspeak substitution is only read inside a token that also contains letters, so "50% off"
# and "2024" are never touched.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
_LEET_SYMBOLS = {"!": "i", "|": "l"}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TOKEN = re.compile(r"[a-z0-9@$!|]+")
# A letter touching a digit or symbol: only tokens with one may be leetspeak.
_MAYBE_LEET = re.compile(r"[a-z][0-9@$!|]|[0-9@$][a-z]")
# Number-like parts of a token (the "55" of "Galaxy A55", the "10" of "10am") are not leetspeak.
_NUMBER_EDGE = re.compile(r"^[0-9]{2,}|[0-9]{2,}$")
# Three or more single characters separated by one or two separator characters: "f.u.c.k",
# "f u c k", "s-h-i-t", "f*u*c*k".
_SPELLED_OUT = re.compile(r"(?<![a-z0-9])[a-z0-9@$](?:[.\-_*~ ]{1,2}[a-z0-9@$](?![a-z0-9])){2,}")
_SEPARATORS = frozenset(".-_*~ ")


@dataclass(frozen=True, slots=True)
class View:
    """A normalised text and, for each of its characters, the original character's index."""

    text: str
    offsets: Sequence[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a view span [start, end) to the original span it was made from."""
        if not self.offsets:
            return 0, 0
        start = min(max(start, 0), len(self.offsets) - 1)
        end = min(max(end, start + 1), len(self.offsets))
        return self.offsets[start], self.offsets[end - 1] + 1


@functools.lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    """The folded form of one character: possibly empty, possibly several characters."""
    if char in _INVISIBLE_EXTRA or unicodedata.category(char) == "Cf":
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(CONFUSABLES.get(c, c) for c in kept.casefold())


def _fold(text: str) -> View:
    if text.isascii():
        return View(text.lower(), range(len(text)))
    # Only non-ASCII characters need the per-character fold; ASCII runs between them are
    # lower-cased in bulk, which keeps posts with an emoji or an accent almost as fast.
    chars: list[str] = []
    offsets: list[int] = []
    cursor = 0
    for match in _NON_ASCII.finditer(text):
        index = match.start()
        chars.append(text[cursor:index].lower())
        offsets.extend(range(cursor, index))
        folded = fold_char(match.group(0))
        chars.append(folded)
        offsets.extend([index] * len(folded))
        cursor = index + 1
    chars.append(text[cursor:].lower())
    offsets.extend(range(cursor, len(text)))
    return View("".join(chars), offsets)


def _deleet_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if not _MAYBE_LEET.search(token):
        return token
    protected = {i for m in _NUMBER_EDGE.finditer(token) for i in range(m.start(), m.end())}
    out = []
    for i, char in enumerate(token):
        replacement = _LEET.get(char)
        if char in _LEET_SYMBOLS and i + 1 < len(token) and token[i + 1].isalpha():
            replacement = _LEET_SYMBOLS[char]
        if replacement is None or i in protected or (char == "@" and i == 0):
            out.append(char)
        else:
            out.append(replacement)
    return "".join(out)


def _squeeze(folded: View) -> tuple[View, tuple[tuple[int, int], ...]]:
    text = folded.text
    if _MAYBE_LEET.search(text):
        text = _TOKEN.sub(_deleet_token, text)  # one-for-one, so offsets are unchanged
    runs = list(_SPELLED_OUT.finditer(text))
    if not runs:
        return View(text, folded.offsets), ()
    chars: list[str] = []
    offsets: list[int] = []
    collapsed: list[tuple[int, int]] = []
    cursor = 0
    for run in runs:
        chars.extend(text[cursor : run.start()])
        offsets.extend(folded.offsets[cursor : run.start()])
        run_start = len(chars)
        for i in range(run.start(), run.end()):
            if text[i] not in _SEPARATORS:
                chars.append(text[i])
                offsets.append(folded.offsets[i])
        collapsed.append((run_start, len(chars)))
        cursor = run.end()
    chars.extend(text[cursor:])
    offsets.extend(folded.offsets[cursor:])
    return View("".join(chars), offsets), tuple(collapsed)


class Document:
    """The original text and its normalised views; built once per post, read by every scanner."""

    __slots__ = ("cache", "collapsed", "folded", "squeezed", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = _fold(text)
        self.squeezed, self.collapsed = _squeeze(self.folded)
        # Scanners share work through this cache (lexicon hits, tokens), keyed by who made it.
        self.cache: dict[object, Any] = {}

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the squeezed view to the original text."""
        return self.squeezed.to_original(start, end)

    def excerpt(self, start: int, end: int, limit: int = 60) -> str:
        """The original text of a span, shortened for messages."""
        part = " ".join(self.text[start:end].split())
        return part if len(part) <= limit else part[: limit - 1] + "…"

    def in_collapsed(self, start: int, end: int) -> bool:
        """Whether a squeezed span lies inside a run that was spelled out letter by letter."""
        return any(s <= start and end <= e for s, e in self.collapsed)
