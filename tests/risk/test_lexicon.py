from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.risk import Document, LexiconIndex
from sixfold.risk.lexicon import builtin_lexicons, load_lexicon_files


def _terms(index: LexiconIndex, text: str, lexicon: str = "words") -> list[str]:
    doc = Document(text)
    return [doc.text[h.original_start : h.original_end] for h in index.find(doc).get(lexicon, [])]


def test_matches_whole_words_only() -> None:
    index = LexiconIndex({"words": ["ass", "rape"]})
    assert _terms(index, "a classic grape assortment") == []
    assert _terms(index, "what an ass.") == ["ass"]


def test_prefix_terms_cover_longer_words() -> None:
    index = LexiconIndex({"words": ["fuck*"]})
    assert _terms(index, "F U C K I N G hell, fucking fuckers") == [
        "F U C K I N G",
        "fucking",
        "fuckers",
    ]


def test_terms_are_folded_like_posts() -> None:
    index = LexiconIndex({"words": ["Shit"]})
    assert _terms(index, "sh1t, ЅНІТ, s-h-i-t") == ["sh1t", "ЅНІТ", "s-h-i-t"]


def test_idioms_cancel_hits_inside_them() -> None:
    index = LexiconIndex({"words": ["bomb", "shoot"], "idioms": ["the bomb", "photo shoot"]})
    assert _terms(index, "this sale is the bomb, see the photo shoot") == []
    assert _terms(index, "a bomb went off") == ["bomb"]


def test_camel_case_hashtags_split_into_words() -> None:
    index = LexiconIndex({"words": ["sandy", "hurricane"]})
    assert _terms(index, "#SandySale and #hurricaneseason") == ["Sandy", "hurricane"]


def test_single_letters_do_not_match_inside_spelled_out_words() -> None:
    index = LexiconIndex({"words": ["u"]})
    assert _terms(index, "f.u.c.k") == []


def test_builtin_lexicons_load_and_names_are_unique() -> None:
    lexicons = builtin_lexicons()
    assert {"promotion", "profanity_strong", "slurs", "idioms", "secrecy"} <= set(lexicons)
    assert all(lexicons.values())


def test_a_lexicon_defined_twice_is_an_error(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("words: [a]\n")
    second.write_text("words: [b]\n")
    with pytest.raises(ValueError, match="defined twice"):
        load_lexicon_files([first, second])
