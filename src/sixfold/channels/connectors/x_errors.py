"""What went wrong talking to X, as the platform's errors (channels.base).

tweepy raises one exception class per HTTP status and keeps X's messages (`api_messages`);
requests raises its own for timeouts and lost connections. What matters to publishing is
whether X may have acted: only a call that creates a post and fails after reaching X leaves
the account in doubt (AmbiguousError); everything else either did not happen (Transient,
RateLimited), never will (Permanent) or needs the account reconnected (Credentials).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]  # the package ships no type hints

from sixfold.channels.base import (
    AmbiguousError,
    ConnectorError,
    CredentialsError,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.connectors.transport import requests_never_sent, retry_after


def translate(exc: Exception, *, creates: bool) -> ConnectorError:
    """The platform's error (channels.base) for what went wrong in one call to X."""
    if isinstance(exc, tweepy.HTTPException):
        return _from_status(exc, creates=creates)
    if isinstance(exc, requests.RequestException) and requests_never_sent(exc):
        return TransientError(f"X could not be reached: {exc}")
    if creates:
        return AmbiguousError(f"X did not answer whether it took the post: {exc}")
    return TransientError(f"X did not answer: {exc}")


def _from_status(exc: Any, *, creates: bool) -> ConnectorError:
    response, message = exc.response, _message(exc)
    status = int(response.status_code)
    if status == 429:
        return rate_limited(response.headers, message)
    if status == 401:
        return CredentialsError(f"X no longer accepts this sign-in: {message}")
    if status >= 500:
        # Any 5xx on a create, 503 "over capacity" included, may come after X's edge handed
        # the post on and it was made: sending again blind would meet a 403 duplicate with
        # the post live, so the post is in doubt and has to be looked for. Reads retry.
        if not creates:
            wait = retry_after(response.headers.get("retry-after"), datetime.now(UTC))
            return TransientError(f"X is unavailable: {message}", retry_after=wait)
        return AmbiguousError(f"X failed while taking the post and may have posted it: {message}")
    return PermanentError(message)


def rate_limited(headers: Any, message: str) -> RateLimited:
    """X's limit, and whose it is: the app's daily cap holds every account (scope "network"),
    the account's daily cap or 15-minute window holds this account only."""
    now = time.time()
    if headers.get("x-app-limit-24hour-remaining") == "0":
        wait = _until(headers.get("x-app-limit-24hour-reset"), now)
        return RateLimited(
            f"This app has used X's daily allowance: {message}", retry_after=wait, scope="network"
        )
    if headers.get("x-user-limit-24hour-remaining") == "0":
        wait = _until(headers.get("x-user-limit-24hour-reset"), now)
        return RateLimited(
            f"The account has used its daily allowance on X: {message}", retry_after=wait
        )
    wait = _until(headers.get("x-rate-limit-reset"), now)
    return RateLimited(f"X's rate limit: {message}", retry_after=wait)


def _until(reset: Any, now: float) -> float | None:
    """Seconds from now until `reset`, an epoch time in seconds as X's headers give it."""
    seconds = _seconds(reset)
    return None if seconds is None else max(1.0, seconds - now)


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _message(exc: Any) -> str:
    messages = [str(message) for message in getattr(exc, "api_messages", []) if message]
    return "; ".join(messages) or str(exc)
