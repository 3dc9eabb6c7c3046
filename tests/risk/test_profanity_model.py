from __future__ import annotations

import pytest
from profanity_check import predict_prob

from sixfold.risk.profanity_model import ProfanityModel

SAMPLES = [
    "hello world, our new collection is here",
    "you stupid piece of garbage",
    "what the hell is this damn thing",
    "",
    "great great great deals deals",
    "I hate you so much, idiot",
    "Tickets for the final two home games will be allocated by ballot.",
]


def test_agrees_with_alt_profanity_check() -> None:
    model = ProfanityModel.from_package()
    expected = predict_prob([s.lower() for s in SAMPLES])
    for sample, probability in zip(SAMPLES, expected, strict=True):
        assert model.score_text(sample.lower()).probability == pytest.approx(probability, abs=1e-9)


def test_names_the_word_that_weighed_most() -> None:
    model = ProfanityModel.from_package()
    tokens = ["have", "nice", "day", "idiot"]
    assert model.score_tokens(tokens).top_token == 3
    assert model.score_tokens([]).top_token is None
