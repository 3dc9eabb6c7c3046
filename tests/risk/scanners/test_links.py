from __future__ import annotations

import pytest

from sixfold.risk import Policy, Severity
from tests.risk.helpers import by_scanner, check


def _links(text: str, policy: Policy | None = None) -> list[Severity]:
    return [f.severity for f in by_scanner(check(text, policy=policy), "links")]


@pytest.mark.parametrize(
    "text",
    [
        "Claim your prize: http://bit.ly/3xHRgift",
        "Log in at http://192.168.4.20/login",
        "Verify at https://brand-support.co/login",
        "Pay at https://www.paypa1-secure.com/shop",
        "See [example.com](https://evil.example.net/x)",
        "Visit https://xn--pple-43d.com",
        "Get it at https://user:pw@example.com",
        "Free money at win-now.zip",
    ],
)
def test_risky_links_are_reviewed(text: str) -> None:
    assert _links(text) == [Severity.REVIEW]


def test_ordinary_links_are_clean_and_unknown_ones_noted_with_an_allow_list() -> None:
    assert _links("Read more at https://www.example.com/news and shop.example.org") == []
    policy = Policy(allowed_domains=("example.com",))
    assert _links("https://example.com/a and https://other.org/b", policy) == [Severity.INFO]


def test_file_names_and_abbreviations_are_not_links() -> None:
    assert _links("See the attached report.pdf, e.g. page 2; built with Node.js") == []


def _hygiene(text: str) -> list[str]:
    return [text[f.start : f.end] for f in by_scanner(check(text), "hygiene")]


def test_hygiene_is_info_only() -> None:
    assert _hygiene("Wow!!!! #don't miss # sale") == ["!!!!", "#don't", "# sale"]
    verdict = check("THIS IS THE BEST SALE EVER, COME ON DOWN")
    assert [f.category for f in verdict.findings] == ["hygiene"]
    assert verdict.verdict.value == "ok"
