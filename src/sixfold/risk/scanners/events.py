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
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, hit_span, quote

CATEGORY = "sensitive_event"


class SensitiveEventScanner(BaseScanner):
    lexicons = ("promotion", "humour", "relief", "tribute", "idioms")

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
        return [
            self._finding(document, event, hit, aggravating, respectful=respectful, helping=helping)
            for event, hit in _first_per_event(mentions)
        ]

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
