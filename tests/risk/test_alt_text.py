"""A post's image descriptions (alt texts) are read with its text; findings say where they are."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sixfold.risk import BatchItem, Context, Document, Location, check_batch, check_text
from tests.risk.helpers import on

PEARL_HARBOR_DAY = "2013-12-07"


def test_text_only_calls_are_unchanged() -> None:
    plain = check_text("what the f.u.c.k", Context())
    assert plain == check_text("what the f.u.c.k", Context(), alt_texts=())
    assert all(f.location is Location.TEXT and f.image is None for f in plain.findings)
    assert "location" not in plain.findings[0].to_dict()


def test_a_finding_in_an_image_description_points_into_it() -> None:
    alt = "A mug printed with the words 'what the fuck'"
    verdict = check_text("New mugs are in!", Context(), alt_texts=["A plain mug", alt])
    found = [f for f in verdict.findings if f.scanner == "profanity"]
    assert found
    assert found[0].location is Location.ALT_TEXT
    assert found[0].image == 1
    assert alt[found[0].start : found[0].end] == "fuck"
    assert found[0].to_dict()["location"] == "alt_text"
    assert found[0].to_dict()["image"] == 1


def test_a_product_in_a_tribute_image_is_reviewed() -> None:
    tribute = "Take a moment to remember #PearlHarbor with us."
    context = on(PEARL_HARBOR_DAY)
    assert check_text(tribute, context).verdict.value == "ok"
    verdict = check_text(tribute, context, alt_texts=["Our mascot saluting the flag"])
    assert verdict.verdict.value == "review"
    assert "in the image description" in " ".join(f.message for f in verdict.findings)


def test_a_tribute_image_without_a_product_stays_a_tribute() -> None:
    verdict = check_text(
        "Today we remember #PearlHarbor.",
        on(PEARL_HARBOR_DAY),
        alt_texts=["A wreath of white flowers on the water beside the USS Arizona memorial"],
    )
    assert verdict.verdict.value == "ok"


def test_the_batch_reads_alt_texts_too() -> None:
    items = [
        BatchItem("New mugs are in!", alt_texts=("A mug that says 'what the fuck'",)),
        BatchItem("New mugs are in!"),
    ]
    verdicts = check_batch(items, Context())
    assert [v.verdict.value for v in verdicts] == ["block", "ok"]
    assert verdicts[0] == check_text(items[0].text, Context(), alt_texts=items[0].alt_texts)


def test_document_locates_spans_in_their_part() -> None:
    doc = Document("abc", ["defg", ""])
    assert doc.text == "abc\n\ndefg\n\n"
    assert doc.parts == ((0, 3), (5, 9), (11, 11))
    assert doc.locate(1, 2) == (0, 1, 2)
    assert doc.locate(6, 8) == (1, 1, 3)
    assert doc.locate(3, 7) == (1, 0, 2)  # starts on the blank line: belongs to the image
    assert doc.locate(2, 7) == (0, 2, 3)  # clipped to the part it starts in


RISKY_WORDS = st.sampled_from(
    [
        "fuck",
        "f.u.c.k",
        "sh1t",
        "#PearlHarbor",
        "mascot",
        "gorilla",
        "Black men",
        "4111 1111 1111 1111",
        "bit.ly/x",
        "hurricane",
        "50% off",
        "!!!!",
        "#susanalbumparty",
        "you idiot",
        "AKIAIOSFODNN7EXAMPLE",
        "\u200b",
        "а",
        " ",
        "\n",
        "I still think we should buy them",
    ]
)
parts = st.lists(st.one_of(RISKY_WORDS, st.text(max_size=8)), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(parts, st.lists(parts, max_size=3))
def test_every_finding_points_inside_the_text_it_names(text: str, alts: list[str]) -> None:
    verdict = check_text(text, on(PEARL_HARBOR_DAY), alt_texts=alts)
    for finding in verdict.findings:
        if finding.location is Location.TEXT:
            source = text
            assert finding.image is None
        else:
            assert finding.image is not None
            assert 0 <= finding.image < len(alts)
            source = alts[finding.image]
        assert 0 <= finding.start <= finding.end <= len(source)
