"""What the network connectors share about transports (channels/connectors/transport.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import requests
from urllib3.exceptions import NewConnectionError

from sixfold.channels.connectors.transport import (
    HTTPX_NEVER_SENT,
    count_graphemes,
    requests_never_sent,
    retry_after,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sun, 22 Nov 2026 12:05:00 GMT", 300.0),
        ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),  # a date gone by: go now
        ("soon", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, NOW) == seconds


def test_only_a_connection_never_made_proves_nothing_was_sent() -> None:
    refused = requests.exceptions.ConnectionError(
        type("Pool", (), {"reason": NewConnectionError(None, "refused")})()  # type: ignore[arg-type]
    )
    assert requests_never_sent(requests.exceptions.ConnectTimeout())
    assert requests_never_sent(refused)
    assert not requests_never_sent(requests.exceptions.ReadTimeout())
    assert not requests_never_sent(requests.exceptions.ConnectionError("reset by peer"))
    assert not requests_never_sent(None)
    assert isinstance(httpx.ConnectError("refused"), HTTPX_NEVER_SENT)
    assert not isinstance(httpx.ReadTimeout("slow"), HTTPX_NEVER_SENT)


def test_graphemes_are_what_people_see() -> None:
    assert count_graphemes("👨‍👩‍👧") == 1
    assert count_graphemes("e\u0301te\u0301") == 3  # é, t, é with combining accents
    assert count_graphemes("") == 0
