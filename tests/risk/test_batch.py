"""The batch path gives exactly the verdicts of checking each post alone, only faster."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixfold.risk import BatchItem, Context, EventRegister, Policy, check_batch
from sixfold.risk.engine import CLEAN, default_engine
from sixfold.risk.profanity_model import ProfanityModel
from tests.risk.helpers import on
from tests.risk.test_alt_text import parts
from tests.risk.test_document import EVASIVE_ALPHABET

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "risk"


def _one_by_one(items: list[BatchItem], context: Context) -> list[object]:
    engine = default_engine()
    return [
        engine.check(
            i.text, context if i.when is None else context.on(i.when), alt_texts=i.alt_texts
        )
        for i in items
    ]


def _eval_items() -> list[BatchItem]:
    rows = [json.loads(line) for line in (DATA / "eval.jsonl").read_text().splitlines()]
    return [
        BatchItem(
            r["text"], dt.date.fromisoformat(r["date"]), tuple(filter(None, [r.get("alt_text")]))
        )
        for r in rows
    ]


@pytest.mark.parametrize("register", ["calendar", "news-register.yaml", "events.yaml"])
def test_the_evaluation_set_gets_the_same_verdicts_in_a_batch(register: str) -> None:
    events = EventRegister.builtin()
    if register != "calendar":
        events = events.extended(EventRegister.from_yaml(DATA / register))
    context = Context(policy=Policy.from_yaml(DATA / "policy.yaml"), events=events)
    items = _eval_items()
    assert check_batch(items, context) == _one_by_one(items, context)


def test_the_speed_benchmark_posts_get_the_same_verdicts_in_a_batch() -> None:
    spec = importlib.util.spec_from_file_location("risk_speed", ROOT / "bench" / "risk_speed.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    posts = bench.realistic_posts(3000, seed=7)
    items = [BatchItem(p) for p in posts]
    assert check_batch(posts, Context()) == _one_by_one(items, Context())


any_post = st.one_of(
    st.text(max_size=60),
    st.lists(EVASIVE_ALPHABET, max_size=40).map("".join),
    parts,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(any_post, st.lists(parts, max_size=2)), min_size=1, max_size=12))
def test_any_batch_gets_the_verdicts_of_its_posts(posts: list[tuple[str, list[str]]]) -> None:
    items = [BatchItem(text, None, tuple(alts)) for text, alts in posts]
    context = on("2012-12-14")  # Sandy Hook in the calendar: event gates open too
    assert check_batch(items, context) == _one_by_one(items, context)


def test_duplicates_are_checked_once_and_get_the_same_verdict() -> None:
    verdicts = check_batch(["hello", "what the fuck", "hello", "what the fuck"], Context())
    assert verdicts[0] is verdicts[2]
    assert verdicts[1] is verdicts[3]
    assert verdicts[0] is CLEAN


def test_a_post_holding_the_separator_is_still_checked() -> None:
    text = "what\x00 the fuck"
    assert check_batch([text], Context()) == _one_by_one([BatchItem(text)], Context())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=10))
def test_the_bulk_model_scores_agree_with_the_per_post_ones(texts: list[str]) -> None:
    from sixfold.risk.document import fold_text

    model = ProfanityModel.from_package()
    lowered = [fold_text(t) for t in texts]
    bulk = model.batch_probabilities("\x00QQ\x00".join(lowered), len(lowered), "QQ")
    for text, probability in zip(lowered, bulk, strict=True):
        assert probability == pytest.approx(model.score_text(text).probability, abs=1e-9)


def test_every_shipped_scanner_declares_a_gate() -> None:
    assert all(getattr(s, "gate", None) is not None for s in default_engine().scanners)


def test_every_secret_detector_has_an_anchor() -> None:
    from sixfold.risk.scanners import secrets

    described = secrets._LONG_TYPES | secrets._FOLDED_TYPES | set(secrets._SHORT_ANCHORS)
    assert {kind for kind, _ in secrets._detectors()} <= described
