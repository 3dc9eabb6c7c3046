"""What publishing must do after an AT Protocol error: the SDK's exceptions sorted into ours.

The SDK (atproto_client.exceptions) raises `UnauthorizedError` (401/403), `BadRequestError`
(400), `RateLimitExceededError` (429), `NetworkError` (transport failures, and 409/413/502
answers), `InvokeTimeoutError` (no answer in time) and `RequestException` (the rest). Whether
a failure is ambiguous depends on the call: a write that may have reached the PDS is
ambiguous; a read, or a write that provably never left (the connection was refused), is not.
"""

from __future__ import annotations

import time
from datetime import datetime

from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError

from sixfold.channels.base import (
    AmbiguousError,
    ConnectorError,
    CredentialsError,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.connectors.transport import HTTPX_NEVER_SENT

# Errors by which a PDS says the session (not the request) is the problem: a fresh login
# with the app password may cure them.
SESSION_ERRORS = frozenset(
    {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthRequired", "AuthenticationRequired"}
)


def error_name(error: BaseException) -> str:
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    return str(content.error) if isinstance(content, XrpcError) else ""


def message_of(error: BaseException) -> str:
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    if isinstance(content, XrpcError):
        return str(content.message or content.error)
    return str(error) or type(error).__name__


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def is_session_failure(error: BaseException) -> bool:
    """The PDS refused the session itself (expired, revoked): worth one fresh login."""
    if isinstance(error, LoginRequiredError | UnauthorizedError):
        return True
    return isinstance(error, BadRequestError) and error_name(error) in SESSION_ERRORS


def retry_after(error: RateLimitExceededError) -> float | None:
    """Seconds to wait: Retry-After when sent, else until ratelimit-reset (epoch seconds)."""
    after: float | None = error.retry_after
    if after is not None:
        return max(after, 1.0)
    reset: datetime | None = error.reset_at
    if reset is not None:
        return max(reset.timestamp() - time.time(), 1.0)
    return None


def translate(error: Exception, *, writing: bool) -> ConnectorError:
    """Our error for an SDK error; `writing` says whether the call may have changed the repo."""
    if isinstance(error, ConnectorError):
        return error
    message = message_of(error)
    if isinstance(error, RateLimitExceededError):
        return RateLimited(f"Bluesky rate limit: {message}", retry_after=retry_after(error))
    if isinstance(error, LoginRequiredError | UnauthorizedError):
        return CredentialsError(f"Bluesky refused the account's credentials: {message}")
    if isinstance(error, BadRequestError):
        if error_name(error) in SESSION_ERRORS:
            return CredentialsError(f"Bluesky refused the account's credentials: {message}")
        return PermanentError(f"Bluesky refused the post: {message}")
    if isinstance(error, NetworkError | InvokeTimeoutError) and status_of(error) is None:
        return _transport(error, message, writing=writing)
    if isinstance(error, RequestErrorBase):
        return _answered(error, message)
    # Anything else (a response the SDK could not read, say) came after the PDS answered.
    if writing:
        return AmbiguousError(f"Bluesky's answer could not be read: {message}")
    return TransientError(f"Bluesky's answer could not be read: {message}")


def _transport(error: Exception, message: str, *, writing: bool) -> ConnectorError:
    if isinstance(error.__cause__, HTTPX_NEVER_SENT) or not writing:
        return TransientError(f"Bluesky could not be reached: {message}")
    return AmbiguousError(f"No answer from Bluesky: {message}")


def _answered(error: RequestErrorBase, message: str) -> ConnectorError:
    status = status_of(error) or 0
    if status == 413:
        return PermanentError(f"Bluesky refused the post as too large: {message}")
    # A 5xx answer from the PDS (or the AppView behind it) did not take the post; even if a
    # write had landed, the next attempt writes the same record key and cannot add a post.
    if status >= 500 or status == 409:
        return TransientError(f"Bluesky is unavailable ({status}): {message}")
    return PermanentError(f"Bluesky refused the request ({status}): {message}")
