from __future__ import annotations

import pytest

from sixfold.risk import Severity
from tests.risk.helpers import flagged_by


@pytest.mark.parametrize(
    "text",
    [
        "That 9-year-old actress is so annoying and ugly",
        "sexy little girls' swimwear",
        "the kid on last night's show is a total brat",
    ],
)
def test_insults_or_sexual_language_near_a_child_block(text: str) -> None:
    found = flagged_by(text, "personal_attack")
    assert found
    assert found[0].category == "minor_safety"
    assert found[0].severity is Severity.BLOCK


def test_insult_near_a_name_or_mention_is_reviewed() -> None:
    assert flagged_by("Jane Porter is a total idiot", "personal_attack")[0].severity.value == (
        "review"
    )
    assert flagged_by("Imagine being as lazy as @jordan_kx", "personal_attack")


def test_strong_profanity_at_a_person_blocks() -> None:
    found = flagged_by("@jordan_kx you bitch", "personal_attack")
    assert found[0].severity is Severity.BLOCK


def test_evasion_with_leetspeak_and_homoglyphs() -> None:
    assert flagged_by("@jordan_kx is such an 1d10t", "personal_attack")
    assert flagged_by("Jane Porter is a mоrоn", "personal_attack")  # Cyrillic o


@pytest.mark.parametrize(
    "text",
    [
        "Kids eat free on Sundays!",
        "Our stupid good burgers are back",
        "Ugly Christmas sweater contest for kids this Friday",
        "Low-fat yogurt for you and the kids",
    ],
)
def test_ordinary_posts_about_people_and_kids_are_clean(text: str) -> None:
    assert flagged_by(text, "personal_attack") == []


@pytest.mark.parametrize(
    "text",
    [
        "Our page, our rules. Take your business elsewhere.",
        "Thanks for the lesson in manners, Karen",
        "Nobody asked you, Dave.",
        "You're a tyrant and a hypocrite",
    ],
)
def test_brushing_customers_off_is_reviewed(text: str) -> None:
    assert flagged_by(text, "personal_attack")


@pytest.mark.parametrize(
    "text",
    [
        "House rules: be kind, stay on topic",
        "Our board game's villain is a tyrant king. Can you beat him?",
        "Thank you, everyone who asked about the new store!",
    ],
)
def test_rules_and_tyrant_kings_are_fine(text: str) -> None:
    assert not flagged_by(text, "personal_attack")
