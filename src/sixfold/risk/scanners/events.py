"""Sensitive events: posts that reference an event active on the posting date.

A mention next to promotion or humour is the newsjacking pattern behind the Gap/Hurricane Sandy
and Kenneth Cole/Cairo posts and blocks (a fundraiser that also sells only asks for review). A
mention in the register of tribute, sympathy or a service update ("we remember", "our thoughts
are with", "stores will stay closed") is noted; any other mention asks a person to read the post
in the light of the day. Observances that are celebrated rather than mourned (International
Women's Day) are only noted when mentioned, and reviewed when tied to a sale.
"""

from __future__ import annotations

from sixfold.risk.document import Document
from sixfold.risk.events import Event
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import (
    BaseScanner,
    festive_tags,
    hit_span,
    products_shown,
    quote,
    where,
)

CATEGORY = "sensitive_event"


class SensitiveEventScanner(BaseScanner):
    lexicons = ("promotion", "humour", "relief", "tribute", "idioms", "products", "festive")
    gate = Gate(events=True)

    def scan(self, document: Document, context: Context) -> list[Finding]:
        mentions = context.events.mentions(document, context.date)
        if mentions:
            # A register keyword inside a harmless idiom ("shooting star") is not a mention.
            idioms = self.hits(document, "idioms")
            mentions = [
                (event, hit)
                for event, hit in mentions
                if not any(i.start <= hit.start and hit.end <= i.end for i in idioms)
            ]
        if not mentions:
            return []
        aggravating = self._aggravating(document)
        respectful = aggravating is None and bool(self.hits(document, "tribute"))
        helping = bool(self.hits(document, "relief"))
        findings = []
        for event, hit in _first_per_event(mentions):
            tone = None if aggravating or event.is_observance else self._tone(document, hit)
            if tone is not None:
                findings.append(self._mixed(document, event, hit, *tone))
            else:
                findings.append(
                    self._finding(
                        document, event, hit, aggravating, respectful=respectful, helping=helping
                    )
                )
        return findings

    def _tone(self, doc: Document, mention: Hit) -> tuple[str, Hit] | None:
        """A product shown, or campaign cheer in a hashtag, next to a mourned event: milder
        than a sale, but a tribute that carries an advert or a party reads as one."""
        cheer = festive_tags(doc, self.hits(doc, "festive"))
        if cheer:
            return "party cheer", cheer[0]
        if self.hits(doc, "relief"):
            return None
        shown = products_shown(doc, self.hits(doc, "products"), mention)
        return ("a product", shown[0]) if shown else None

    def _mixed(self, doc: Document, event: Event, hit: Hit, what: str, other: Hit) -> Finding:
        span = hit_span(other)
        return self.finding(
            category=CATEGORY,
            severity=Severity.REVIEW,
            score=self.option("mention_score", 0.6),
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} matches the active event '{event.name}' "
            f"({event.start.day} {event.start:%b %Y}) and the post also shows {what} "
            f"({quote(doc, span)}{where(doc, span)}): a tribute with an advert or a party in it "
            "reads as using the day.",
        )

    def _aggravating(self, doc: Document) -> tuple[str, tuple[int, int]] | None:
        promo = self.promotion(doc)
        if promo:
            return "promotes", promo[0]
        jokes = self.hits(doc, "humour")
        if jokes:
            return "jokes", hit_span(jokes[0])
        return None

    def _finding(
        self,
        doc: Document,
        event: Event,
        hit: Hit,
        aggravating: tuple[str, tuple[int, int]] | None,
        *,
        respectful: bool,
        helping: bool,
    ) -> Finding:
        base = f"{quote(doc, hit_span(hit))} matches the active event '{event.name}' " + (
            f"({event.start.day} {event.start:%b %Y})"
        )
        if aggravating is None:
            quiet = respectful or event.is_observance
            return self.finding(
                category=CATEGORY,
                severity=Severity.INFO if quiet else Severity.REVIEW,
                score=0.2 if respectful else self.option("mention_score", 0.6),
                span=hit_span(hit),
                message=f"{base}; read it as your audience will on this day.",
            )
        verb, span = aggravating
        return self.finding(
            category=CATEGORY,
            severity=Severity.REVIEW if helping or event.is_observance else Severity.BLOCK,
            score=self.option("exploit_score", 0.95),
            span=hit_span(hit),
            message=f"{base} and the post also {verb} ({quote(doc, span)}): "
            "this reads as cashing in on a tragedy.",
        )


def _first_per_event(mentions: list[tuple[Event, Hit]]) -> list[tuple[Event, Hit]]:
    """The first mention of each event; a span already reported for one event is not repeated
    for another (the built-in calendar and a register often both list 11 September)."""
    seen_events: set[int] = set()
    seen_spans: set[tuple[int, int]] = set()
    firsts = []
    for event, hit in sorted(mentions, key=lambda pair: pair[1].start):
        span = hit_span(hit)
        if id(event) not in seen_events and span not in seen_spans:
            seen_events.add(id(event))
            seen_spans.add(span)
            firsts.append((event, hit))
    return firsts
