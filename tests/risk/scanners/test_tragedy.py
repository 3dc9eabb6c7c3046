from __future__ import annotations

import pytest

from sixfold.risk import Severity
from tests.risk.helpers import by_scanner, check


def _severities(text: str) -> list[Severity]:
    return [f.severity for f in by_scanner(check(text), "tragedy_promotion")]


@pytest.mark.parametrize(
    "text",
    [
        "After the earthquake, treat yourself: 25% off all bedding this weekend",
        "Millions in uproar in #Cairo. Must be our new spring collection, now available online",
        "Another mass shooting... anyway, backpacks are 2 for 1 this week!",
        "Floods across the north? Stay dry in style, shop our rain jackets",
    ],
)
def test_tragedy_plus_promotion_blocks(text: str) -> None:
    assert Severity.BLOCK in _severities(text)


@pytest.mark.parametrize(
    "text",
    [
        "Fire up the grill! This sale is the bomb",
        "We're killing it at the photo shoot, new collection soon",
        "Meteor shower viewing party tonight, tickets in bio",
        "Price war? Our deals win. Shop now",
        "A flavour explosion: try our new hot sauce, 10% off",
    ],
)
def test_figurative_words_and_idioms_stay_clean(text: str) -> None:
    assert _severities(text) == []


def test_fundraising_is_reviewed_not_blocked() -> None:
    severities = _severities("Hurricane relief: we donate 10% of every sale to the Red Cross")
    assert severities == [Severity.REVIEW]


def test_conditional_charity_is_reviewed() -> None:
    assert _severities("1 RT = 1 breakfast for a vulnerable child") == [Severity.REVIEW]


def test_evasion_with_leetspeak_and_spelled_out_words() -> None:
    assert Severity.BLOCK in _severities("t.s.u.n.a.m.i season? Stock up, 40% off")
    assert Severity.BLOCK in _severities("3arthquak3 d3als: shop now")


@pytest.mark.parametrize(
    "text",
    [
        "Air raids or not, don't forget our sandals and sneakers #summer",
        "Airstrikes all over the news, and here are our trainers",
        "RIP to the victims. #PartyTime #TGIF",
    ],
)
def test_tragedy_next_to_a_product_or_party_cheer_is_reviewed(text: str) -> None:
    assert Severity.REVIEW in _severities(text)


@pytest.mark.parametrize(
    "text",
    [
        "Our thoughts are with everyone affected by the floods. We are donating bottled water",
        "Rest in peace, Tom. He brought joy to everyone who walked into our bakery",
        "The earthquake appeal: every bottle of water helps. Donate at redcross.org",
    ],
)
def test_condolences_and_relief_with_products_are_only_noted(text: str) -> None:
    assert Severity.REVIEW not in _severities(text)
    assert Severity.BLOCK not in _severities(text)
