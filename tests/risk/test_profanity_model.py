from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from profanity_check import predict_prob

from sixfold.risk.profanity_model import ProfanityModel

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [
    "hello world, our new collection is here",
    "you stupid piece of garbage",
    "what the hell is this damn thing",
    "",
    "great great great deals deals",
    "I hate you so much, idiot",
    "Tickets for the final two home games will be allocated by ballot.",
]
# Words of the vocabulary in other scripts and with accents, and characters next to which the
# tokeniser cuts or does not cut words, so random text meets them often.
ALPHABET = st.sampled_from(
    [*"aZé_ -.,'’\x00\t\n\u0301²٣", "pokémon", "beyoncé", "連絡", "μελ", "fuck", "idiot", "🔥"]
)
mixed_text = st.one_of(st.text(max_size=60), st.lists(ALPHABET, max_size=30).map("".join))


def _bulk(texts: Sequence[str]) -> np.ndarray:
    """The bulk scores of ``texts`` lower-cased and joined as the batch planner joins them."""
    lowered = [t.lower() for t in texts]
    return ProfanityModel.from_package().batch_probabilities(
        "\x00QQ\x00".join(lowered), len(lowered), "QQ"
    )


def test_agrees_with_alt_profanity_check() -> None:
    model = ProfanityModel.from_package()
    expected = predict_prob([s.lower() for s in SAMPLES])
    for sample, probability in zip(SAMPLES, expected, strict=True):
        assert model.score_text(sample.lower()).probability == pytest.approx(probability, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(mixed_text, min_size=1, max_size=12))
def test_bulk_scores_equal_predict_prob_on_any_text(texts: list[str]) -> None:
    np.testing.assert_allclose(_bulk(texts), predict_prob(texts), rtol=0, atol=1e-9)


def test_bulk_scores_equal_predict_prob_on_the_benchmark_and_evaluation_posts() -> None:
    spec = importlib.util.spec_from_file_location("risk_speed", ROOT / "bench" / "risk_speed.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = (ROOT / "tests" / "data" / "risk" / "eval.jsonl").read_text().splitlines()
    evaluation = [json.loads(line) for line in rows]
    texts = [
        *bench.realistic_posts(20_000),
        *(row["text"] for row in evaluation),
        *(row["alt_text"] for row in evaluation if row.get("alt_text")),
    ]
    np.testing.assert_allclose(_bulk(texts), predict_prob(texts), rtol=0, atol=1e-9)


def test_names_the_word_that_weighed_most() -> None:
    model = ProfanityModel.from_package()
    tokens = ["have", "nice", "day", "idiot"]
    assert model.score_tokens(tokens).top_token == 3
    assert model.score_tokens([]).top_token is None
