"""What the network connectors share about their transports and texts.

Whether a failed request can have reached the network decides between "try again" and
"look first" (TransientError or AmbiguousError): only a connection that was never made
proves nothing was sent. The two HTTP stacks the client libraries use say so differently.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
import regex
import requests
from urllib3.exceptions import NewConnectionError

from sixfold.inputs import ascii_int

# httpx failures raised before a request leaves: no connection, or none free in the pool.
HTTPX_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_GRAPHEME = regex.compile(r"\X")


def requests_never_sent(error: BaseException | None) -> bool:
    """Whether a `requests` failure happened before the request was sent: a connect timeout,
    or a connection refused or unresolvable (urllib3's NewConnectionError). A timeout or
    reset after connecting may have carried the request."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError) and error.args:
        return isinstance(getattr(error.args[0], "reason", None), NewConnectionError)
    return False


def count_graphemes(text: str) -> int:
    """Characters as people see them: an emoji with its modifiers, a letter with its accents."""
    return len(_GRAPHEME.findall(text))


def retry_after(header: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP date (RFC 9110)."""
    value = (header or "").strip()
    seconds = ascii_int(value)
    if seconds is not None:
        return float(seconds)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None
