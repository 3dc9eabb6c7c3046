"""The token-expiry rules every OAuth connector shares (channels/tokens.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sixfold.channels import tokens
from sixfold.channels.base import ConnectorContext, RefreshCredentials

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
HELD = {"access_token": "a1", "refresh_token": "r1", "client_id": "app"}


# Hypothesis takes naive bounds and adds the zone itself.
EARLIEST = datetime(2000, 1, 1)  # noqa: DTZ001
LATEST = datetime(2100, 1, 1)  # noqa: DTZ001


@given(
    now=st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)),
    seconds=st.integers(min_value=0, max_value=400 * 86400),
)
def test_a_written_expiry_reads_back_as_the_same_moment(now: datetime, seconds: int) -> None:
    lifetime = timedelta(seconds=seconds)
    stored = tokens.expiry_after(now, lifetime)
    assert isinstance(stored, str)  # JSON, in the sealed credentials
    assert tokens.read_expiry(stored) == now + lifetime


@pytest.mark.parametrize(
    ("stored", "moment"),
    [
        # X's credentials sealed before the shared format: epoch seconds.
        (1774744200, NOW),
        (1774744200.5, NOW + timedelta(milliseconds=500)),
        ("1774744200", NOW),
        # LinkedIn's, and the shared format.
        ("2026-03-29T00:30:00+00:00", NOW),
        ("2026-03-29T02:30:00+02:00", NOW),
        ("2026-03-29T00:30:00Z", NOW),
        ("2026-03-29T00:30:00", NOW),  # no offset: UTC
    ],
)
def test_every_stored_form_is_read_as_utc(stored: Any, moment: datetime) -> None:
    read = tokens.read_expiry(stored)
    assert read == moment
    assert read is not None
    assert read.utcoffset() == timedelta(0)


@pytest.mark.parametrize("stored", [None, "", "soon", True, float("nan"), 10**20, [1]])
def test_no_or_unreadable_expiry_is_unknown(stored: Any) -> None:
    assert tokens.read_expiry(stored) is None


@pytest.mark.parametrize(
    ("left", "margin", "due"),
    [
        (timedelta(minutes=6), timedelta(minutes=5), False),
        (timedelta(minutes=5, seconds=1), timedelta(minutes=5), False),
        (timedelta(minutes=5), timedelta(minutes=5), True),
        (timedelta(minutes=1), timedelta(minutes=5), True),
        (timedelta(days=-1), timedelta(minutes=5), True),
        (timedelta(days=8), timedelta(days=7), False),
        (timedelta(days=6), timedelta(days=7), True),
        (timedelta(seconds=1), timedelta(0), False),
        (timedelta(0), timedelta(0), True),
    ],
)
def test_a_token_needs_renewing_within_its_margin(
    left: timedelta, margin: timedelta, due: bool
) -> None:
    assert tokens.needs_refresh(NOW + left, margin, NOW) is due


def test_a_token_of_unknown_expiry_is_renewed_only_when_refused() -> None:
    assert tokens.needs_refresh(None, timedelta(days=7), NOW) is False


def test_a_timezone_apart_is_the_same_moment() -> None:
    tokyo = timezone(timedelta(hours=9))
    expiry = tokens.read_expiry((NOW + timedelta(minutes=4)).astimezone(tokyo).isoformat())
    assert tokens.needs_refresh(expiry, timedelta(minutes=5), NOW)


# Renewing ----------------------------------------------------------------------------------


def refresher(calls: list[dict[str, Any]]) -> RefreshCredentials:
    def refresh(stored: dict[str, Any]) -> dict[str, Any]:
        calls.append(stored)
        return {"access_token": "a2", "refresh_token": "r2"}

    return refresh


def test_without_the_platform_renewal_the_connector_refreshes_and_saves() -> None:
    saved: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    context = ConnectorContext(1, {}, dict(HELD), save_credentials=saved.append)
    renewed = tokens.renew(context, HELD, refresher(calls))
    assert calls == [HELD]
    assert saved == [{"access_token": "a2", "refresh_token": "r2"}]
    assert renewed == {**HELD, "access_token": "a2", "refresh_token": "r2"}


def test_the_platform_renewal_decides_when_it_is_offered() -> None:
    asked: list[dict[str, Any]] = []
    stored_elsewhere = {**HELD, "access_token": "a9", "refresh_token": "r9"}

    def platform(held: dict[str, Any], refresh: RefreshCredentials) -> dict[str, Any]:
        asked.append(held)
        return stored_elsewhere  # another process renewed: no refresh here

    calls: list[dict[str, Any]] = []
    saved: list[dict[str, Any]] = []
    context = ConnectorContext(1, {}, dict(HELD), save_credentials=saved.append, renew=platform)
    assert tokens.renew(context, HELD, refresher(calls)) == stored_elsewhere
    assert asked == [HELD]
    assert calls == []
    assert saved == []
