from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixfold.risk import Policy, Severity
from sixfold.risk.document import fold_text
from sixfold.risk.scanners.personal_data import _NUMBER_GATE
from tests.risk.helpers import by_scanner, check


def _found(text: str, policy: Policy | None = None) -> list[tuple[str, Severity]]:
    verdict = check(text, policy=policy)
    return [(text[f.start : f.end], f.severity) for f in by_scanner(verdict, "personal_data")]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
        ("pay to DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"),
        ("her SSN is 123-45-6789", "123-45-6789"),
        ("Delivery for Mr de Vries, BSN 111222333", "111222333"),
        ("NHS number 943 476 5919 for the form", "943 476 5919"),
    ],
)
def test_checksummed_numbers_block(text: str, number: str) -> None:
    assert (number, Severity.BLOCK) in _found(text)


def test_numbers_failing_their_checksum_are_ignored() -> None:
    assert _found("order 4111 1111 1111 1112 shipped") == []
    assert _found("ref DE00 3704 0044 0532 0130 00") == []


def test_a_labelled_number_too_short_to_be_one_is_ignored() -> None:
    # python-stdnum would pad "12-34--56" to the valid BSN 000123456.
    assert _found("BSN 12-34--56") == []
    assert _found("BSN: 123 - 456") == []


def test_evasion_with_fullwidth_digits() -> None:
    assert _found("card ４１１１ １１１１ １１１１ １１１１")[0][1] is Severity.BLOCK


def test_a_phone_number_ending_a_sentence_is_found() -> None:
    found = _found("Call Priya on 020 7946 0018. 20% off today only")
    assert found == [("020 7946 0018", Severity.REVIEW)]


def test_phone_numbers_depend_on_whose_they_are() -> None:
    assert _found("Her number is 020 7946 0018, ring her")[0][1] is Severity.REVIEW
    assert _found("Book a table at our Soho restaurant: 020 7946 0934")[0][1] is Severity.INFO
    assert _found("Call 1-800-273-8255 any time")[0][1] is Severity.INFO


def test_emails_role_addresses_and_public_contacts() -> None:
    assert _found("write to jane.doe@example.com") == [("jane.doe@example.com", Severity.REVIEW)]
    assert _found("press@example.com")[0][1] is Severity.INFO
    allowed = Policy(public_contacts=("jane.doe@example.com",))
    assert _found("write to jane.doe@example.com", allowed) == []


def test_dates_prices_and_order_numbers_are_not_personal_data() -> None:
    assert _found("Sale ends 2024-11-29, order #100234, $1,299.99") == []


_NUMBERS = [
    "4111 1111 1111 1111", "5555-5555-5555-4444", "DE89 3704 0044 0532 0130 00",
    "GB82 WEST 1234 5698 7654 32", "MT84 MALT 0110 0001 2345 MTLC AST0 01S", "123-45-6789",
    "111.444.777-35", "12345678Z", "2345 6789 0124", "RSSMRA85T10A562S", "BSN 111222333",
    "NHS no. 943 476 5919", "+61 491 570 156", "020 7946 0018", "(212) 555-0123",
    "1-800-273-8255", "+44 (0)20 7946 0958",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(_NUMBERS) | st.text(alphabet="0123456789 ().-+/ab#", max_size=24),
        min_size=1,
        max_size=4,
    ).map(" ".join)
)
def test_every_number_the_scanner_reports_opens_its_gate(text: str) -> None:
    numbers = [f for f in _found(text) if "@" not in f[0]]
    if numbers:
        assert _NUMBER_GATE.search(fold_text(text)), (text, numbers)
