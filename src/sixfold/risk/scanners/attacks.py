"""Attacks on individuals and minors: insults or sexual language aimed at a person or a child.

The Onion's post about a nine-year-old actress was an insult next to a name and an age. A target
is a minor term or an age under 18 ("9-year-old"), an @mention, a capitalised full name, or the
reader ("you"). Insults near a target ask for review, and block when the target is a child or the
word is a slur or strong profanity; sexual language near a child always blocks.
"""

from __future__ import annotations

import bisect
import re

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, hit_span, near, quote

_AGE = re.compile(r"\b(\d{1,2})[- ]?(?:years?|yrs?|yo)(?:[- ]old)?\b")
_DIGIT = re.compile(r"\d")
_MENTION = re.compile(r"(?<![\w@])@\w{2,}")
_NAME = re.compile(r"\b[A-Z][^\W\d_]+(?:[ \-][A-Z][^\W\d_]+)+")
ADULT_AGE = 18
WINDOW = 40  # characters: about six words either side


class PersonalAttackScanner(BaseScanner):
    lexicons = (
        "insults",
        "sexual",
        "minors",
        "second_person",
        "profanity_strong",
        "slurs",
        "dismissive",
    )
    gate = Gate(lexicons=("insults", "sexual", "profanity_strong", "slurs", "dismissive"))

    def scan(self, document: Document, context: Context) -> list[Finding]:
        children = self.hits(document, "minors") + _ages(document)
        people = self.hits(document, "second_person") + _names(document)
        sexual = self.hits(document, "sexual")
        harsh = self.hits(document, "profanity_strong", "slurs")
        insults = self.hits(document, "insults")
        findings = []
        for word in sexual:
            child = near(word, children, self.window)
            if child is not None:
                findings.append(self._against_child(document, word, child, "sexual language"))
        for word in insults + harsh:
            child = near(word, children, self.window)
            if child is not None:
                findings.append(self._against_child(document, word, child, "an insult"))
                continue
            person = near(word, _same_sentence(document, word, people), self.window)
            if person is not None:
                findings.append(self._against_person(document, word, person, harsh=word in harsh))
        findings.extend(
            self._dismissive(document, hit) for hit in self.hits(document, "dismissive")[:1]
        )
        return findings

    def _dismissive(self, doc: Document, hit: Hit) -> Finding:
        return self.finding(
            category="personal_attack",
            severity=Severity.REVIEW,
            score=0.6,
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} brushes the reader off; a brand that answers "
            "criticism this way becomes the story.",
        )

    @property
    def window(self) -> int:
        return int(self.option("window", WINDOW))

    def _against_child(self, doc: Document, word: Hit, child: Hit, what: str) -> Finding:
        return self.finding(
            category="minor_safety",
            severity=Severity.BLOCK,
            score=0.97,
            span=hit_span(word),
            message=f"{quote(doc, hit_span(word))} is {what} close to "
            f"{quote(doc, hit_span(child))}, which refers to a child.",
        )

    def _against_person(self, doc: Document, word: Hit, person: Hit, *, harsh: bool) -> Finding:
        return self.finding(
            category="personal_attack",
            severity=Severity.BLOCK if harsh else Severity.REVIEW,
            score=0.9 if harsh else 0.6,
            span=hit_span(word),
            message=f"{quote(doc, hit_span(word))} reads as an insult aimed at "
            f"{quote(doc, hit_span(person))}; brands do not insult people.",
        )


_SENTENCE_END = re.compile(r"[.!?]\s")


def _same_sentence(doc: Document, word: Hit, people: list[Hit]) -> list[Hit]:
    """The people in the same sentence as ``word``: "a tyrant king. Can you beat him?" does
    not call the reader a tyrant."""
    text = doc.squeezed.text
    kept = []
    for person in people:
        low, high = min(word.end, person.end), max(word.start, person.start)
        if not _SENTENCE_END.search(text, low, max(low, high)):
            kept.append(person)
    return kept


def _pseudo_hit(doc: Document, lexicon: str, start: int, end: int) -> Hit:
    original = doc.span(start, end)
    return Hit(lexicon, doc.squeezed.text[start:end], start, end, *original)


def _ages(doc: Document) -> list[Hit]:
    text = doc.squeezed.text
    if "y" not in text or not _DIGIT.search(text):  # an age is digits and "y..."
        return []
    return [
        _pseudo_hit(doc, "age", m.start(), m.end())
        for m in _AGE.finditer(text)
        if int(m.group(1)) < ADULT_AGE
    ]


def _names(doc: Document) -> list[Hit]:
    """@mentions and Capitalised Full Names, located in the squeezed view."""
    found = []
    if "@" in doc.text:
        found = [
            _from_original(doc, m.start(), m.end(), "mention") for m in _MENTION.finditer(doc.text)
        ]
    found += [_from_original(doc, m.start(), m.end(), "name") for m in _NAME.finditer(doc.text)]
    return found


def _from_original(doc: Document, start: int, end: int, lexicon: str) -> Hit:
    """A Hit for an original span, with squeezed positions found through the offset map."""
    offsets = doc.squeezed.offsets
    first, last = bisect.bisect_left(offsets, start), bisect.bisect_left(offsets, end)
    return Hit(lexicon, doc.text[start:end], first, last, start, end)
