"""Mastodon.py's exceptions sorted by what publishing must do next (see channels.base)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
)

from sixfold.channels.base import (
    AmbiguousError,
    ConnectorError,
    CredentialsError,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.connectors.transport import requests_never_sent

T = TypeVar("T")

# Mastodon::NotPermittedError: the account may not do this one thing (reply to a post it
# cannot see, say); its access is fine.
NOT_PERMITTED = "This action is not allowed"

# How Mastodon.py words a real 429 (internals.py, "Hit rate limit." and, in pace mode,
# "Hit rate limit, but cannot pace requests ..."), as against its other rate-limit errors.
HIT_RATE_LIMIT = "Hit rate limit"


def connecting(server: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except MastodonNetworkError as error:
        raise ConnectorError(f"Could not reach {server}: {error}") from error
    except MastodonError as error:
        status, _ = _status_of(error)
        if status in (401, 403):
            raise CredentialsError(f"{server} refused: {message_of(error)}") from error
        raise ConnectorError(f"{server} answered: {message_of(error)}") from error


def _status_of(error: MastodonError) -> tuple[int | None, str | None]:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, server's message).
    args = error.args
    if len(args) >= 4 and isinstance(args[1], int):
        return args[1], (str(args[3]) if args[3] else None)
    return None, None


def message_of(error: MastodonError) -> str:
    status, message = _status_of(error)
    if message:
        return message
    return f"HTTP {status}" if status else str(error)


def translated(error: MastodonError, api: Mastodon, *, sending: bool) -> ConnectorError:
    if isinstance(error, MastodonRatelimitError):
        return _rate_limit_error(error, api, sending=sending)
    if isinstance(error, MastodonNetworkError):
        return _network_error(error, sending=sending)
    if not isinstance(error, MastodonAPIError):
        return PermanentError(str(error))  # refused by Mastodon.py before sending anything
    status, _ = _status_of(error)
    message = message_of(error)
    if status == 401 or (status == 403 and message != NOT_PERMITTED):
        # Mastodon tokens never expire: a refusal means revoked, scopes taken away or the
        # account disabled; someone has to reconnect.
        return CredentialsError(message)
    if status == 422 and "not finished processing" in message:
        return TransientError(message)
    if status == 503:
        # Mastodon's own "temporary problem" (storage, a lock) or a proxy with no upstream
        # at all: the request was turned away before the status was made.
        return TransientError(message)
    if status is None or status >= 500:
        # A 502 or 504 comes from the proxy after it handed the request on: Mastodon may
        # have made the status and only the answer was lost. A 500 or an unreadable answer
        # may come after the commit too. Reads are simply tried again.
        return AmbiguousError(message) if sending else TransientError(message)
    return PermanentError(message)


def _rate_limit_error(
    error: MastodonRatelimitError, api: Mastodon, *, sending: bool
) -> ConnectorError:
    if str(error).startswith(HIT_RATE_LIMIT):
        reset = api.ratelimit_reset
        wait = max(0.0, float(reset) - time.time()) if reset else None
        return RateLimited("Mastodon's rate limit for this account is reached.", retry_after=wait)
    # Mastodon.py also raises this class when it cannot read X-RateLimit-Reset or Date,
    # and it reads them before looking at the status: the answer may have been a 200 for
    # a status that now exists, so a post is in doubt and must not simply be sent again.
    # No constructor setting skips that reading (every ratelimit_method does it).
    message = f"Mastodon's answer could not be read: {error}"
    return AmbiguousError(message) if sending else TransientError(message)


def _network_error(error: MastodonNetworkError, *, sending: bool) -> ConnectorError:
    cause = error.__context__  # Mastodon.py raises inside `except`, keeping the cause
    if sending and not requests_never_sent(cause):
        return AmbiguousError(f"No answer from the Mastodon server: {cause or error}")
    return TransientError(f"Could not reach the Mastodon server: {cause or error}")
