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

A post's images are part of what its readers see, and Sixfold requires a description (alt text)
for each. A document built with ``alt_texts`` reads the post text and the descriptions as one
text, joined by a blank line, so a rule sees "remember Pearl Harbor" in the text and a mascot in
the picture together. ``parts`` records where each piece lies; ``locate`` turns a span of the
joined text back into (part, span inside that part), which the engine uses to point every
finding into the text it came from.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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
# Only a token (a run of letters, digits and leet symbols) holding a letter next to a digit or
# symbol may be leetspeak: "sh1t", "@ss", "sh!t". A "!" or "|" that ends the token is
# punctuation ("thanks, Priya!"), never a letter, so it does not make a token a candidate.
# The pattern starts with one character class, which the search skips to in C, and only then
# looks around; an alternation at the top would be tried at every position (4x slower).
_LEET_PAIR = re.compile(
    r"[0-9@$!|](?:(?<=[a-z][0-9@$])|(?<=[a-z][!|])(?=[a-z0-9@$!|])|(?<=[0-9@$])(?=[a-z]))"
)
_TOKEN_REST = re.compile(r"[a-z0-9@$!|]*")
_TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!|")
_CACHED_TOKEN = 64
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


class _FoldTable(dict[int, str]):
    """Code point -> folded string, for ``str.translate``; filled on first sight of each
    character (a memo, like ``fold_char``'s cache)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = char.lower() if code < 128 else fold_char(char)
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()
_ASCII_TABLE = {code: chr(code).lower() for code in range(128)}


def folds_one_for_one(text: str) -> bool:
    """Whether every character folds to exactly one, so the folded view's offsets are the
    original's (true of ASCII, most accents and emoji)."""
    return text.isascii() or all(len(_FOLD_TABLE[ord(c)]) == 1 for c in _NON_ASCII.findall(text))


def fold_text(text: str) -> str:
    """The folded view's text without its offset map: what the batch planner reads."""
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


def fold_texts(texts: Sequence[str], separator: str) -> tuple[list[str], list[bool]]:
    """``fold_text`` of many texts, the non-ASCII ones folded in one pass, and for each
    whether every character folded to exactly one (``folds_one_for_one``). ``separator``
    must be an ASCII character none of them holds."""
    folded = [t.lower() if t.isascii() else "" for t in texts]
    even = [True] * len(texts)
    others = [i for i, t in enumerate(texts) if not folded[i] and t]
    if others:
        joined, uneven = _fold_joined(separator.join(texts[i] for i in others), separator)
        for i, text in zip(others, joined.split(separator), strict=True):
            folded[i] = text
        for k in uneven:
            even[others[k]] = False
    return folded, even


_DELETED = 0xFFFFFFFF
_LOWER_ASCII = np.array([ord(chr(c).lower()) for c in range(128)], dtype=np.uint32)


def _fold_joined(text: str, separator: str) -> tuple[str, list[int]]:
    """``fold_text`` of texts joined by ``separator``, as array operations on the code points
    (``str.translate`` looks every character up in a dictionary, about four times slower on
    a batch), and the indexes of the texts in which a character did not fold to exactly one.
    A batch with characters that fold to several ("ß" to "ss", a Hangul syllable to its
    letters) is translated instead: one code point cannot stand for several."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    high = np.unique(codes[codes >= 128]).tolist()
    uneven = [code for code in high if len(_FOLD_TABLE[code]) != 1]
    if any(_FOLD_TABLE[code] for code in uneven):
        result = text.translate(_FOLD_TABLE)
    else:
        table = np.arange(max(high, default=127) + 1, dtype=np.uint32)
        table[:128] = _LOWER_ASCII
        for code in high:
            folded = _FOLD_TABLE[code]
            table[code] = ord(folded) if folded else _DELETED
        result = _mapped(codes, table)
    if not uneven:
        return result, []
    ends = np.flatnonzero(codes == ord(separator))
    at = np.flatnonzero(np.isin(codes, uneven))
    return result, np.unique(np.searchsorted(ends, at)).tolist()


def _mapped(codes: npt.NDArray[np.uint32], table: npt.NDArray[np.uint32]) -> str:
    mapped = table[codes]
    if _DELETED in table:
        mapped = mapped[mapped != _DELETED]
    return mapped.tobytes().decode("utf-32-le", "surrogatepass")


def deleet_text(folded: str) -> str:
    """Leetspeak read as letters, one character for one: the squeezed text of a folded text
    that has no letter-by-letter run. Only tokens (runs of letters, digits and leet symbols)
    holding a letter next to a digit or symbol are looked at."""
    pieces: list[str] = []
    cursor = done = 0
    token_characters = _TOKEN_CHARACTERS
    for pair in _LEET_PAIR.finditer(folded):
        start = pair.start()
        if start < done:
            continue  # another pair of a token already read
        while start and folded[start - 1] in token_characters:
            start -= 1
        match = _TOKEN_REST.match(folded, pair.end())
        done = match.end() if match else pair.end()
        token = folded[start:done]
        # Long tokens (a pasted key, a hostile run) are read without the cache, which would
        # keep each one alive.
        read = _deleet(token) if len(token) <= _CACHED_TOKEN else _deleet.__wrapped__(token)
        if read != token:
            pieces += [folded[cursor:start], read]
            cursor = done
    if not pieces:
        return folded
    pieces.append(folded[cursor:])
    return "".join(pieces)


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


@functools.lru_cache(maxsize=8192)
def _deleet(token: str) -> str:
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
    text = deleet_text(text)  # one-for-one, so offsets are unchanged
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


# Between the post text and each image description: a blank line, so words never run together.
ALT_SEPARATOR = "\n\n"


def _parts(text: str, alt_texts: Sequence[str]) -> tuple[tuple[int, int], ...]:
    parts = [(0, len(text))]
    cursor = len(text)
    for alt in alt_texts:
        cursor += len(ALT_SEPARATOR)
        parts.append((cursor, cursor + len(alt)))
        cursor += len(alt)
    return tuple(parts)


class Document:
    """The original text and its normalised views; built once per post, read by every scanner.

    With ``alt_texts``, ``text`` is the post text and the image descriptions joined by
    ``ALT_SEPARATOR``; ``parts[0]`` is the post text's span in it and ``parts[i]`` the span of
    image ``i - 1``'s description.
    """

    __slots__ = ("_collapsed", "_folded", "_squeezed", "cache", "parts", "text")

    def __init__(self, text: str, alt_texts: Sequence[str] = ()) -> None:
        self.parts = _parts(text, alt_texts) if alt_texts else ((0, len(text)),)
        self.text = self.joined(text, alt_texts)
        # The views are built when a scanner first reads them: some read only the text.
        self._folded: View | None = None
        self._squeezed: View | None = None
        self._collapsed: tuple[tuple[int, int], ...] = ()
        # Scanners share work through this cache (lexicon hits, tokens), keyed by who made it.
        self.cache: dict[object, Any] = {}

    @property
    def folded(self) -> View:
        if self._folded is None:
            self._folded = _fold(self.text)
        return self._folded

    @property
    def squeezed(self) -> View:
        if self._squeezed is None:
            self._squeezed, self._collapsed = _squeeze(self.folded)
        return self._squeezed

    @property
    def collapsed(self) -> tuple[tuple[int, int], ...]:
        """The squeezed spans that were spelled out letter by letter."""
        if self._squeezed is None:
            self._squeezed, self._collapsed = _squeeze(self.folded)
        return self._collapsed

    @staticmethod
    def joined(text: str, alt_texts: Sequence[str] = ()) -> str:
        """The text a document with these image descriptions reads."""
        return ALT_SEPARATOR.join([text, *alt_texts]) if alt_texts else text

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

    @property
    def has_images(self) -> bool:
        return len(self.parts) > 1

    def part_at(self, offset: int) -> int:
        """The part (0 = post text, i = image i - 1) an ORIGINAL offset falls in; an offset in
        the blank line between two parts belongs to the next one."""
        for index, (_, end) in enumerate(self.parts):
            if offset < end:
                return index
        return len(self.parts) - 1

    def locate(self, start: int, end: int) -> tuple[int, int, int]:
        """(part, start, end) of an ORIGINAL span, relative to the part its start lies in and
        clipped to that part, so it always indexes inside the part's own text."""
        index = self.part_at(start)
        first, last = self.parts[index]
        local_start = min(max(start, first), last) - first
        local_end = min(max(end, first), last) - first
        return index, local_start, max(local_start, local_end)
