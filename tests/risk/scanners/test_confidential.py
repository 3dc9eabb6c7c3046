from __future__ import annotations

import pytest

from sixfold.risk import Policy, Severity
from tests.risk.helpers import by_scanner, check, flagged_by

POLICY = Policy(confidential_terms=("Project Kestrel", "Tidewater"))


def _found(text: str) -> list[tuple[str, Severity]]:
    verdict = check(text, policy=POLICY)
    return [(f.category, f.severity) for f in by_scanner(verdict, "confidential")]


def test_the_organisations_own_terms_block() -> None:
    assert ("confidential_term", Severity.BLOCK) in _found("Sneak peek of Project Kestrel!")


def test_own_terms_are_caught_through_evasion_but_respect_capitalisation() -> None:
    assert ("confidential_term", Severity.BLOCK) in _found("Pr0ject K3strel launches soon")
    assert ("confidential_term", Severity.BLOCK) in _found("Tidewater deal is close")
    assert _found("Kayak tour of the tidewater creeks") == []


def test_unreleased_results_are_reviewed_and_block_with_a_secrecy_cue() -> None:
    assert _found("Board meeting today. Good numbers = happy board.") == [
        ("financial", Severity.REVIEW),
        ("financial", Severity.REVIEW),
        ("financial", Severity.REVIEW),
    ]
    found = _found("Q3 results look great, but keep it quiet until Thursday")
    assert {severity for _, severity in found} == {Severity.BLOCK}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Am considering taking Acme private at $420. Funding secured.", "merger"),
        ("We're being acquired by Globex next month", "merger"),
        ("Layoffs hit the Leeds office on Friday", "personnel"),
        ("We're closing the Glasgow and Bristol stores in June", "personnel"),
    ],
)
def test_deals_and_personnel_matters(text: str, category: str) -> None:
    assert (category, Severity.REVIEW) in _found(text)


def test_public_results_and_teasers_are_only_noted() -> None:
    public = _found("Full-year results are out: revenue up 9%. Read the release on our site")
    assert public
    assert all(severity is Severity.INFO for _, severity in public)
    assert _found("Top secret new flavour drops Friday!") == [("secrecy", Severity.INFO)]


@pytest.mark.parametrize(
    "text",
    [
        "Weekly active users topped 3 million last month, a company first!",
        "Quarterly bookings passed $40m, don't tell the analysts",
        "Monthly orders exceeded 2 million for the first time in March",
        "We need to acquire the company before they raise again",
        "I think we should buy them before someone else does",
    ],
)
def test_metrics_and_deal_intent_are_reviewed(text: str) -> None:
    assert flagged_by(text, "confidential")


@pytest.mark.parametrize(
    "text",
    [
        "Our monthly meetup is back! 40 seats left",
        "Daily specials from $5",
        "Those cookies? We should buy them all",
        "We passed 10k followers, thank you!",
    ],
)
def test_ordinary_numbers_and_shopping_are_fine(text: str) -> None:
    assert not flagged_by(text, "confidential")
