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
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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
        # The same parameters as arrays, for scoring a whole batch at once.
        self._columns = {word: column for column, word in enumerate(weights)}
        self._marked: dict[str, dict[bytes, int]] = {}
        self._idf = np.array([w[0] for w in weights.values()], dtype=np.float64)
        self._coefs = np.array([w[1] for w in weights.values()], dtype=np.float64).reshape(
            len(weights), len(self._intercepts)
        )
        self._strength = np.square(np.maximum(self._coefs, 0.0).max(axis=1, initial=0.0))

    @classmethod
    def from_package(cls) -> ProfanityModel:
        return _load()

    def idf_by_word(self) -> dict[str, float]:
        """Each vocabulary word's inverse document frequency (rare words score higher)."""
        return {word: weights[0] for word, weights in self._weights.items()}

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

    def _lookup(self, separator: str, marker: int) -> dict[bytes, int]:
        found = self._marked.get(separator)
        if found is None:
            found = {w.encode(): c for w, c in self._columns.items()}
            found[separator.encode()] = marker
            self._marked[separator] = found
        return found

    def words_of(
        self, joined: str, separator: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(text, vocabulary column, count) for each distinct known word of each text, ordered
        by text, of texts joined as for ``batch_probabilities``."""
        # The tokeniser's words are runs of word characters (``\w``). Non-ASCII characters
        # that are not word characters become spaces with one C-level substitution; the text
        # is then cut as UTF-8 bytes, where a non-ASCII letter's bytes (all >= 0x80) stay
        # inside its word. A one-letter "word" is no key of the vocabulary, whose words all
        # have two characters or more, so counting bytes instead of letters changes nothing.
        encoded = _NON_ASCII_NON_WORD.sub(" ", joined).encode("utf-8")
        tokens = encoded.translate(_WORD_BYTES).split()
        marker, unknown = -1, -2
        lookup = self._lookup(separator, marker)
        ids = np.fromiter(
            map(lookup.get, tokens, itertools.repeat(unknown)), dtype=np.int64, count=len(tokens)
        )
        text_of = np.cumsum(ids == marker)
        known = ids >= 0
        width = len(self._columns)
        keys, counts = np.unique(text_of[known] * width + ids[known], return_counts=True)
        return keys // width, keys % width, counts

    def reach_of(
        self, texts: npt.NDArray[np.int64], words: npt.NDArray[np.int64], count: int
    ) -> npt.NDArray[Any]:
        """For each of ``count`` texts, given (text, column) of each distinct known word as
        ``words_of`` returns them: the sum, over its words, of the square of the word's
        largest positive coefficient (its "reach").

        A text's decision value is ``w . x / |x| + intercept`` with ``x >= 0``, and by
        Cauchy-Schwarz ``w . x <= |w+ restricted to the text's words| * |x|``: so a text whose
        reach is below ``reach_needed(threshold)`` scores below ``threshold``. Removing words
        (the scanner leaves out harmless idioms) never raises the reach, and a text's reach is
        at most the sum of its parts' reaches (a word in two parts is counted twice)."""
        reach: npt.NDArray[Any] = np.bincount(texts, self._strength[words], minlength=count)
        return reach

    @property
    def vocabulary_size(self) -> int:
        return len(self._columns)

    def reach_needed(self, threshold: float) -> float:
        """The reach (see ``reach_of``) below which no text can score ``threshold`` or more;
        0.0 when the calibration is not increasing, so that nothing is ruled out."""
        if any(a >= 0.0 for a, _ in self._calibration):
            return 0.0

        def best(reach: float) -> float:  # the highest probability a text of this reach has
            decision = math.sqrt(reach)
            total = sum(
                1.0 / (1.0 + math.exp(a * (decision + intercept) + b))
                for intercept, (a, b) in zip(self._intercepts, self._calibration, strict=True)
            )
            return total / len(self._intercepts)

        low, high = 0.0, 1.0
        if best(low) >= threshold:
            return 0.0
        while best(high) < threshold:
            if high > _FAR:
                return math.inf  # no text scores that high
            low, high = high, high * 2
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if best(middle) < threshold else (low, middle)
        return low

    def batch_probabilities(self, joined: str, count: int, separator: str) -> npt.NDArray[Any]:
        """The probability for each of ``count`` lower-cased texts joined by ``separator``, a
        word that cannot occur in them (an upper-case one: the texts are lower case).

        This is ``score_tokens`` for every text at once: words are cut from the joined string
        in one pass, looked up once each, and the TF-IDF weighting, normalisation and the
        classifiers' dot products are array operations. Results agree with ``score_tokens``
        (and with ``predict_prob``) to rounding error.
        """
        return self.probabilities(*self.words_of(joined, separator), count)

    def probabilities(
        self,
        texts: npt.NDArray[np.int64],
        words: npt.NDArray[np.int64],
        counts: npt.NDArray[np.int64],
        count: int,
    ) -> npt.NDArray[Any]:
        """The probability for each of ``count`` texts, given (text, column, count) for each
        distinct known word of each text, as ``words_of`` returns them."""
        values = counts * self._idf[words]
        norms = np.sqrt(np.bincount(texts, values * values, minlength=count))
        norms[norms == 0.0] = 1.0
        probability = np.zeros(count, dtype=np.float64)
        for k, (intercept, (a, b)) in enumerate(
            zip(self._intercepts, self._calibration, strict=True)
        ):
            sums = np.bincount(texts, values * self._coefs[words, k], minlength=count)
            # sklearn's sigmoid calibration of each fold, averaged over the folds.
            probability += 1.0 / (1.0 + np.exp(a * (sums / norms + intercept) + b))
        result: npt.NDArray[Any] = probability / len(self._intercepts)
        return result


_FAR = 1e12
_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w]")
# ASCII word characters and every byte of a multi-byte character stay; other ASCII bytes
# (punctuation, spaces, control characters) become spaces.
_WORD_BYTES = bytes(c if c >= 128 or chr(c).isalnum() or c == ord("_") else 32 for c in range(256))


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
