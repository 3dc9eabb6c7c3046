"""Harmful messaging: posts that demean a group of people or make light of consent.

Each rule is a pattern that has sunk brand posts more than once, not a list of bad posts:
- ``racist_trope``: apes or monkeys next to a Black person (The Home Depot's drummers, 2013;
  H&M's "coolest monkey" hoodie, 2018), and whiteness called purity (NIVEA, 2017);
- ``stereotype``: phrases that tell women and men how to be ("think like a man", "man up"),
  which the UK advertising rules have banned since 2019;
- ``consent``: consent made light of ("removing 'no' from your vocabulary", Bud Light 2015),
  spiking someone else's drink (Bloomingdale's, 2015), and pictures of force against a
  frightened person (Belvedere, 2012), usually found in the image description.
Each asks for review: a person decides, and the message says what the pattern is.
"""

from __future__ import annotations

import re

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, hit_span, quote

_BLACK = re.compile(r"\bblack\b")
_PERSON_AFTER = 20  # characters between "Black" and the person it describes ("Black jazz drummers")
_DISTRESS_BEFORE = 15  # between "frightened" and the person ("a frightened young woman")
_WINDOW = 60  # characters: about ten words either side
_WHITE_PURITY = re.compile(
    r"\b(?:white(?:ness)?|fair(?:er)?\s+skin|light(?:er)?\s+skin)\s+(?:is|=|means|equals)\s+"
    r"(?:purity|pure|superior|superiority|supremacy)\b"
)
_NO_VOCABULARY = re.compile(
    r"\b(?:remov\w*|delet\w*|drop\w*|ban\w*|eras\w*|forget\w*|ditch\w*|los(?:e|ing))\s+"
    r"(?:the\s+word\s+)?['\"‘’“”]?no['\"‘’“”]?\s+from\s+(?:your|her|his|their|our|my)\s+"
    r"vocabulary\b"
)
_DRINK = r"(?:drink|drinks|eggnog|punch|cocktail|cocktails|coffee|beer|wine|glass|juice)\b"
_SPIKE = re.compile(
    r"\b(?:spik(?:e|es|ed|ing)|drug(?:s|ged|ging)?|roofie\w*)\s+(?P<whose>(?:[\w'’]+\s+){0,3}?)"
    + _DRINK
    + r"|\bslip\w*\s+(?:[\w'’]+\s+){0,3}?into\s+(?P<whose2>(?:[\w'’]+\s+){0,3}?)"
    + _DRINK
)
# Someone else's: "her", "his", "their", "a friend's" (not the reader's own "your coffee").
_THIRD_PARTY = re.compile(r"\b(?:her|his|their|them|someone['’]s|somebody['’]s|\w+['’]s)\b")
_COVERT = re.compile(
    r"\b(?:when|while)\s+(?:they|she|he)(?:['’]re|['’]s|\s+is|\s+are)\s+not\s+looking"
    r"|\bwithout\s+(?:them|her|him)\s+(?:knowing|noticing)"
)
_FORCE = re.compile(
    r"\b(?:grab\w*|restrain\w*|forc(?:e|es|ed|ing)\s+(?:her|him|them)|drag(?:s|ged|ging)?"
    r"|pin(?:s|ned|ning)?\s+(?:\w+\s+){0,3}down|hold(?:s|ing)?\s+(?:\w+\s+){0,3}down)\b"
)


class HarmfulMessageScanner(BaseScanner):
    lexicons = (
        "ape_terms",
        "people",
        "stereotypes",
        "consent_phrases",
        "distress",
        "consent_cues",
        "purity",
    )
    gate = Gate(lexicons=tuple(n for n in lexicons if n != "people"))

    def scan(self, document: Document, context: Context) -> list[Finding]:
        return [
            *self._ape_trope(document),
            *self._purity(document),
            *self._phrases(document, "stereotypes", "stereotype"),
            *self._phrases(document, "consent_phrases", "consent"),
            *self._no_vocabulary(document),
            *self._spiking(document),
            *self._force(document),
        ]

    def _ape_trope(self, doc: Document) -> list[Finding]:
        apes = self.hits(doc, "ape_terms")
        if not apes:
            return []
        people = self.hits(doc, "people")
        for black in _BLACK.finditer(doc.squeezed.text):
            person = _after(people, black.end(), _PERSON_AFTER)
            if person is None:
                continue
            ape = _within(apes, black.start(), person.end, _WINDOW)
            if ape is not None:
                span = doc.span(black.start(), person.end)
                return [
                    self._finding(
                        doc,
                        "racist_trope",
                        hit_span(ape),
                        f"{quote(doc, hit_span(ape))} next to {quote(doc, span)} echoes the "
                        "racist comparison of Black people with apes",
                        score=0.9,
                    )
                ]
        return []

    def _purity(self, doc: Document) -> list[Finding]:
        match = _WHITE_PURITY.search(doc.squeezed.text)
        if match is None:
            return []
        span = doc.span(match.start(), match.end())
        what = "equates whiteness with purity or superiority, a white-supremacist theme"
        return [self._finding(doc, "racist_trope", span, f"{quote(doc, span)} {what}")]

    def _phrases(self, doc: Document, lexicon: str, category: str) -> list[Finding]:
        what = {
            "stereotype": "tells women or men how to be, a stereotype advertising rules ban",
            "consent": "makes light of consent",
        }[category]
        return [
            self._finding(doc, category, hit_span(hit), f"{quote(doc, hit_span(hit))} {what}")
            for hit in self.hits(doc, lexicon)[:1]
        ]

    def _no_vocabulary(self, doc: Document) -> list[Finding]:
        match = _NO_VOCABULARY.search(doc.squeezed.text)
        if match is None:
            return []
        span = doc.span(match.start(), match.end())
        what = "reads as ignoring someone's 'no', which makes light of consent"
        return [self._finding(doc, "consent", span, f"{quote(doc, span)} {what}")]

    def _spiking(self, doc: Document) -> list[Finding]:
        text = doc.squeezed.text
        for match in _SPIKE.finditer(text):
            whose = match.group("whose") or match.group("whose2") or ""
            if _THIRD_PARTY.search(whose) or _COVERT.search(text):
                span = doc.span(match.start(), match.end())
                what = "reads as spiking someone else's drink, which is how drugging happens"
                return [self._finding(doc, "consent", span, f"{quote(doc, span)} {what}")]
        return []

    def _force(self, doc: Document) -> list[Finding]:
        people = self.hits(doc, "people")
        text = doc.squeezed.text
        for distress in self.hits(doc, "distress"):
            person = _after(people, distress.end, _DISTRESS_BEFORE)
            if person is None:
                continue
            low, high = max(0, distress.start - _WINDOW), person.end + _WINDOW
            force = _FORCE.search(text, low, high)
            if force is not None:
                span = doc.span(min(force.start(), distress.start), max(force.end(), person.end))
                victim = quote(doc, (distress.original_start, person.original_end))
                what = f"shows force against {victim}, which reads as assault"
                return [self._finding(doc, "consent", span, f"{quote(doc, span)} {what}")]
        return []

    def _finding(
        self, doc: Document, category: str, span: tuple[int, int], message: str, score: float = 0.8
    ) -> Finding:
        return self.finding(
            category=category,
            severity=Severity.REVIEW,
            score=score,
            span=span,
            message=f"{message}; have someone read it before it goes out.",
        )


def _after(hits: list[Hit], position: int, limit: int) -> Hit | None:
    """The first hit starting at most ``limit`` characters after ``position``."""
    for hit in hits:
        if 0 <= hit.start - position <= limit:
            return hit
    return None


def _within(hits: list[Hit], start: int, end: int, window: int) -> Hit | None:
    for hit in hits:
        if max(hit.start - end, start - hit.end) <= window:
            return hit
    return None
