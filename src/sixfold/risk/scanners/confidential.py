"""Confidential information: the organisation's own secret terms, unreleased financial figures,
deal talk, personnel matters and the cues people use when they know something is secret.

A CFO's "Good numbers=Happy Board" before results was a financial disclosure; on its own such
language asks for review, and is only noted when the post shows the news is already public (a
results release, a webcast, a completed deal). Any of it next to a secrecy cue ("not public
yet", "embargoed") or a term from the organisation's confidential list blocks. A secrecy cue on
its own is noted: "top secret new flavour" is a teaser, not a leak.
"""

from __future__ import annotations

import re

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import Hit
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.policy import CONFIDENTIAL_LEXICON
from sixfold.risk.scanners.base import BaseScanner, distinct_terms, hit_span, quote

_TOPICS = {
    "financial": "unreleased financial results",
    "merger": "a merger, acquisition or sale",
    "personnel": "personnel matters (layoffs, firings)",
}


# Deal and closure phrasings with a name in the middle ("taking Tesla private", "closing the
# Glasgow and Bristol stores") that a fixed word list cannot hold.
_PATTERNS = (
    ("merger", re.compile(r"\b(?:take|taking|took|go|going)\s+(?:\w+\s+){0,3}private\b")),
    ("merger", re.compile(r"\b(?:deal|merger|acquisition|sale)\s+(?:is\s+|was\s+)?signed\b")),
    ("financial", re.compile(r"\bboard\s+(?:has\s+|just\s+|have\s+)?(?:approved|signed off)\b")),
    ("financial", re.compile(r"\bfunding\s+(?:is\s+)?secured\b")),
    # Deal intent in the first person: "I still think we should buy them".
    (
        "merger",
        re.compile(
            r"\b(?:we|i)\s+(?:still\s+|really\s+)?(?:think\s+we\s+)?(?:should|could|must|"
            r"will|need\s+to|want\s+to|ought\s+to|have\s+to)\s+(?:buy|acquire)\s+"
            r"(?:them|the\s+company|the\s+business|the\s+startup)\b"
            r"(?!\s+(?:a|an|all|some|for|lunch|dinner|drinks?|coffee|out|back|in)\b)"
        ),
    ),
    (
        "personnel",
        re.compile(
            r"\b(?:clos(?:e|es|ing)|shut(?:ting)?(?:\s+down)?)\s+(?:\w+\s+){0,5}"
            r"(?:stores|shops|branches|offices|plants|factories|sites|warehouses)\b"
        ),
    ),
)
# A business metric with a figure: "monthly viewing exceeded 1 billion hours". Read in the
# folded view, where "$40m" is still a number (the squeezed view reads it as leetspeak).
_METRIC = re.compile(
    r"\b(?:monthly|quarterly|weekly|daily|annual|yearly)\s+(?:active\s+)?"
    r"(?:viewing|viewers|users|subscribers|sales|revenue|bookings|orders|downloads|"
    r"traffic|members|customers|sign-?ups|streams|hours)\b[^.!?]{0,40}?"
    r"\b(?:exceeded|topped|passed|surpassed|hit|reached|crossed|broke)\s+"
    r"(?:the\s+)?[$€£]?\d"
)
_SCORES = {Severity.BLOCK: 0.9, Severity.REVIEW: 0.55, Severity.INFO: 0.2}


def _same_case(doc: Document, hit: Hit) -> bool:
    """A codename written with a capital ("Tidewater") is a proper noun; "tidewater creeks" in
    lower case is the ordinary word and does not match it."""
    return (
        not hit.term[:1].isupper()
        or doc.text[hit.original_start : hit.original_start + 1].isupper()
    )


_PATTERN_GATE = re.compile(
    r"private|signed|approved|secured|clos|shut|monthly|quarterly|weekly|daily|annual|yearly"
    r"|buy|acquire"
)


def _pattern_hits(doc: Document) -> list[Hit]:
    if not _PATTERN_GATE.search(doc.squeezed.text):
        return []
    hits = []
    for lexicon, pattern in _PATTERNS:
        for match in pattern.finditer(doc.squeezed.text):
            original = doc.span(match.start(), match.end())
            hits.append(Hit(lexicon, match.group(0), match.start(), match.end(), *original))
    for match in _METRIC.finditer(doc.folded.text):
        original = doc.folded.to_original(match.start(), match.end())
        hits.append(Hit("financial", match.group(0), match.start(), match.end(), *original))
    return hits


class ConfidentialScanner(BaseScanner):
    lexicons = ("financial", "merger", "personnel", "secrecy", "disclosed", "confidential_cues")
    # The patterns need one of the cue words (confidential.yaml), found in the same pass as the
    # lexicons.
    gate = Gate(
        lexicons=("financial", "merger", "personnel", "secrecy", "confidential_cues"),
        confidential_terms=True,
    )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        own = [hit for hit in self._own_terms(document, context) if _same_case(document, hit)]
        topics = distinct_terms(self.hits(document, *_TOPICS) + _pattern_hits(document))
        secrecy = distinct_terms(self.hits(document, "secrecy"))
        public = bool(self.hits(document, "disclosed"))
        findings = [self._own_term(document, hit) for hit in distinct_terms(own)]
        escalate = bool(secrecy) or bool(own)
        level = Severity.BLOCK if escalate else Severity.INFO if public else Severity.REVIEW
        findings += [self._topic(document, hit, level) for hit in topics]
        level = Severity.BLOCK if topics or own else Severity.INFO
        findings += [self._secrecy(document, hit, level) for hit in secrecy]
        return findings

    def _own_terms(self, doc: Document, context: Context) -> list[Hit]:
        return context.policy.terms_index.find(doc).get(CONFIDENTIAL_LEXICON, [])

    def _own_term(self, doc: Document, hit: Hit) -> Finding:
        return self.finding(
            category="confidential_term",
            severity=Severity.BLOCK,
            score=0.95,
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} is on your organisation's list of confidential "
            "terms (codenames, unreleased products).",
        )

    def _topic(self, doc: Document, hit: Hit, level: Severity) -> Finding:
        what = _TOPICS[hit.lexicon]
        tail = {
            Severity.BLOCK: " next to a secrecy cue or a confidential term",
            Severity.REVIEW: "; only post it once it is public",
            Severity.INFO: "; the post says it is already public",
        }[level]
        return self.finding(
            category=hit.lexicon,
            severity=level,
            score=_SCORES[level],
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} may disclose {what}{tail}.",
        )

    def _secrecy(self, doc: Document, hit: Hit, level: Severity) -> Finding:
        escalate = level is Severity.BLOCK
        tail = (
            ", and the post discusses confidential matters"
            if escalate
            else "; fine for a teaser, not for real secrets"
        )
        return self.finding(
            category="secrecy",
            severity=level,
            score=_SCORES[level],
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} says the information is not public{tail}.",
        )
