"""alt-profanity-check's model, evaluated directly instead of through scikit-learn.

The wheel ships a TF-IDF vectoriser and a calibrated linear SVM. Calling ``predict_prob`` on one
post costs about 3 ms, almost all of it scikit-learn's input validation and sparse-matrix set-up;
the arithmetic itself is a dot product over a dozen words. This module reads the fitted
parameters once and computes the same probability in plain Python (tests check it agrees with
``predict_prob``), which is what keeps single-post latency far under the 5 ms budget. It also
knows which word pushed the score up the most, so a finding can point at a span.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# The fitted vectoriser's token_pattern, applied to already lower-cased text.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True, slots=True)
class ModelScore:
    """The model's probability that a text is offensive and the word that weighed most."""

    probability: float
    top_token: int | None  # index into the tokens given, or None when no word is known


class ProfanityModel:
    """A frozen copy of alt-profanity-check's fitted parameters."""

    def __init__(
        self,
        weights: dict[str, tuple[float, tuple[float, ...], float]],
        intercepts: Sequence[float],
        calibration: Sequence[tuple[float, float]],
    ) -> None:
        self._weights = weights  # word -> (idf, per-classifier coefficients, their sum)
        self._intercepts = tuple(intercepts)
        self._calibration = tuple(calibration)

    @classmethod
    def from_package(cls) -> ProfanityModel:
        return _load()

    def score_text(self, lowered: str) -> ModelScore:
        return self.score_tokens(TOKEN_PATTERN.findall(lowered))

    def score_tokens(self, tokens: Sequence[str]) -> ModelScore:
        weights = self._weights
        counts: dict[str, int] = {}
        for token in tokens:
            if token in weights:
                counts[token] = counts.get(token, 0) + 1
        sums = [0.0] * len(self._intercepts)
        norm_squared = 0.0
        top_word, top_weight = None, 0.0
        for word, count in counts.items():
            idf, coefs, coef_sum = weights[word]
            value = count * idf
            norm_squared += value * value
            sums = [total + value * coef for total, coef in zip(sums, coefs, strict=True)]
            if value * coef_sum > top_weight:
                top_word, top_weight = word, value * coef_sum
        norm = math.sqrt(norm_squared) or 1.0
        probability = 0.0
        for total, intercept, (a, b) in zip(sums, self._intercepts, self._calibration, strict=True):
            decision = total / norm + intercept
            probability += 1.0 / (1.0 + math.exp(a * decision + b))
        probability /= len(self._intercepts)
        top = tokens.index(top_word) if top_word is not None else None
        return ModelScore(probability=probability, top_token=top)


@functools.cache
def _load() -> ProfanityModel:
    # Imported here because loading the pickled model takes a moment; only the first caller pays.
    from profanity_check import profanity_check as packaged

    vectorizer, model = packaged.vectorizer, packaged.model
    classifiers = model.calibrated_classifiers_
    coefs = [clf.estimator.coef_.ravel().tolist() for clf in classifiers]
    idf = vectorizer.idf_.tolist()
    weights = {
        word: (idf[column], tuple(c[column] for c in coefs), sum(c[column] for c in coefs))
        for word, column in vectorizer.vocabulary_.items()
    }
    intercepts = [float(clf.estimator.intercept_[0]) for clf in classifiers]
    calibration = [
        (float(clf.calibrators[0].a_), float(clf.calibrators[0].b_)) for clf in classifiers
    ]
    return ProfanityModel(weights, intercepts, calibration)
