from __future__ import annotations

import pytest

from sixfold.risk import Policy, Severity
from tests.risk.helpers import by_scanner, check


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Vote Republican this November!", "politics"),
        ("Our founder's take on abortion", "social_issue"),
        ("Jesus would have loved this burger", "religion"),
        ("d3mocrats and r3publicans agree: great pizza", "politics"),  # leetspeak evasion
    ],
)
def test_hot_topics_are_reviewed(text: str, category: str) -> None:
    [finding] = by_scanner(check(text), "hot_topics")
    assert (finding.category, finding.severity) == (category, Severity.REVIEW)


def test_ordinary_civic_and_festive_posts_are_clean() -> None:
    assert by_scanner(check("Tickets will be allocated by ballot"), "hot_topics") == []
    assert by_scanner(check("Eid Mubarak to our Muslim customers"), "hot_topics") == []


def test_personal_accounts_are_not_held_to_brand_rules() -> None:
    verdict = check("Vote Republican!", policy=Policy(brand_account=False))
    assert by_scanner(verdict, "hot_topics") == []


def _off_brand(text: str) -> list[tuple[str, Severity]]:
    return [(f.category, f.severity) for f in by_scanner(check(text), "off_brand")]


def test_intoxication_in_a_personal_voice_is_reviewed() -> None:
    assert _off_brand("when we drink we do it right #gettingslizzerd") == [
        ("intoxication", Severity.REVIEW)
    ]
    assert _off_brand("hungover af, can someone else post pls") == [
        ("intoxication", Severity.REVIEW)
    ]
    assert _off_brand("so drunk l0l") == [("intoxication", Severity.REVIEW)]  # leetspeak


def test_products_that_mention_drink_are_only_noted() -> None:
    assert _off_brand("Alcohol-free lager: all the taste, none of the hangover") == [
        ("intoxication", Severity.INFO)
    ]


def test_private_life_on_a_brand_account() -> None:
    assert _off_brand("Can't believe my boyfriend forgot my birthday") == [
        ("personal_life", Severity.REVIEW)
    ]
    assert _off_brand("Date night? Book our tasting menu") == [("personal_life", Severity.INFO)]
