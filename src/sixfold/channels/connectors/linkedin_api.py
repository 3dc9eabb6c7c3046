"""LinkedIn's REST API as the LinkedIn connector uses it: versioned requests, OAuth 2 tokens
that renew themselves, LinkedIn's errors sorted into the connector contract, and the "little"
text format of post commentary.

LinkedIn has no official Python client, so this speaks HTTP with httpx. Every call to
api.linkedin.com carries the version headers; the OAuth endpoints on www.linkedin.com and the
signed image-upload URLs LinkedIn hands out are not the REST API and get only what they need.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx

from sixfold.channels import tokens
from sixfold.channels.base import (
    AmbiguousError,
    CredentialsError,
    PermanentError,
    RateLimited,
    RefreshCredentials,
    TransientError,
)
from sixfold.channels.connectors.transport import HTTPX_NEVER_SENT, retry_after
from sixfold.db import utcnow

# LinkedIn releases an API version each month (YYYYMM) and keeps each one for at least a year;
# an unknown or sunset version is refused outright. Move this forward once a year, after
# reading the migration notes of the versions in between.
LINKEDIN_VERSION = "202610"
RESTLI_PROTOCOL = "2.0.0"
API_BASE = "https://api.linkedin.com"
OAUTH_BASE = "https://www.linkedin.com/oauth/v2"

# Access tokens live 60 days. Renewing within the last 7 keeps a token from expiring in the
# middle of a publish or a slow reconciliation, leaves days of slack for a channel that is used
# only now and then, and costs one refresh every ~53 days. LinkedIn keeps a refresh token
# today, but its answer carries one, and a rotated token would leave the second of two
# processes renewing at once refused: renewals go through tokens.renew, one at a time.
REFRESH_AHEAD = timedelta(days=7)
DEFAULT_ACCESS_LIFETIME = timedelta(days=60)

# LinkedIn answers a post within seconds; a minute covers a slow image upload. A connector
# that waits longer only delays the reconciliation that an ambiguous answer needs anyway.
DEFAULT_TIMEOUT = 30.0

# What a call may do on LinkedIn, which decides what a failure means: a "create" that got no
# answer may have posted (ambiguous); a "write" needs a write permission (a 403 means the
# sign-in lost it); a "read" only needs the app's read permissions.
CallKind = Literal["read", "write", "create"]


def encode_urn(urn: str) -> str:
    """A URN as Rest.li 2.0 wants it in a path or inside List(...): every ':' encoded."""
    return quote(urn, safe="")


def feed_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}"


def from_epoch_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# Little text ---------------------------------------------------------------------------------
#
# Post commentary is LinkedIn's "little" format: plain text with mentions @[Name](urn),
# hashtags and templates. Its reserved characters must be backslash-escaped, even where they
# form no element; unescaped, LinkedIn cuts or garbles the post at the first one (a stray "("
# ends it). Hashtags are written as hashtag templates so they stay clickable.

_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = re.compile(r"(?<![\w#\\])#([^\W_]+)")
_LITTLE_TOKEN = re.compile(
    r"\{hashtag\|\\?([#＃])\|((?:\\.|[^\\}])*)\}"  # hashtag template: {hashtag|\#|tag}
    r"|@\[((?:\\.|[^\\\]])*)\]\(urn:li:[^)]*\)"  # mention: @[Name](urn:li:person:1)
    r"|\\(.)",  # escaped character
    re.DOTALL,
)


def _escape_run(text: str) -> str:
    return "".join(f"\\{char}" if char in _RESERVED else char for char in text)


def escape_little(text: str) -> str:
    """Plain text as LinkedIn commentary: reserved characters escaped, #word a hashtag."""
    parts, last = [], 0
    for match in _HASHTAG.finditer(text):
        parts.append(_escape_run(text[last : match.start()]))
        parts.append(f"{{hashtag|\\#|{match.group(1)}}}")
        last = match.end()
    parts.append(_escape_run(text[last:]))
    return "".join(parts)


def unescape_little(text: str) -> str:
    """Commentary as people read it: escapes resolved, hashtags and mentions as shown."""

    def plain(match: re.Match[str]) -> str:
        sign, tag, name, escaped = match.groups()
        if escaped is not None:
            return escaped
        if name is not None:
            return unescape_little(name)
        return str(sign) + unescape_little(tag)

    return _LITTLE_TOKEN.sub(plain, text)


# Errors --------------------------------------------------------------------------------------


def error_message(response: httpx.Response) -> str:
    """LinkedIn's own words: the error body's message, with the field errors it points to."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"LinkedIn answered {response.status_code}"
    message = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    details = body.get("errorDetails")
    inputs = details.get("inputErrors", []) if isinstance(details, dict) else []
    notes = [_input_error(item) for item in inputs if isinstance(item, dict)]
    text = "; ".join(part for part in [message, *notes] if part)
    return text or f"LinkedIn answered {response.status_code}"


def _input_error(item: dict[str, Any]) -> str:
    path = (item.get("input") or {}).get("inputPath", {}).get("fieldPath", "")
    what = item.get("description") or item.get("code") or ""
    return f"{path}: {what}" if path else str(what)


def retry_after_seconds(response: httpx.Response, now: datetime) -> float:
    """How long LinkedIn asked us to wait: Retry-After when sent, else until its day resets.

    LinkedIn's limits are per day (per member and per application) and reset at midnight
    UTC; its 429s usually carry no Retry-After, so the next UTC midnight is the honest wait.
    """
    asked = retry_after(response.headers.get("retry-after"), now)
    if asked is not None:
        return asked
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()


def raise_for_status(response: httpx.Response, kind: CallKind, now: datetime) -> None:
    status = response.status_code
    if status < 400:
        return
    message = error_message(response)
    if status == 401:
        raise CredentialsError(f"LinkedIn refused the sign-in ({message}): reconnect")
    if status == 403:
        # Writing needs the sign-in's own permission (w_member_social, or a page role): when
        # LinkedIn takes it away, reconnecting (as someone allowed to post) is the fix. Reading
        # needs permissions LinkedIn grants the app (r_member_social is for approved apps
        # only); reconnecting cannot fix that, so it must not mark the channel broken.
        if kind == "read":
            raise PermanentError(f"LinkedIn does not let this app read that: {message}")
        raise CredentialsError(f"LinkedIn refused permission ({message}): reconnect")
    if status == 429:
        # "APPLICATION DAY limit" stops every account posting through this app; a member's
        # limit stops only that account.
        scope = "network" if "APPLICATION" in message.upper() else "account"
        wait = retry_after_seconds(response, now)
        raise RateLimited(f"LinkedIn rate limit: {message}", retry_after=wait, scope=scope)
    if status >= 500:
        # A gateway error says nothing about whether the service behind it stored the post.
        if kind == "create":
            raise AmbiguousError(f"LinkedIn answered {status} while posting: {message}")
        raise TransientError(f"LinkedIn answered {status}: {message}")
    raise PermanentError(message)


def _transport_error(error: httpx.TransportError, kind: CallKind) -> Exception:
    if isinstance(error, HTTPX_NEVER_SENT) or kind != "create":
        return TransientError(f"LinkedIn could not be reached: {error!r}")
    return AmbiguousError(f"No answer from LinkedIn after sending the post: {error!r}")


# OAuth ---------------------------------------------------------------------------------------


def authorization_url(
    oauth_base: str, *, client_id: str, redirect_uri: str, state: str, scopes: list[str]
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": " ".join(scopes),
    }
    return f"{oauth_base}/authorization?{urlencode(query, quote_via=quote)}"


def token_request(http: httpx.Client, oauth_base: str, form: dict[str, str]) -> dict[str, Any]:
    """POST to LinkedIn's token endpoint; a refused grant is a CredentialsError."""
    # A renewal holds the channel's lock while it waits for this answer (channels/tokens.py).
    timeout = min(http.timeout.read or tokens.RENEW_TIMEOUT_SECONDS, tokens.RENEW_TIMEOUT_SECONDS)
    try:
        response = http.post(f"{oauth_base}/accessToken", data=form, timeout=timeout)
    except httpx.TransportError as error:
        raise _transport_error(error, "read") from error
    if response.status_code in (400, 401):
        raise CredentialsError(f"LinkedIn refused the sign-in: {error_message(response)}")
    raise_for_status(response, "read", utcnow())
    body: dict[str, Any] = response.json()
    if not body.get("access_token"):
        raise CredentialsError("LinkedIn's token answer carried no access token")
    return body


def token_credentials(body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The credentials to store from a token answer. A refresh token LinkedIn left out is
    left out here too, so the stored one is kept (see ConnectorContext.save_credentials)."""
    lifetime = timedelta(seconds=int(body["expires_in"])) if body.get("expires_in") else None
    found: dict[str, Any] = {
        "access_token": body["access_token"],
        "expires_at": tokens.expiry_after(now, lifetime or DEFAULT_ACCESS_LIFETIME),
    }
    if body.get("refresh_token"):
        found["refresh_token"] = body["refresh_token"]
        if body.get("refresh_token_expires_in"):
            seconds = timedelta(seconds=int(body["refresh_token_expires_in"]))
            found["refresh_token_expires_at"] = tokens.expiry_after(now, seconds)
    if body.get("scope"):
        found["scope"] = body["scope"]
    return found


class Tokens:
    """The channel's sign-in, renewed through the refresh_token grant before it runs out, by
    one process at a time and stored at once (`renew`: tokens.renew on the connector's
    context; None where the token cannot be renewed)."""

    def __init__(
        self,
        credentials: dict[str, Any],
        *,
        oauth_base: str,
        renew: tokens.Renewer | None = None,
    ) -> None:
        self.credentials = dict(credentials)
        self.oauth_base = oauth_base
        self.renew = renew

    def access_token(self, http: httpx.Client) -> str:
        token = self.credentials.get("access_token")
        if not token:
            raise CredentialsError("The LinkedIn channel is not signed in: connect it")
        now = utcnow()
        expires_at = tokens.read_expiry(self.credentials.get("expires_at"))
        if expires_at is None or not tokens.needs_refresh(expires_at, REFRESH_AHEAD, now):
            return str(token)
        expired = tokens.needs_refresh(expires_at, timedelta(0), now)
        renew = self._renewer(now)
        if renew is not None:
            try:
                return self._renew(renew, http, now)
            except (CredentialsError, TransientError):
                if not expired:
                    return str(token)  # Still good for days: renewing is tried again next time.
                raise
        if expired:
            raise CredentialsError(
                f"the LinkedIn sign-in expired on {expires_at.date().isoformat()}: reconnect"
            )
        return str(token)

    def _renewer(self, now: datetime) -> tokens.Renewer | None:
        """How to renew the sign-in now; None when it cannot be (no refresh token, or an
        expired one)."""
        refresh_expires = tokens.read_expiry(self.credentials.get("refresh_token_expires_at"))
        usable = not tokens.needs_refresh(refresh_expires, timedelta(0), now)
        return self.renew if usable and self.credentials.get("refresh_token") else None

    def _renew(self, renew: tokens.Renewer, http: httpx.Client, now: datetime) -> str:
        self.credentials = renew(self.credentials, self._refresher(http, now))
        return str(self.credentials["access_token"])

    def _refresher(self, http: httpx.Client, now: datetime) -> RefreshCredentials:
        def refresh(stored: dict[str, Any]) -> dict[str, Any]:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": str(stored.get("refresh_token", "")),
                "client_id": str(stored.get("client_id", "")),
                "client_secret": str(stored.get("client_secret", "")),
            }
            return token_credentials(token_request(http, self.oauth_base, form), now)

        return refresh


# Calls ---------------------------------------------------------------------------------------


class Session:
    """One conversation with LinkedIn, on one HTTP client that the connector closes after."""

    def __init__(self, http: httpx.Client, api_base: str, tokens: Tokens) -> None:
        self.http = http
        self.api_base = api_base
        self.tokens = tokens

    def call(
        self,
        method: str,
        path: str,
        *,
        kind: CallKind = "read",
        params: dict[str, Any] | None = None,
        query: str | None = None,
        json: dict[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """A REST call. `query` is a prebuilt Rest.li query string (List(...), tuples) that
        must reach LinkedIn as written; statuses in `allow` are returned, not raised."""
        headers = {
            "Authorization": f"Bearer {self.tokens.access_token(self.http)}",
            "LinkedIn-Version": LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
        }
        url = f"{self.api_base}{path}" + (f"?{query}" if query else "")
        try:
            response = self.http.request(method, url, params=params, json=json, headers=headers)
        except httpx.TransportError as error:
            raise _transport_error(error, kind) from error
        if response.status_code not in allow:
            raise_for_status(response, kind, utcnow())
        return response

    def upload(self, url: str, content: bytes, content_type: str) -> None:
        """PUT an image to the upload URL LinkedIn gave. Nothing is posted yet, so a lost
        answer is only a retry."""
        headers = {
            "Authorization": f"Bearer {self.tokens.access_token(self.http)}",
            "Content-Type": content_type,
        }
        try:
            response = self.http.put(url, content=content, headers=headers)
        except httpx.TransportError as error:
            raise _transport_error(error, "write") from error
        raise_for_status(response, "write", utcnow())


class LinkedInApi:
    """What a connector needs to talk to LinkedIn: where (overridable by the channel settings
    `api_base` and `oauth_base`, for the tests' local server), how long to wait, and the
    sign-in."""

    def __init__(
        self, settings: dict[str, Any], credentials: dict[str, Any], renew: tokens.Renewer
    ) -> None:
        self.api_base = str(settings.get("api_base") or API_BASE).rstrip("/")
        self.oauth_base = str(settings.get("oauth_base") or OAUTH_BASE).rstrip("/")
        self.timeout = float(settings.get("timeout_seconds") or DEFAULT_TIMEOUT)
        self.tokens = Tokens(credentials, oauth_base=self.oauth_base, renew=renew)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with open_http(self.timeout) as http:
            yield Session(http, self.api_base, self.tokens)


def read_userinfo(http: httpx.Client, api_base: str, access_token: str) -> dict[str, Any]:
    """Who signed in (OpenID Connect userinfo: sub, name), with a token not yet stored."""
    signed_in = Tokens({"access_token": access_token}, oauth_base="")
    me: dict[str, Any] = Session(http, api_base, signed_in).call("GET", "/v2/userinfo").json()
    if not me.get("sub"):
        raise CredentialsError("LinkedIn did not say who signed in")
    return me


def open_http(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    # Connecting is quick or hopeless; reading and writing get the full allowance.
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
