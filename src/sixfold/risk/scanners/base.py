"""What every scanner shares: its name, the lexicon index, options from the registry, and helpers
that turn lexicon hits into findings with messages a junior social-media manager understands."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit, LexiconIndex
from sixfold.risk.model import Context, Finding, Severity

# Price and discount shapes that mark a post as promotional even without a promotion word.
_PROMO_PATTERN = re.compile(
    r"\d{1,3}\s?%\s?(?:off|discount)|[$€£]\s?\d|\b(?:use|with|enter)\s+(?:the\s+)?code\b"
    r"|\bcode\s+[a-z]*\d+[a-z\d]*\b|/shop\b|/store\b|/products?/"
    r"|\b\d\s?for\s?\d\b|\b(?:today|tonight|this week(?:end)?)\s+only\b"
)

# Every match of _PROMO_PATTERN holds one of these; the pattern itself is slow to search.
_PROMO_MARKS = ("%", "$", "€", "£", "code", "/", "for", "only")


class BaseScanner(ABC):
    """Holds what the registry gives a scanner; subclasses implement ``scan``."""

    #: Lexicons the scanner reads; the registry checks they exist when it builds the engine.
    lexicons: tuple[str, ...] = ()
    #: What a post must show before this scanner can find anything (see batch.py); None means
    #: the batch path runs it on every post.
    gate: Gate | None = None

    def __init__(self, *, name: str, index: LexiconIndex, options: Mapping[str, Any]) -> None:
        self.name = name
        self.index = index
        self.options = dict(options)
        missing = [name for name in self.lexicons if name not in index.names]
        if missing:
            raise ValueError(f"scanner {name!r} needs lexicons that are not loaded: {missing}")

    @abstractmethod
    def scan(self, document: Document, context: Context) -> list[Finding]: ...

    def option(self, key: str, default: float) -> float:
        return float(self.options.get(key, default))

    def hits(self, doc: Document, *lexicons: str) -> list[Hit]:
        """Hits of the named lexicons in order of appearance (a new list the caller may keep)."""
        found = self.index.find(doc)
        if len(lexicons) == 1:
            return list(found.get(lexicons[0], ()))
        present = [found[name] for name in lexicons if name in found]
        if not present:
            return []
        if len(present) == 1:
            return list(present[0])
        return sorted((hit for hits in present for hit in hits), key=lambda h: h.start)

    def finding(
        self,
        *,
        category: str,
        severity: Severity,
        score: float,
        span: tuple[int, int],
        message: str,
    ) -> Finding:
        start, end = span
        return Finding(self.name, category, severity, score, start, end, message)

    def promotion(self, doc: Document) -> list[tuple[int, int]]:
        """Original spans of promotional language: lexicon words and price/discount shapes."""
        found = self.index.find(doc)
        spans = [(h.original_start, h.original_end) for h in found.get("promotion", ())]
        # In a fundraising post "$100,000" is a donation, not a price.
        text = doc.squeezed.text
        if not found.get("relief") and any(mark in text for mark in _PROMO_MARKS):
            for match in _PROMO_PATTERN.finditer(text):
                spans.append(doc.span(match.start(), match.end()))
        return sorted(spans)


_HASHTAG = re.compile(r"#\w+")


def festive_tags(doc: Document, hits: Sequence[Hit]) -> list[Hit]:
    """The festive hits that lie inside a hashtag ("#JoyToTheWorld", "#PartyTime"): campaign
    cheer left on a post about grief."""
    if "#" not in doc.text or not hits:
        return []
    tags = [m.span() for m in _HASHTAG.finditer(doc.squeezed.text)]
    return [h for h in hits if any(s < h.start and h.end <= e for s, e in tags)]


def products_shown(doc: Document, hits: Sequence[Hit], anchor: Hit | None = None) -> list[Hit]:
    """Product words that do not overlap ``anchor`` (the tragedy word itself, as in "boots on
    the ground"); in the order found."""
    if anchor is None:
        return list(hits)
    return [h for h in hits if h.end <= anchor.start or h.start >= anchor.end]


def where(doc: Document, span: tuple[int, int]) -> str:
    """ "in the image description" for a span in an image's alt text, else nothing."""
    return " in the image description" if doc.part_at(span[0]) > 0 else ""


def quote(doc: Document, span: tuple[int, int]) -> str:
    """The original words of a span, quoted for a message."""
    return f"'{doc.excerpt(*span)}'"


def hit_span(hit: Hit) -> tuple[int, int]:
    return hit.original_start, hit.original_end


def distinct_terms(hits: Iterable[Hit]) -> list[Hit]:
    """The first hit of each distinct term, in order of appearance."""
    seen: set[str] = set()
    firsts = []
    for hit in hits:
        if hit.term not in seen:
            seen.add(hit.term)
            firsts.append(hit)
    return firsts


def near(a: Hit, others: Sequence[Hit], window: int) -> Hit | None:
    """The first of ``others`` within ``window`` characters of ``a`` in the squeezed view."""
    for other in others:
        gap = max(other.start - a.end, a.start - other.end)
        if gap <= window and other is not a:
            return other
    return None


def label(lexicon: str) -> str:
    """A lexicon name as plain words: "tragedy_war" -> "war"."""
    if lexicon == "tragedy_weak":
        return "tragedy"
    return lexicon.removeprefix("tragedy_").replace("_", " ")
