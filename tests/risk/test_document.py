from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sixfold.risk import Document

# Text that mixes what evasion uses: ASCII, separators, digits, Cyrillic and Greek lookalikes,
# zero-width and other invisible characters, ligatures, fullwidth and mathematical letters.
EVASIVE_ALPHABET = st.sampled_from(
    [
        *"abcdefuckshit .-_*~!@$|0134578#'",
        *["а", "е", "о", "с", "υ", "ο", "\u200b", "\u200d", "\u00ad", "\ufe0f", "ﬁ", "Ｆ", "𝐮"],
        *["ß", "é", "ñ", "😂", "\u0301", "İ", "ǅ"],
    ]
)
evasive_text = st.lists(EVASIVE_ALPHABET, max_size=60).map("".join)
any_text = st.text(max_size=80)


def _assert_offsets_inside(text: str) -> None:
    doc = Document(text)
    for view in (doc.folded, doc.squeezed):
        assert len(view.offsets) == len(view.text)
        assert all(0 <= o < len(text) for o in view.offsets)
        assert list(view.offsets) == sorted(view.offsets)


@settings(max_examples=300, deadline=None)
@given(evasive_text)
def test_offsets_point_inside_the_original_for_evasive_text(text: str) -> None:
    _assert_offsets_inside(text)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_offsets_point_inside_the_original_for_any_text(text: str) -> None:
    _assert_offsets_inside(text)


@settings(max_examples=200, deadline=None)
@given(any_text, st.integers(0, 100), st.integers(0, 100))
def test_any_view_span_maps_to_a_valid_original_span(text: str, a: int, b: int) -> None:
    doc = Document(text)
    start, end = doc.span(min(a, b), max(a, b))
    assert 0 <= start <= end <= len(text)


def test_folds_homoglyphs_invisible_characters_and_compatibility_forms() -> None:
    assert Document("fuсk").squeezed.text == "fuck"  # Cyrillic es
    assert Document("fu\u200bck").squeezed.text == "fuck"
    assert Document("𝐟𝐮𝐜𝐤 ＦＵＣＫ").squeezed.text == "fuck fuck"
    assert Document("Café").folded.text == "cafe"


def test_reads_leetspeak_inside_words_but_not_numbers() -> None:
    assert Document("sh1t $h!t").squeezed.text == "shit shit"
    assert Document("Galaxy A55, 10am, 50% off").squeezed.text == "galaxy a55, 10am, 50% off"


def test_joins_letter_by_letter_spellings_and_remembers_the_run() -> None:
    doc = Document("well f.u.c.k that")
    assert doc.squeezed.text == "well fuck that"
    assert doc.collapsed == ((5, 9),)
    assert doc.span(5, 9) == (5, 12)
    assert doc.text[slice(*doc.span(5, 9))] == "f.u.c.k"


def test_span_of_a_folded_word_covers_the_hidden_characters() -> None:
    text = "oh fu\u200bсk"
    doc = Document(text)
    start = doc.squeezed.text.index("fuck")
    assert text[slice(*doc.span(start, start + 4))] == "fu\u200bсk"
