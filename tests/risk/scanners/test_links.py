from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sixfold.risk import Policy, Severity
from sixfold.risk.scanners import links
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


# Text full of things that look like links, with every kind of white space between them.
_LINKISH = st.lists(
    st.sampled_from(
        [
            "example.com/new",
            "www.Shop.example.co.uk",
            "http://bit.ly/abc",
            "HTTPS://t.co/x",
            "see:https://a.io",
            "http://localhost",
            "paypa1-secure.com/login",
            "user:pw@host.com",
            "192.168.0.1",
            "xn--80ak6aa92e.com",
            "foo.tk",
            "e.g.",
            "U.S.",
            "v1.2.3",
            "report.pdf",
            "a.b.c.d.io",
            "(www.x.org)",
            "x.zip,",
            "mail@example.com",
            "ok.",
            ".",
            ":",
            "://",
            "word",
            "ünïcode.com",
        ]
    )
    | st.text(alphabet="aw.:/-@co", max_size=8),
    max_size=8,
).flatmap(
    lambda words: st.lists(
        st.sampled_from([" ", "  ", "\t", "\n", "\u2003", "\x1c", "\u3000"]),
        min_size=len(words),
        max_size=len(words),
    ).map(lambda gaps: "".join(w + g for w, g in zip(words, gaps, strict=True)))
)


def _whole_text_links(text: str) -> list[tuple[tuple[int, int], str]]:
    """Both link patterns over the whole text at once: what the scanner reads token by token."""
    found = []
    for match in links._SCHEME_URL.finditer(text):
        url = match.group(0).rstrip(".,!?;:")
        found.append(((match.start(), match.start() + len(url)), url))
    taken = [span for span, _ in found]
    tlds = links._domains()["bare_link_tlds"]
    for match in links._BARE_URL.finditer(text):
        inside = any(s <= match.start() < e for s, e in taken)
        if match.group(1).lower() in tlds and not inside:
            url = match.group(0).rstrip(".,!?;:")
            found.append(((match.start(), match.start() + len(url)), url))
    return found


@given(_LINKISH, st.sampled_from([frozenset(), frozenset({"example.com"})]))
def test_reading_token_by_token_finds_what_reading_the_whole_text_finds(
    text: str, allowed: frozenset[str]
) -> None:
    expected = [
        (span, verdict)
        for span, url in _whole_text_links(text)
        if (verdict := links._judge(url, allowed)) is not None
    ]
    assert links._judged_links(text, allowed) == expected


@given(st.text(alphabet=st.characters() | st.sampled_from(["A", "Z", "a", "!", "\ud800", "Ж"])))
def test_a_text_ruled_out_of_shouting_by_its_small_letters_is_not_shouting(text: str) -> None:
    if not links._may_shout(text):
        assert not links._shouting(text)


@given(st.text(alphabet=st.characters() | st.sampled_from(["A", "Ж", "Ⓐ", "Ⅻ", "ǅ", "İ"])))
def test_every_shouting_text_opens_the_gate(text: str) -> None:
    if links._shouting(text):
        assert len(links._NOT_LOWER.findall(text)) >= 16


@pytest.mark.parametrize(
    ("text", "shouting"),
    [
        ("新しいコーヒーが入荷しました。ぜひお試しくださいね。本日限定の特別価格です", False),
        ("새로운 커피가 입고되었습니다 오늘 매장에서 맛보세요 감사합니다", False),
        ("НОВЫЙ КОФЕ УЖЕ ЗДЕСЬ ПОПРОБУЙТЕ СЕГОДНЯ", True),
        ("ŻÓŁTA KAWA JUŻ JEST W NASZEJ KAWIARNI", True),
        ("Żółta kawa już jest w naszej kawiarni, zapraszamy", False),
        ("NEW ROAST IN STORE TODAY 新しいコーヒー", True),
    ],
)
def test_only_letters_with_a_case_can_shout(text: str, shouting: bool) -> None:
    found = [f.message for f in by_scanner(check(text), "hygiene")]
    assert any("shouting" in m for m in found) is shouting
