"""The whole-batch passes of the planner agree with the plain definitions they replace."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sixfold.risk.charcounts import Codes, counts, posts_with_run, spelled_out_posts
from sixfold.risk.document import deleet_text, fold_text, fold_texts, folds_one_for_one

SEPARATOR = "\x00"
# The gate as one regular expression: a separator run, a lone character, a separator run and
# another lone character (document._SPELLED_OUT needs three such characters).
SPELLED = re.compile(r"[.\-_*~ ]{1,2}[a-z0-9@$](?![a-z0-9])[.\-_*~ ]{1,2}[a-z0-9@$](?![a-z0-9])")
# Text that exercises the passes: spellings, leetspeak, homoglyphs, characters that fold to
# several or to none, digits of other scripts, and a lone surrogate.
pieces = st.sampled_from(
    [
        "f.u.c.k",
        "s-h-i-t",
        "a b",
        "a  b c",
        "x",
        "7",
        "@",
        "$",
        " ",
        ".",
        "--",
        "~",
        "sh1t",
        "sh!t",
        "priya!",
        "10am",
        "@ss",
        "a|b",
        "1!b!",
        "Straße",
        "ﬁ",
        "½",
        "İ",
        "Σ",
        "а",
        "\u200b",
        "\ufe0f",
        "☕",
        "٣",
        "１２",
        "Ⅻ",
        "KEY",
        "\ud800",
        "é",
        "\t",
    ]
)
texts = st.lists(st.lists(pieces, max_size=12).map("".join), min_size=1, max_size=8)


def joined(parts: list[str]) -> tuple[str, list[int]]:
    starts, cursor = [], 0
    for part in parts:
        starts.append(cursor)
        cursor += len(part) + 1
    return SEPARATOR.join(parts), starts


@settings(max_examples=300)
@given(texts)
def test_folding_a_batch_folds_each_text(batch: list[str]) -> None:
    folded, even = fold_texts(batch, SEPARATOR)
    assert folded == [fold_text(t) for t in batch]
    assert even == [folds_one_for_one(t) for t in batch]


@settings(max_examples=300)
@given(texts)
@example(["x a.b", "c d e"])
def test_spelled_out_gate_finds_exactly_the_posts_the_pattern_matches(batch: list[str]) -> None:
    folded = [deleet_text(t) for t in fold_texts(batch, SEPARATOR)[0]]
    expected = [i for i, t in enumerate(folded) if SPELLED.search(t)]
    assert spelled_out_posts(SEPARATOR.join(folded), SEPARATOR).tolist() == expected


def runs_by_edges(
    flags: npt.NDArray[np.bool_], begin: npt.NDArray[np.int64], minimum: int
) -> list[int]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    starts, ends = edges[0::2], edges[1::2]
    return np.unique(np.searchsorted(begin, starts[ends - starts >= minimum], "right") - 1).tolist()


@settings(max_examples=300)
@given(st.lists(st.lists(st.booleans(), max_size=60), min_size=1, max_size=6), st.integers(1, 30))
def test_long_runs_are_found_in_the_right_posts(posts: list[list[bool]], minimum: int) -> None:
    flags = np.array([f for post in posts for f in [*post, False]], dtype=bool)
    begin = np.cumsum([0, *(len(p) + 1 for p in posts[:-1])]).astype(np.int64)
    assert posts_with_run(flags, begin, minimum).tolist() == runs_by_edges(flags, begin, minimum)
    assert counts(flags, begin).tolist() == [sum(p) for p in posts]


@settings(max_examples=300)
@given(texts)
def test_folded_digit_counts_come_from_the_original_code_points(batch: list[str]) -> None:
    batch = [t for t in batch if SEPARATOR not in t]
    text, starts = joined(batch)
    digits = re.compile(r"\d")
    matches = Codes(text).folded_matches(digits)
    expected = [len(digits.findall(fold_text(t))) for t in batch]
    assert counts(matches, np.array(starts, dtype=np.int64)).tolist() == expected


def test_leetspeak_is_read_but_a_closing_exclamation_mark_is_punctuation() -> None:
    assert deleet_text("what the sh!t") == "what the shit"
    assert deleet_text("sh1t!") == "shit!"
    assert deleet_text("thanks, priya! see you at 10am") == "thanks, priya! see you at 10am"
    assert deleet_text("@ss and a|b") == "@ss and alb"


def test_a_batch_holding_the_private_use_area_and_several_letter_folds_is_folded() -> None:
    crowded = "".join(map(chr, range(0x100000, 0x100000 + 3000)))
    batch = [crowded + " Straße", "한국어 ﬁne", "plain"]
    folded, even = fold_texts(batch, SEPARATOR)
    assert folded == [fold_text(t) for t in batch]
    assert even == [False, False, True]
