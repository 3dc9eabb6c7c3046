"""The word planner: a post it decides from its words gets every gate the text planner would
open (it may open more, never fewer); the others go to the text planner."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixfold.risk import Context, EventRegister, Policy, check_batch
from sixfold.risk.batch import _Pass
from sixfold.risk.document import fold_text
from sixfold.risk.engine import Engine, default_engine
from sixfold.risk.profanity_model import ProfanityModel
from sixfold.risk.wordplan import WHITESPACE

DATA = Path(__file__).resolve().parents[1] / "data" / "risk"
# Sandy Hook (14 Dec 2012) is in the news register, so event gates open on this day.
DAY = dt.date(2012, 12, 14)


def _context() -> Context:
    events = EventRegister.builtin().extended(EventRegister.from_yaml(DATA / "news-register.yaml"))
    policy = Policy.from_yaml(DATA / "policy.yaml")
    return Context(when=dt.datetime(2012, 12, 14, 12, tzinfo=dt.UTC), policy=policy, events=events)


CONTEXT = _context()
_PLANNER = default_engine()._planner
_PHRASES = sorted(
    {
        *(term for term, _ in _PLANNER._words.lexicon_terms),
        *CONTEXT.events._index.keys(),
        *CONTEXT.policy.terms_index.keys(),
    }
)
_PIECES = [
    "\u200b", "\u2060", "\xad", "\u0301", "\ufe0f",  # words that fold to nothing
    "212", "555", "0199", "-", "(", ")", ".", "BSN", "1111",  # numbers spread over words
    "keep", "it", "quiet", "sold", "to", "at", "the", "bar", "for", "every", "each", "1", "one",
    "rt", "like", "goal", "#", "#tag", "<a", "<A", "href", "f", "u", "c", "k", "f.", "u.", "a",
    "$", "@", "sh1t", "fuck", "shoot", "photo", "sale", "20%", "off", "shop", "example.com",
    "Sandy", "Hook", "Newtown", "AKIA", "0123456789", "4111", "CAPITALS", "LOUD", "!!!", "...",
    "ЅНIТ", "уже", "в", "¨", "\u200b", "ß", "Ⓕ", "#StaySafe", "#keepitquiet", "quiet!",
]  # fmt: skip
_SPACES = [" ", "  ", "\t", "\n", "\xa0", "\u3000", "\u2028", ""]

words = st.one_of(st.sampled_from(_PIECES), st.sampled_from(_PHRASES), st.text(max_size=6))
posts = st.lists(st.tuples(words, st.sampled_from(_SPACES)), max_size=14).map(
    lambda pairs: "".join(word + space for word, space in pairs)
)


class _TextPass(_Pass):
    """The text planner, except that it does not open the model's gates for an idiom it
    cannot place (inside a hashtag): the word planner bounds the score whatever the scanner
    leaves out, so it need not. Nor does a spelling in one word let terms match mid-word in
    the others (the scanner only accepts that inside the spelling itself)."""

    def _views(self) -> dict[str, tuple[str, list[int]]]:
        views = super()._views()
        self.loose = [False] * len(self.loose)
        return views

    def _model(self) -> None:
        self.model_open.clear()
        super()._model()


def _plan(texts: list[str], days: list[dt.date], context: Context, masks: list[int]) -> list[int]:
    """The posts the word planner leaves to the text planner, whole or for the model."""
    whole, unscored = _PLANNER._words.plan(texts, days, context, masks)
    return sorted({*whole, *unscored})


def _text_masks(texts: list[str], context: Context) -> list[int]:
    masks = [_PLANNER.ungated] * len(texts)
    _TextPass(_PLANNER, texts, [context.date] * len(texts), context, masks).run()
    return masks


@settings(max_examples=300, deadline=None)
@given(st.lists(posts, min_size=1, max_size=8))
def test_a_post_planned_from_its_words_gets_every_gate_its_text_opens(texts: list[str]) -> None:
    masks = [_PLANNER.ungated] * len(texts)
    whole, unscored = _PLANNER._words.plan(texts, [DAY] * len(texts), CONTEXT, masks)
    scored = sum(bit for bit, _ in _PLANNER._words.scored)  # what the model pass adds
    for i, expected in enumerate(_text_masks(texts, CONTEXT)):
        if i in unscored:
            expected &= ~scored
        if i not in whole:
            assert expected & ~masks[i] == 0, (texts[i], expected, masks[i])


@pytest.mark.parametrize(
    "text",
    [
        "#stayKeep it quiet",  # a term starting mid-word, at a hashtag's capital
        "x.f.u.c.k you",  # a term starting inside a letter-by-letter spelling
        "(keep it quiet)",  # after punctuation
        "numbers look great,keep it quiet",
    ],
)
def test_terms_of_several_words_starting_mid_word_are_found(text: str) -> None:
    masks = [_PLANNER.ungated]
    whole = _plan([text], [DAY], CONTEXT, masks)
    assert whole == [0] or _text_masks([text], CONTEXT)[0] & ~masks[0] == 0


def test_terms_whose_words_differ_only_in_punctuation_are_both_found() -> None:
    # Written with edges, "don't" and "don’t" are one key; both terms' pairs must be marked.
    policy = Policy(confidential_terms=("don’t mention", "Kestrel, phase two", "Kestrel. launch"))
    context = Context(when=CONTEXT.when, policy=policy, events=CONTEXT.events)
    engine = default_engine()
    texts = ["if you don't like it, leave", "Kestrel, phase two starts", "Kestrel. launch day"]
    assert engine.check_many(texts, context) == [engine.check(t, context) for t in texts]


@settings(max_examples=100, deadline=None)
@given(st.lists(posts, min_size=1, max_size=8))
def test_a_batch_of_such_posts_gets_the_verdicts_of_its_posts(texts: list[str]) -> None:
    engine = default_engine()
    assert engine.check_many(texts, CONTEXT) == [engine.check(t, CONTEXT) for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "numbers look great, keep it quiet until the board meets",  # a term across words
        "Numbers look great, keep\xa0it\xa0quiet",  # whitespace that folds to a space
        "keep¨it quiet",  # a character that folds to a space, inside a word
        "f u c k this",  # spelled out across words
        "photo shoot was fucking great",  # the model's score depends on the idiom left out
        "s \u200b h \u200b i \u200b t",  # a word that folds to nothing joins its neighbours
        "1 \u2060 RT = 1 meal for a child",
        "f \xad u \xad c \xad k",
        "s \u0301 h \u0301 i \u0301 t",
    ],
)
def test_posts_a_word_cannot_decide_go_to_the_text_planner(text: str) -> None:
    masks = [_PLANNER.ungated]
    assert _plan([text], [DAY], CONTEXT, masks) == [0]


@pytest.mark.parametrize(
    ("text", "scanner"),
    [
        ("1 RT = 1 meal for a child", "tragedy_promotion"),  # a gate pattern across words
        ("card 4111 1111 1111 1111 exp", "personal_data"),
        ("call 212 - 555 - 0199", "personal_data"),  # words of separators alone
        ("her number 020 ( 7946 ) 0018", "personal_data"),
        ("click <a href=x>here</a>", "links"),
        ("broken # tag", "hygiene"),
    ],
)
def test_a_gate_pattern_across_words_opens_its_gate(text: str, scanner: str) -> None:
    masks = [_PLANNER.ungated]
    assert _plan([text], [DAY], CONTEXT, masks) == []
    bit = next(1 << i for i, s in enumerate(_PLANNER.scanners) if s.name == scanner)
    assert masks[0] & bit


def test_a_post_the_model_scores_at_the_threshold_opens_the_model_s_gates() -> None:
    masks = [_PLANNER.ungated, _PLANNER.ungated]
    texts = ["what a fucking day", "what a lovely day"]
    assert _plan(texts, [DAY, DAY], CONTEXT, masks) == []
    scored = sum(bit for bit, _ in _PLANNER._words.scored)
    assert masks[0] & scored == scored
    assert not masks[1] & scored


def test_an_event_keyword_opens_the_events_gate_only_on_the_event_s_days() -> None:
    text = ["thoughts with Newtown today, 20% off"]
    on_the_day, a_year_on = [_PLANNER.ungated], [_PLANNER.ungated]
    assert _plan(text, [DAY], CONTEXT, on_the_day) == []
    assert _plan(text, [dt.date(2013, 6, 1)], CONTEXT, a_year_on) == []
    assert on_the_day[0] & _PLANNER.events_mask
    assert not a_year_on[0] & _PLANNER.events_mask


def test_ordinary_posts_are_decided_by_their_words() -> None:
    texts = ["Meet the new trail runner. Link in bio.", "Join us Saturday at 10am!"] * 3
    masks = [_PLANNER.ungated] * len(texts)
    assert _plan(texts, [DAY] * len(texts), CONTEXT, masks) == []


def test_whitespace_is_every_character_split_cuts_at_and_folds_to_whitespace() -> None:
    every = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(WHITESPACE) == every
    # Words are read one by one only if whitespace never folds into a letter or away.
    for char in every:
        folded = fold_text(char)
        assert folded.isspace(), (hex(ord(char)), folded)
        assert unicodedata.category(char) != "Cf"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["fuck", "shit", "you", "ugly", "idiot", "love", "shoot"])
        | st.text(max_size=8),
        max_size=12,
    )
)
def test_a_text_below_the_reach_needed_scores_below_the_threshold(parts: list[str]) -> None:
    model = ProfanityModel.from_package()
    text = fold_text(" ".join(parts))
    needed = model.reach_needed(0.9)
    texts, columns, _ = model.words_of(text, "QQ")
    if model.reach_of(texts, columns, 1)[0] < needed:
        assert model.score_text(text).probability < 0.9


def test_a_full_table_keeps_the_words_used_lately(monkeypatch: pytest.MonkeyPatch) -> None:
    import sixfold.risk.wordtable as wordtable

    engine = Engine.from_registry()
    monkeypatch.setattr(wordtable, "WORDS_KEPT", 64)  # a compacted table keeps 32
    read: list[str] = []
    reading = wordtable.Table._read
    monkeypatch.setattr(
        wordtable.Table, "_read", lambda table, words: (read.extend(words), reading(table, words))
    )
    older = [f"alpha{i} beta fuck" for i in range(40)]  # 42 words and the post boundary
    lately = [f"gamma{i} delta" for i in range(30)]  # 31 more: the table is full
    for batch in (older, lately):
        assert engine.check_many(batch, CONTEXT) == [engine.check(t, CONTEXT) for t in batch]
    (full,) = engine._planner._words._tables.values()
    assert full.full()
    read.clear()
    mixed = [f"gamma{i} delta alpha{i} fuck" for i in range(5)]
    assert engine.check_many(mixed, CONTEXT) == [engine.check(t, CONTEXT) for t in mixed]
    (compacted,) = engine._planner._words._tables.values()
    assert compacted is not full
    assert not compacted.full()
    assert sorted(read) == sorted([*(f"alpha{i}" for i in range(5)), "fuck"])  # not "gamma0"
    assert compacted.size == 1 + 31 + 6


def test_a_table_compacted_for_its_characters_counts_only_those_it_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sixfold.risk.wordtable as wordtable

    engine = Engine.from_registry()
    monkeypatch.setattr(wordtable, "CHARACTERS_KEPT", 100)
    compactions = 0
    compacting = wordtable.Table.compacted

    def counted(table: wordtable.Table) -> wordtable.Table:
        nonlocal compactions
        compactions += 1
        return compacting(table)

    monkeypatch.setattr(wordtable.Table, "compacted", counted)
    for batch in range(4):
        texts = [f"batch{batch} longwordnumber{i} again" for i in range(8)]
        assert engine.check_many(texts, CONTEXT) == [engine.check(t, CONTEXT) for t in texts]
        (table,) = engine._planner._words._tables.values()
        assert table.characters == sum(map(len, table.words_read))
    assert compactions == 3  # once after each full batch, not once more for every batch after


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(posts, min_size=1, max_size=6), min_size=2, max_size=5))
def test_tables_compacted_again_and_again_keep_batch_verdicts_right(
    batches: list[list[str]],
) -> None:
    import sixfold.risk.wordtable as wordtable

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wordtable, "WORDS_KEPT", 24)
        for texts in batches:
            assert _COMPACTING.check_many(texts, CONTEXT) == [
                _COMPACTING.check(t, CONTEXT) for t in texts
            ]


_COMPACTING = Engine.from_registry()  # one engine, so its tables fill and are compacted


def test_batches_in_several_threads_share_the_tables_safely() -> None:
    engine = Engine.from_registry()
    batches = [[f"batch {b} post {i} word{b}x{i} sale" for i in range(300)] for b in range(6)]
    expected = [[engine.check(t, CONTEXT) for t in batch] for batch in batches]
    engine = Engine.from_registry()
    results: dict[int, object] = {}

    def run(b: int) -> None:
        results[b] = engine.check_many(batches[b], CONTEXT)

    threads = [threading.Thread(target=run, args=(b,)) for b in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[b] for b in range(len(batches))] == expected


def test_the_default_context_batch_still_matches_single_checks() -> None:
    texts = ["keep it quiet", "Q3 numbers look great", "shop now at example.com/new"]
    assert check_batch(texts) == [default_engine().check(t, Context()) for t in texts]
