"""Signing in to X: OAuth 2.0 Authorization Code with PKCE, and renewing the tokens.

tweepy 4.17 has `OAuth2UserHandler`, but it cannot serve here: it invents its own `state`
(the platform's connect page chooses it), keeps the PKCE verifier in the object (the person
comes back in another request, perhaps to another server), hard-codes X's hosts (the tests
talk to a local server) and cannot refresh a token. The protocol is small, so this module
speaks it with `requests`, the HTTP library tweepy itself uses, and authlib's PKCE helper.

X's rules (docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE"): a confidential client
authenticates to the token endpoint with HTTP Basic (client id and secret); access tokens
live two hours; `offline.access` adds a refresh token, and every refresh rotates it: the old
one stops working at once, so the new one must be stored before anything else happens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sixfold.channels import tokens
from sixfold.channels.base import ConnectorError, CredentialsError, TransientError
from sixfold.db import utcnow

API_BASE = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
# tweepy builds every URL on this host; XSession moves its requests to the configured one.
TWEEPY_HOST = "https://api.twitter.com"
# media.write: the v2 media upload (POST /2/media/upload) takes OAuth 2 user tokens with it.
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
TIMEOUT_SECONDS = 20.0
# Renew this long before expiry, so a token never lapses between the check and the call.
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_LIFETIME_SECONDS = 7200  # X's access tokens live two hours
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105  # a URL path, not a secret


class XSession(requests.Session):
    """A requests session that sends tweepy's calls to `api_base` and never waits forever.

    tweepy.Client has no timeout and a fixed host, but it makes every call through its
    public `session` attribute; connectors replace that attribute with one of these.
    """

    def __init__(self, api_base: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        # Moved before preparing, so proxies and cookies are chosen for the real host.
        if isinstance(request.url, str) and request.url.startswith(TWEEPY_HOST):
            request.url = self.api_base + request.url[len(TWEEPY_HOST) :]
        return super().prepare_request(request)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def api_base_of(values: dict[str, Any]) -> str:
    """The API's base URL: X's own unless a channel (or a test) names another."""
    return str(values.get("api_base") or API_BASE).rstrip("/")


def authorization_url(
    values: dict[str, Any], *, redirect_uri: str, state: str, code_verifier: str
) -> str:
    base = api_base_of(values)
    # The consent page lives on x.com; a stand-in API (tests) serves it on its own host.
    endpoint = AUTHORIZE_URL if base == API_BASE else f"{base}/i/oauth2/authorize"
    query = {
        "response_type": "code",
        "client_id": client_id_of(values),
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{endpoint}?{urlencode(query)}"


def exchange_code(
    session: XSession, values: dict[str, Any], *, code: str, code_verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """The credentials a code is worth: client, tokens and when the access token expires."""
    tokens = _token_request(
        session,
        values,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
    )
    return {
        "client_id": client_id_of(values),
        "client_secret": str(values.get("client_secret") or ""),
        **tokens,
    }


def refresh(session: XSession, credentials: dict[str, Any]) -> dict[str, Any]:
    """New tokens for old: access token, expiry and (when X sends one) the rotated refresh
    token. A missing or empty refresh token is left out, so the stored one is kept."""
    refresh_token = credentials.get("refresh_token")
    if not refresh_token:
        raise CredentialsError(
            "The X sign-in has expired and cannot be renewed (no refresh token): reconnect it."
        )
    return _token_request(
        session, credentials, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def due_for_refresh(credentials: dict[str, Any], *, now: datetime | None = None) -> bool:
    expiry = tokens.read_expiry(credentials.get("expires_at"))
    return tokens.needs_refresh(expiry, REFRESH_MARGIN, now or utcnow())


def client_id_of(values: dict[str, Any]) -> str:
    client_id = str(values.get("client_id") or "").strip()
    if not client_id:
        raise CredentialsError("The X connection has no OAuth 2.0 client ID.")
    return client_id


def _token_request(
    session: XSession, values: dict[str, Any], form: dict[str, str]
) -> dict[str, Any]:
    client_id = client_id_of(values)
    secret = str(values.get("client_secret") or "")
    # A public client (no secret) names itself in the form; a confidential one signs in.
    auth = (client_id, secret) if secret else None
    url = session.api_base + TOKEN_PATH
    # A renewal holds the channel's lock while it waits for this answer (channels/tokens.py).
    timeout = min(session.timeout, tokens.RENEW_TIMEOUT_SECONDS)
    try:
        response = session.post(
            url, data={**form, "client_id": client_id}, auth=auth, timeout=timeout
        )
    except requests.RequestException as exc:
        raise TransientError(f"X could not be reached to renew the sign-in: {exc}") from exc
    body = _json(response)
    if response.status_code in (400, 401, 403):
        reason = body.get("error_description") or body.get("error") or response.reason
        raise CredentialsError(f"X refused the sign-in: {reason}")
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"X could not renew the sign-in now ({response.status_code}).")
    if response.status_code != 200 or not body.get("access_token"):
        raise ConnectorError(f"X answered the sign-in unexpectedly ({response.status_code}).")
    return _tokens(body)


def _tokens(body: dict[str, Any]) -> dict[str, Any]:
    lifetime = timedelta(seconds=int(body.get("expires_in") or DEFAULT_LIFETIME_SECONDS))
    found: dict[str, Any] = {
        "access_token": str(body["access_token"]),
        "expires_at": tokens.expiry_after(utcnow(), lifetime),
    }
    if body.get("refresh_token"):
        found["refresh_token"] = str(body["refresh_token"])
    return found


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
