from __future__ import annotations

import pytest

from tests.risk.helpers import by_scanner, check


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("aws key AKIAIOSFODNN7EXAMPLE for the bucket", "AKIAIOSFODNN7EXAMPLE"),
        ("token ghp_" + "a1B2" * 9 + " works", "ghp_" + "a1B2" * 9),
        ("slack xoxb-123456789012-abcdefABCDEF here", "xoxb-123456789012-abcdefABCDEF"),
        (
            "maps key AIzaSyD8x3Qm2LpV9tR4wK7nB1cF6hJ0sE5yU2o ok",
            "AIzaSyD8x3Qm2LpV9tR4wK7nB1cF6hJ0sE5yU2o",
        ),
        ("wifi password: Summ1t-2023!", "Summ1t-2023!"),
        ("network Staff, password Summ1tX2-Launch", "Summ1tX2-Launch"),
    ],
)
def test_secrets_block_and_point_at_the_secret(text: str, secret: str) -> None:
    [finding] = by_scanner(check(text), "secrets")
    assert finding.severity.value == "block"
    assert secret in text[finding.start : finding.end]


def test_private_key_headers_block() -> None:
    assert by_scanner(check("-----BEGIN RSA PRIVATE KEY-----\nMIIEow..."), "secrets")


@pytest.mark.parametrize(
    "text",
    [
        "Forgot your password? Reset it in the app",
        "Read our guide: https://example.com/blog/how-we-built-our-new-delivery-tracker",
        "The secret ingredient is love",
    ],
)
def test_ordinary_posts_mentioning_passwords_or_long_links_are_clean(text: str) -> None:
    assert by_scanner(check(text), "secrets") == []
