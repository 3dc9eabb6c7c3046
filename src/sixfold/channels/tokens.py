"""When an OAuth access token runs out, and when to renew it: one rule for every connector.

Credentials are sealed as JSON, so an expiry is stored as a JSON value: an ISO 8601 time in
UTC ("2026-05-01T12:00:00+00:00"), written by `expiry_after`. Credentials sealed before this
module existed keep working: X stored epoch seconds (an int), and `read_expiry` reads both.

Each network renews at its own margin before the expiry (X: 5 minutes of a 2-hour token;
LinkedIn: 7 days of a 60-day one), so that a token never lapses between the check and the
call that uses it; `needs_refresh` applies the margin.

Renewing goes through `renew`, which uses the platform's `ConnectorContext.renew` so that one
process renews a channel at a time (see there for why).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sixfold.channels.base import ConnectorContext, RefreshCredentials

# A renewal runs while the channel's stored credentials are locked (on SQLite: while every
# other writer waits), so the call to the token endpoint gets less time than other calls.
# Token endpoints answer in well under a second; the lock's waiters wait 30 s.
RENEW_TIMEOUT_SECONDS = 10.0

# What a connector renews with: (the credentials it holds, how to refresh them) -> the
# credentials to go on with.
Renewer = Callable[[dict[str, Any], RefreshCredentials], dict[str, Any]]


def expiry_after(now: datetime, lifetime: timedelta) -> str:
    """The stored form of the moment `lifetime` after `now`."""
    return (now + lifetime).astimezone(UTC).isoformat()


def read_expiry(value: Any) -> datetime | None:
    """A stored expiry as an aware UTC datetime: an ISO 8601 time, or epoch seconds (X's
    credentials sealed before this format). None when there is none or it cannot be read:
    the token is then used until the network refuses it."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = str(value).strip()
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Our own writers always add the offset; a bare time can only have meant UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def needs_refresh(expiry: datetime | None, margin: timedelta, now: datetime) -> bool:
    """Whether a token expiring at `expiry` is within `margin` of it (or past it) at `now`.
    An unknown expiry never needs renewing ahead: the network says when it refuses it."""
    return expiry is not None and now >= expiry - margin


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def renew(
    context: ConnectorContext, held: dict[str, Any], refresh: RefreshCredentials
) -> dict[str, Any]:
    """The credentials to go on with after renewing `held`: through the platform's
    `context.renew`, which lets one process renew at a time and may hand back what another
    process renewed. Without it (credentials the platform does not keep: no secret key,
    tests) `refresh` runs here and what it returns goes to `save_credentials`."""
    if context.renew is not None:
        return context.renew(dict(held), refresh)
    renewed = refresh(dict(held))
    if context.save_credentials is not None:
        context.save_credentials(dict(renewed))
    return {**held, **renewed}
