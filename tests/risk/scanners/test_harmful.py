"""Harmful messaging: general patterns, each tested on posts written for these tests (none from
the evaluation set) and on the ordinary posts that look like them."""

from __future__ import annotations

import pytest

from sixfold.risk import Context, check_text
from tests.risk.helpers import by_scanner, check


def _categories(text: str, alt_texts: tuple[str, ...] = ()) -> set[str]:
    verdict = check_text(text, Context(), alt_texts=alt_texts)
    return {f.category for f in by_scanner(verdict, "harmful_messaging")}


@pytest.mark.parametrize(
    ("text", "alt"),
    [
        ("Spot the odd one out!", "Two Black boys and a monkey sitting on a bench"),
        ("Coolest monkey in the jungle: new hoodies for kids", "A Black boy wearing the hoodie"),
        ("Our new team photo", "Black players lined up next to a man in a gorilla suit"),
    ],
)
def test_apes_next_to_black_people_are_a_racist_trope(text: str, alt: str) -> None:
    assert "racist_trope" in _categories(text, (alt,))


@pytest.mark.parametrize(
    "text",
    [
        "Gorilla trekking in Rwanda with our African guides",
        "Black gorilla plush toy, back in stock",
        "Our black cat met a monkey at the zoo today",
        "Gorilla Glass screen, now in matte black",
        "Black women in tech panel: tickets on sale",
    ],
)
def test_apes_or_black_people_alone_are_fine(text: str) -> None:
    assert _categories(text) == set()


@pytest.mark.parametrize(
    "text",
    ["White means purity.", "Fairer skin is superior skin", "Whiteness is purity; stay bright"],
)
def test_whiteness_as_purity(text: str) -> None:
    assert "racist_trope" in _categories(text)


@pytest.mark.parametrize(
    "text",
    ["White is the new black this summer", "Pure white cotton sheets", "Keep your whites bright"],
)
def test_white_things_are_fine(text: str) -> None:
    assert _categories(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Man up and try our extra-hot wings",
        "A woman's place is in our kitchen: shop the new range",
        "Boys will be boys! Grab the beers",
        "Act like a lady and order the rosé",
    ],
)
def test_gender_stereotypes(text: str) -> None:
    assert "stereotype" in _categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Women in engineering: meet our panel",
        "#LikeAGirl: she runs like a champion",
        "Our kitchen team is hiring chefs of every kind",
    ],
)
def test_talking_about_women_and_men_is_fine(text: str) -> None:
    assert _categories(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Tonight we're deleting the word 'no' from our vocabulary 🍻",
        "Ban “no” from your vocabulary this weekend",
        "No means yes after two shots",
        "Slip a little something into her drink tonight 😉",
        "Spike your date's cocktail and see what happens",
        "Drug his coffee when he's not looking",
        "Spike the punch without them knowing",
    ],
)
def test_consent_made_light_of(text: str) -> None:
    assert "consent" in _categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Spike your coffee with cinnamon",
        "Our spiked eggnog recipe is back",
        "Remove the word 'can't' from your vocabulary",
        "No is a complete sentence. Respect it.",
        "Volleyball finals: what a spike!",
    ],
)
def test_drinks_and_vocabulary_are_fine(text: str) -> None:
    assert _categories(text) == set()


@pytest.mark.parametrize(
    "alt",
    [
        "A man pins a screaming woman down on a sofa",
        "Grinning men dragging a terrified girl towards a van",
        "A man grabs a struggling woman from behind",
    ],
)
def test_force_against_a_frightened_person_in_a_picture(alt: str) -> None:
    assert "consent" in _categories("Our new campaign", (alt,))


@pytest.mark.parametrize(
    "text",
    [
        "Struggling with tangled cables? Grab our organiser",
        "Grab a drink with your crew",
        "A frightened kitten hides under the sofa, then grabs the toy",
    ],
)
def test_ordinary_grabs_and_struggles_are_fine(text: str) -> None:
    assert _categories(text) == set()


def test_it_asks_for_review_never_blocks() -> None:
    verdict = check("White means purity. Man up.")
    assert {f.severity.value for f in by_scanner(verdict, "harmful_messaging")} == {"review"}
