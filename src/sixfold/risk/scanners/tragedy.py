"""Tragedy plus promotion, without a registered event.

Most newsjacking happens on the day, before anyone has added the event to a register. This scanner
looks for the pattern itself: language of disaster, death, war, unrest, oppression, crime or
terror in the same post as selling or joking. Strong words count alone; figurative-prone words
("storm", "war", "crash") count only in pairs, and idioms ("price war") never count.
"""

from __future__ import annotations

import re

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import (
    BaseScanner,
    distinct_terms,
    festive_tags,
    hit_span,
    label,
    products_shown,
    quote,
    where,
)

CATEGORY = "tragedy_promotion"
STRONG = (
    "tragedy_disaster",
    "tragedy_death",
    "tragedy_war",
    "tragedy_unrest",
    "tragedy_oppression",
    "tragedy_crime",
    "tragedy_terror",
)
WEAK = "tragedy_weak"
# Help for people in need made conditional on engagement ("1 RT = 1 breakfast for a vulnerable
# child", "for every goal we will donate meals"): widely criticised as using suffering as bait.
_CONDITIONAL_GIVING = re.compile(
    r"\b(?:for (?:every|each)|1|one)\s+(?:rt|retweet|like|share|follow|comment|repost|goal|view)s?"
    r"\b(?:\s*=|[^.!?]{0,80}?\b(?:donat\w*|give|meals?|breakfasts?|child(?:ren)?|charity))"
)
_GIVING_COUNTS = ("for every", "for each", "1", "one")
_ENGAGING = ("rt", "retweet", "like", "share", "follow", "comment", "repost", "goal", "view")

# The start of that pattern, enough for the batch planner to know the post needs a look.
_GIVING_ACTS = "|".join(_ENGAGING)
_GIVING_GATE = re.compile(rf"(?:for (?:every|each)|1|one)\s+(?:{_GIVING_ACTS})")


class TragedyPromotionScanner(BaseScanner):
    lexicons = (*STRONG, WEAK, "promotion", "humour", "relief", "products", "festive")
    gate = Gate(
        lexicons=STRONG,
        pairs=(WEAK,),
        squeezed=(_GIVING_GATE,),
        across=(("squeezed", "1|one|every|each", _GIVING_ACTS),),
    )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        return self._conditional_giving(document) + self._tragedy(document)

    def _conditional_giving(self, doc: Document) -> list[Finding]:
        text = doc.squeezed.text
        # The pattern is slow to search; every match holds a word of both of these lists.
        if not (any(w in text for w in _GIVING_COUNTS) and any(w in text for w in _ENGAGING)):
            return []
        match = _CONDITIONAL_GIVING.search(text)
        if match is None:
            return []
        span = doc.span(match.start(), match.end())
        return [
            self.finding(
                category="conditional_charity",
                severity=Severity.REVIEW,
                score=0.6,
                span=span,
                message=f"{quote(doc, span)} makes help for people in need depend on likes or "
                "shares, which reads as using their hardship for engagement.",
            )
        ]

    def _tragedy(self, document: Document) -> list[Finding]:
        strong = self.hits(document, *STRONG)
        weak = distinct_terms(self.hits(document, WEAK))
        if not strong and len(weak) < 2:
            return []
        anchor = strong[0] if strong else weak[0]
        promo = self.promotion(document)
        if promo:
            return [self._promotion(document, anchor, promo[0], strong=bool(strong))]
        jokes = self.hits(document, "humour")
        if jokes:
            return [self._joke(document, anchor, jokes[0])]
        cheer = festive_tags(document, self.hits(document, "festive"))
        if cheer:
            return [self._mixed(document, anchor, cheer[0], "party cheer")]
        if strong and not self.hits(document, "relief"):
            shown = products_shown(document, self.hits(document, "products"), anchor)
            if shown:
                return [self._mixed(document, anchor, shown[0], "a product")]
        return [self._mention(document, anchor)]

    def _mixed(self, doc: Document, anchor: Hit, other: Hit, what: str) -> Finding:
        span = hit_span(other)
        return self.finding(
            category=CATEGORY,
            severity=Severity.REVIEW,
            score=0.6,
            span=hit_span(anchor),
            message=f"{quote(doc, hit_span(anchor))} ({label(anchor.lexicon)} language) appears "
            f"with {what} ({quote(doc, span)}{where(doc, span)}): next to suffering that reads "
            "as an advert or as not caring.",
        )

    def _promotion(
        self, doc: Document, anchor: Hit, promo: tuple[int, int], *, strong: bool
    ) -> Finding:
        helping = bool(self.hits(doc, "relief"))
        severity = Severity.BLOCK if strong and not helping else Severity.REVIEW
        why = (
            "a fundraiser tied to a tragedy still needs a careful read"
            if helping
            else "tying a tragedy to a sale reads as exploiting it"
        )
        return self.finding(
            category=CATEGORY,
            severity=severity,
            score=self.option("promotion_score", 0.9) if strong else 0.6,
            span=hit_span(anchor),
            message=f"{quote(doc, hit_span(anchor))} ({label(anchor.lexicon)} language) appears "
            f"in the same post as promotion ({quote(doc, promo)}): {why}.",
        )

    def _joke(self, doc: Document, anchor: Hit, joke: Hit) -> Finding:
        return self.finding(
            category=CATEGORY,
            severity=Severity.REVIEW,
            score=self.option("humour_score", 0.7),
            span=hit_span(anchor),
            message=f"{quote(doc, hit_span(anchor))} ({label(anchor.lexicon)} language) appears "
            f"next to humour ({quote(doc, hit_span(joke))}): jokes about suffering go badly.",
        )

    def _mention(self, doc: Document, anchor: Hit) -> Finding:
        return self.finding(
            category=CATEGORY,
            severity=Severity.INFO,
            score=0.2,
            span=hit_span(anchor),
            message=f"{quote(doc, hit_span(anchor))} is {label(anchor.lexicon)} language; "
            "keep the tone plain and do not pair it with an offer.",
        )
