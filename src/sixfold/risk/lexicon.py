"""Lexicons: word lists kept as data files, compiled once into one Aho–Corasick automaton.

Every lexicon term is normalised with the same folding as the posts (see document.py), so a term
and its evasive spelling meet in the squeezed view. One automaton holds every lexicon, so a post is
scanned once however many lists there are; each hit remembers which lexicon it came from.

Term syntax in the YAML files: a plain term matches whole words only; a trailing ``*`` also
matches longer words that start with it ("fuck*" covers "fucking"). The special lexicon
``idioms`` lists harmless phrases ("killing it", "photo shoot"); any other hit that lies inside
an idiom is dropped, which is how "this sale is the bomb" stays clean without weakening "bomb".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick
import yaml

from sixfold.risk.document import Document

IDIOMS = "idioms"
_HASHTAG = re.compile(r"#\w+")
_MIN_COLLAPSED_LENGTH = 3
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class Hit(NamedTuple):
    """A lexicon term found in a post: squeezed-view span and original-text span.

    A named tuple rather than a frozen dataclass: every look-up makes several, and a tuple is
    built three times faster (a frozen dataclass sets each field through object.__setattr__)."""

    lexicon: str
    term: str
    start: int
    end: int
    original_start: int
    original_end: int


def normalise_term(term: str) -> str:
    """Fold a lexicon term exactly as a post is folded, so both meet in the same view."""
    return " ".join(Document(term).squeezed.text.split())


def load_lexicon_files(paths: Iterable[Path]) -> dict[str, list[str]]:
    """Read YAML files that map lexicon names to lists of terms; a name may appear only once."""
    lexicons: dict[str, list[str]] = {}
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, terms in data.items():
            if name in lexicons:
                raise ValueError(f"lexicon {name!r} is defined twice ({path.name})")
            lexicons[str(name)] = [str(term) for term in terms]
    return lexicons


def builtin_lexicons() -> dict[str, list[str]]:
    """Every lexicon shipped in sixfold/risk/lexicons/."""
    folder = resources.files("sixfold.risk") / "lexicons"
    paths = sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return load_lexicon_files(paths)


class LexiconIndex:
    """All lexicons in one automaton; ``find`` returns hits grouped by lexicon."""

    def __init__(self, lexicons: Mapping[str, Iterable[str]]) -> None:
        self.names = frozenset(lexicons)
        entries: dict[str, list[tuple[int, str, str, bool]]] = {}
        self._terms: dict[str, list[tuple[str, bool]]] = {}
        for name, terms in lexicons.items():
            for raw in terms:
                prefix = raw.endswith("*")
                key = normalise_term(raw.rstrip("*"))
                if key:
                    self._terms.setdefault(name, []).append((key, prefix))
                    entries.setdefault(key, []).append((len(key), name, raw.rstrip("*"), prefix))
        self._entries = entries
        self._automaton: Any = _automaton(entries)
        self._empty = not entries

    def automaton(self, lexicons: Iterable[str] | None = None) -> Any:
        """An automaton over the terms of the named lexicons (of all, when None), whose values
        are ``(length, lexicon, term, prefix)`` tuples; None when there is no term. The batch
        planner runs these over many posts at once."""
        if lexicons is None:
            return None if self._empty else self._automaton
        wanted = frozenset(lexicons)
        entries = {
            key: kept
            for key, values in self._entries.items()
            if (kept := [v for v in values if v[1] in wanted])
        }
        return _automaton(entries) if entries else None

    def keys(self, lexicons: Iterable[str] | None = None) -> list[str]:
        """The normalised terms of the named lexicons (of all, when None), as the automaton
        matches them."""
        return [key for key, _ in self.keys_and_prefixes(lexicons)]

    def keys_and_prefixes(self, lexicons: Iterable[str] | None = None) -> list[tuple[str, bool]]:
        """``keys``, each with whether it is a prefix term in one of those lexicons (it then
        also matches longer words)."""
        wanted = self.names if lexicons is None else frozenset(lexicons)
        found = []
        for key, values in self._entries.items():
            kept = [v for v in values if v[1] in wanted]
            if kept:
                found.append((key, any(v[3] for v in kept)))
        return found

    def terms(self, lexicon: str) -> list[tuple[str, bool]]:
        """The normalised terms of one lexicon and whether each is a prefix term."""
        return list(self._terms.get(lexicon, ()))

    def find(self, doc: Document) -> dict[str, list[Hit]]:
        cached: dict[str, list[Hit]] | None = doc.cache.get(self)
        if cached is None:
            cached = self._find(doc)
            doc.cache[self] = cached
        return cached

    def _find(self, doc: Document) -> dict[str, list[Hit]]:
        if self._empty:
            return {}
        view = doc.squeezed
        text, offsets, size = view.text, view.offsets, len(view.text)
        # Only hashtags and letter-by-letter runs let a term match inside a word.
        joins_words = "#" in doc.text or bool(doc.collapsed)
        tags: _Hashtags | None = None
        hits: dict[str, list[Hit]] = {}
        for last, values in self._automaton.iter(text):
            for length, lexicon, term, prefix in values:
                end = last + 1
                start = end - length
                if prefix:
                    while end < size and text[end].isalnum():
                        end += 1
                # Most matches are whole words; only the others need the hashtag and
                # spelled-out rules (and the hashtags are read only then).
                if (start and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
                    if not joins_words:
                        continue
                    tags = tags or _Hashtags(doc)
                    if _accept(doc, text, start, last + 1, prefix=prefix, tags=tags) is None:
                        continue
                # A match is never empty and lies inside the view, so this is doc.span's
                # mapping to the original text without its clamping.
                hit = Hit(lexicon, term, start, end, offsets[start], offsets[end - 1] + 1)
                hits.setdefault(lexicon, []).append(hit)
        return _drop_idiomatic(hits)


def _automaton(entries: Mapping[str, list[tuple[int, str, str, bool]]]) -> Any:
    automaton: Any = ahocorasick.Automaton()
    for key, values in entries.items():
        automaton.add_word(key, tuple(values))
    if entries:
        automaton.make_automaton()
    return automaton


class _Hashtags:
    """Where words may start inside hashtags, which glue words together (#StaySafe)."""

    # Inside an all-lower-case hashtag only long terms may match mid-word: "#hurricaneseason"
    # holds "hurricane", but short words hide in innocent tags ("#grapes" holds "rape").
    MIN_INNER_LENGTH = 7

    def __init__(self, doc: Document) -> None:
        self.camel: frozenset[int] = frozenset()
        self.spans: tuple[tuple[int, int], ...] = ()
        if "#" not in doc.text:
            return
        self.camel = frozenset(
            tag.start() + m.start()
            for tag in _HASHTAG.finditer(doc.text)
            for m in _CAMEL.finditer(tag.group(0))
        )
        self.spans = tuple(m.span() for m in _HASHTAG.finditer(doc.squeezed.text))

    def inside(self, start: int, end: int) -> bool:
        return end - start >= self.MIN_INNER_LENGTH and any(
            s < start and end <= e for s, e in self.spans
        )


def _accept(
    doc: Document, text: str, start: int, end: int, *, prefix: bool, tags: _Hashtags
) -> tuple[int, int] | None:
    """The accepted span of a raw automaton match, or None when it is part of another word."""
    if prefix:
        while end < len(text) and text[end].isalnum():
            end += 1
    left = start == 0 or not text[start - 1].isalnum()
    right = end == len(text) or not text[end].isalnum()
    if left and right:
        return start, end
    if tags.spans:
        offsets = doc.squeezed.offsets
        left = left or offsets[start] in tags.camel
        right = right or end >= len(offsets) or offsets[end] in tags.camel
        if (left and right) or tags.inside(start, end):
            return start, end
    # Inside a letter-by-letter run ("f.u.c.k.y.o.u") word boundaries were erased, so longer
    # terms may match anywhere in it; single letters would match everywhere and may not.
    if end - start >= _MIN_COLLAPSED_LENGTH and doc.in_collapsed(start, end):
        return start, end
    return None


def _drop_idiomatic(hits: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
    idioms = hits.get(IDIOMS)
    if not idioms:
        return hits
    kept: dict[str, list[Hit]] = {IDIOMS: idioms}
    for lexicon, found in hits.items():
        if lexicon == IDIOMS:
            continue
        remaining = [
            h for h in found if not any(i.start <= h.start and h.end <= i.end for i in idioms)
        ]
        if remaining:
            kept[lexicon] = remaining
    return kept
