"""Profanity and slurs, read through every evasion the document folds away.

Three signals: the lexicons, masked spellings such as "f***ing" or "c*nt" matched against the
strong words letter by letter, and alt-profanity-check's model for abuse the lists do not name.
Slurs and strong profanity block. Mild words ("damn fine coffee") and words with innocent senses
("Spotted dick", "The Cock Inn") are only noted, unless the model also reads the post as
offensive, in which case they ask for review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.hashtags import best_split, model_costs, straddling
from sixfold.risk.lexicon import Hit, LexiconIndex
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.profanity_model import TOKEN_PATTERN, ProfanityModel
from sixfold.risk.scanners.base import BaseScanner, hit_span, quote

# A word with letters and a run of asterisks (or # / @ used as masks) inside or at its end.
_MASKED = re.compile(r"(?<![\w*])[a-z]+[*#]+[a-z]*(?![\w*])")
_MASK_GATE = re.compile(r"[*#](?<=[a-z][*#])")
# A hashtag in one case (no capital after a small letter), long enough to hide a word.
_ONE_CASE_TAG = re.compile(r"#(?![\w]*[a-z][A-Z])([A-Za-z]{8,})\b")
_SUFFIXES = ("", "s", "ed", "er", "ers", "ing", "in", "y")

_LEVELS = {
    "slurs": ("slur", Severity.BLOCK, 0.98, "is a slur"),
    "profanity_strong": ("profanity", Severity.BLOCK, 0.9, "is strong profanity"),
    "profanity_ambiguous": ("profanity", Severity.REVIEW, 0.7, "can be read as profanity"),
    "profanity_mild": ("profanity", Severity.REVIEW, 0.5, "is mild profanity"),
}
_NEEDS_MODEL = frozenset({"profanity_ambiguous", "profanity_mild"})


class ProfanityScanner(BaseScanner):
    lexicons = (
        "slurs",
        "profanity_strong",
        "profanity_ambiguous",
        "profanity_mild",
        "idioms",
        "hidden_words",
    )
    _listed = ("slurs", "profanity_strong", "profanity_ambiguous", "profanity_mild")

    def __init__(self, *, name: str, index: LexiconIndex, options: Mapping[str, Any]) -> None:
        super().__init__(name=name, index=index, options=options)
        self.model = ProfanityModel.from_package()
        self.threshold = self.option("model_threshold", 0.9)
        self._masked_words = _expand([*index.terms("profanity_strong"), *index.terms("slurs")])
        self._hidden = [term for term, _ in index.terms("hidden_words")]
        # Inside a hashtag, a position whose letter starts none of the words is passed over
        # with one class test instead of a test per word.
        firsts = "".join(sorted({re.escape(term[0]) for term in self._hidden}))
        words = "|".join(map(re.escape, self._hidden))
        hidden_gate = re.compile(rf"#\w*?(?=[{firsts}])(?:{words})") if words else None
        self.gate = Gate(
            lexicons=self._listed,
            squeezed=(_MASK_GATE, hidden_gate) if hidden_gate else (_MASK_GATE,),
            model_threshold=self.threshold,
            model_skips=("idioms",),
        )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        hits = self.hits(document, *self._listed)
        # The model's score only matters for the mild and ambiguous words, and for a post with
        # no finding that holds it back; a post with a slur alone is not scored at all.
        score = None
        if any(hit.lexicon in _NEEDS_MODEL for hit in hits):
            score = self._model_score(document)
        offensive = score is not None and score.probability >= self.threshold
        findings = [self._from_hit(document, hit, offensive=offensive) for hit in hits]
        findings.extend(self._masked(document, taken=findings))
        findings.extend(self._double_readings(document))
        if any(f.severity.rank >= Severity.REVIEW.rank for f in findings):
            return findings
        if score is None:
            score = self._model_score(document)
        if score.probability >= self.threshold:
            findings.extend(self._from_model(document, score))
        return findings

    def _from_hit(self, doc: Document, hit: Hit, *, offensive: bool) -> Finding:
        category, severity, score, what = _LEVELS[hit.lexicon]
        advice = "it does not belong on a brand account"
        if hit.lexicon in _NEEDS_MODEL and not offensive:
            severity, score = Severity.INFO, 0.2
            advice = "fine in context, but check it suits your audience"
        return self.finding(
            category=category,
            severity=severity,
            score=score,
            span=hit_span(hit),
            message=f"{quote(doc, hit_span(hit))} {what}; {advice}.",
        )

    def _masked(self, doc: Document, taken: Sequence[Finding]) -> list[Finding]:
        text = doc.squeezed.text
        if "*" not in text and "#" not in text:
            return []
        found = []
        for match in _MASKED.finditer(text):
            word = _unmask(match.group(0), self._masked_words)
            span = doc.span(match.start(), match.end())
            if word is None or any(f.start <= span[0] < f.end for f in taken):
                continue
            found.append(
                self.finding(
                    category="profanity",
                    severity=Severity.BLOCK,
                    score=0.85,
                    span=span,
                    message=f"{quote(doc, span)} is a masked spelling of strong profanity; "
                    "asterisks do not make it acceptable on a brand account.",
                )
            )
        return found

    def _double_readings(self, doc: Document) -> list[Finding]:
        """One-case hashtags whose likeliest words hide a rude word across them."""
        if "#" not in doc.text:
            return []
        found = []
        for match in _ONE_CASE_TAG.finditer(doc.text):
            tag = match.group(1).lower()
            hidden = [term for term in self._hidden if term in tag]
            if not hidden:
                continue
            costs, longest = model_costs()
            words = best_split(tag, costs, longest)
            rude = straddling(tag, words, hidden) if words else []
            if rude:
                found.append(
                    self.finding(
                        category="profanity",
                        severity=Severity.REVIEW,
                        score=0.6,
                        span=match.span(),
                        message=f"{quote(doc, match.span())} is meant as "
                        f"'{' '.join(words or ())}' but can be read with '{rude[0]}' in it; "
                        "capitalise each word (#LikeThis) so it reads one way.",
                    )
                )
        return found

    def _model_score(self, doc: Document) -> _Scored:
        matches = list(TOKEN_PATTERN.finditer(doc.squeezed.text))
        idioms = self.hits(doc, "idioms")
        # Words inside a harmless idiom ("pussy willow") are not evidence of abuse.
        kept = [m for m in matches if not any(i.start <= m.start() < i.end for i in idioms)]
        result = self.model.score_tokens([m.group(0) for m in kept])
        top = kept[result.top_token] if result.top_token is not None else None
        return _Scored(result.probability, top)

    def _from_model(self, doc: Document, score: _Scored) -> list[Finding]:
        if score.top is None:
            return []
        span = doc.span(score.top.start(), score.top.end())
        return [
            self.finding(
                category="profanity",
                severity=Severity.REVIEW,
                score=score.probability,
                span=span,
                message=f"the profanity model reads this post as offensive "
                f"(score {score.probability:.2f}), mostly because of {quote(doc, span)}.",
            )
        ]


@dataclass(frozen=True, slots=True)
class _Scored:
    probability: float
    top: re.Match[str] | None


def _expand(terms: Sequence[tuple[str, bool]]) -> dict[int, list[str]]:
    """Every spelled-out form of the strong words, grouped by length for masked matching."""
    by_length: dict[int, list[str]] = {}
    for term, prefix in terms:
        if " " in term:
            continue
        for suffix in _SUFFIXES if prefix else ("",):
            word = term + suffix
            by_length.setdefault(len(word), []).append(word)
    return by_length


def _unmask(masked: str, words: dict[int, list[str]]) -> str | None:
    """The strong word a masked spelling stands for, one hidden letter per mask character."""
    letters = sum(1 for c in masked if c.isalpha())
    if letters < 1 or letters == len(masked) or (letters < 2 and len(masked) < 4):
        return None
    for word in words.get(len(masked), ()):
        if all(m in "*#" or m == w for m, w in zip(masked, word, strict=True)):
            return word
    return None
