"""Hot-button topics and off-brand personal posts: things a brand account should not wander into
without a person deciding it should.

Politics, religion and contested social issues ask for review, never block: some organisations
speak on them deliberately, and their policy can lower the verdict to ``ok``. Intoxication asks
for review when the post speaks in the first person; first-person private life ("my boyfriend",
"date night") is noted, and asks for review together with intoxication or profanity (the Red
Cross "#gettngslizzerd" and Chrysler posts were meant for personal accounts).
"""

from __future__ import annotations

import re

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, hit_span, quote

# Intoxication words are often about products ("none of the hangover", "rum-drunk fruit cake");
# they point at a person's own state when the post speaks in the first person or in chat slang.
_PERSONAL_VOICE = re.compile(
    r"\b(?:i|i'm|im|i've|ive|me|my|we|we're|we've|us|lol|lmao\w*|af|pls|plz|omg|ngl|rn)\b|🥴|😵"
)
_TOPIC_NAMES = {
    "politics": "party politics",
    "religion": "religion",
    "social_issue": "a contested social issue",
}


class HotTopicScanner(BaseScanner):
    lexicons = tuple(_TOPIC_NAMES)
    gate = Gate(lexicons=tuple(_TOPIC_NAMES))

    def scan(self, document: Document, context: Context) -> list[Finding]:
        if not context.policy.brand_account:
            return []
        findings = []
        for lexicon, name in _TOPIC_NAMES.items():
            hits = self.hits(document, lexicon)
            if hits:
                span = hit_span(hits[0])
                findings.append(
                    self.finding(
                        category=lexicon,
                        severity=Severity.REVIEW,
                        score=0.5,
                        span=span,
                        message=f"{quote(document, span)} touches on {name}; a brand account "
                        "should only go there on purpose.",
                    )
                )
        return findings


class OffBrandScanner(BaseScanner):
    lexicons = (
        "intoxication",
        "personal_private",
        "personal_life",
        "profanity_strong",
        "profanity_mild",
    )
    gate = Gate(lexicons=("intoxication", "personal_private", "personal_life"))

    def scan(self, document: Document, context: Context) -> list[Finding]:
        if not context.policy.brand_account:
            return []
        drunk = self.hits(document, "intoxication")
        private = self.hits(document, "personal_private")
        personal = private or self.hits(document, "personal_life")
        swearing = self.hits(document, "profanity_strong", "profanity_mild")
        findings = []
        if drunk:
            span = hit_span(drunk[0])
            personal_voice = bool(_PERSONAL_VOICE.search(document.squeezed.text))
            findings.append(
                self.finding(
                    category="intoxication",
                    severity=Severity.REVIEW if personal_voice else Severity.INFO,
                    score=0.7 if personal_voice else 0.2,
                    span=span,
                    message=f"{quote(document, span)} talks about being drunk or high; "
                    "was this meant for a personal account?",
                )
            )
        if personal:
            span = hit_span(personal[0])
            serious = bool(drunk or swearing or private)
            findings.append(
                self.finding(
                    category="personal_life",
                    severity=Severity.REVIEW if serious else Severity.INFO,
                    score=0.6 if serious else 0.2,
                    span=span,
                    message=f"{quote(document, span)} reads like a personal post; "
                    "check you are posting from the right account.",
                )
            )
        return findings
