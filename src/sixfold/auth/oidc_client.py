"""The OpenID Connect relying party: discovery, the authorization request, the code exchange
and ID-token validation. No database and no web framework here.

Authlib supplies the protocol pieces (authorization URL, PKCE challenge, token request and
client authentication, ID-token claim rules) and joserfc, which Authlib itself builds on,
checks signatures against the issuer's JWKS. Authlib's ready-made httpx and Starlette clients
are not used: in Authlib 1.9 importing them raises a deprecation warning when the `httpx2`
package is absent, and the Starlette one needs a session middleware for the whole app.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
# Only public-key signatures: "none" and HMAC (keyed with the client secret) are refused.
SIGNING_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
METADATA_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0

NOT_VERIFIED = (
    "The answer from your sign-in provider could not be verified, so you were not signed in. "
    "Please try again; if it keeps happening, tell your administrator."
)
UNREACHABLE = (
    "Your sign-in provider could not be reached or answered in an unexpected way. "
    "Please try again in a moment, or sign in with your password."
)


class OidcError(Exception):
    """A sign-in that cannot go on: `reason` goes to the audit log, the message to the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the issuer's discovery document that the code flow needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the secrets to keep until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the issuer says signed in, after every check has passed."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class OidcClient:
    """One configured issuer. Discovery and keys are cached per instance (one per app)."""

    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str | None, redirect_uri: str
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None

    def begin(self) -> AuthorizationRequest:
        metadata = self.metadata()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        url = prepare_grant_uri(
            metadata.authorization_endpoint,
            self.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=SCOPE,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=str(url), state=state, nonce=nonce, code_verifier=verifier)

    def complete(self, *, code: str, nonce: str, code_verifier: str) -> VerifiedIdentity:
        """Exchange the code, verify the ID token, and fill in e-mail from userinfo if needed."""
        metadata = self.metadata()
        tokens = self._exchange_code(metadata, code, code_verifier)
        access_token = tokens.get("access_token")
        claims = self._verify_id_token(
            metadata,
            str(tokens["id_token"]),
            nonce=nonce,
            access_token=access_token if isinstance(access_token, str) else None,
        )
        if "email" not in claims and metadata.userinfo_endpoint and isinstance(access_token, str):
            claims = {**self._userinfo(metadata.userinfo_endpoint, access_token, claims), **claims}
        email = claims.get("email")
        name = claims.get("name")
        return VerifiedIdentity(
            issuer=metadata.issuer,
            subject=str(claims["sub"]),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=_is_true(claims.get("email_verified")),
            name=name if isinstance(name, str) else None,
        )

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            cached = self._metadata
        if cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = _parse_metadata(_get_json(url), expected_issuer=self.issuer)
        with self._lock:
            self._metadata = (time.monotonic(), metadata)
        return metadata

    def _exchange_code(
        self, metadata: ProviderMetadata, code: str, code_verifier: str
    ) -> dict[str, Any]:
        if not code:
            raise OidcError("missing_code", NOT_VERIFIED)
        body = prepare_token_request(
            "authorization_code",
            redirect_uri=self.redirect_uri,
            code=code,
            code_verifier=code_verifier,
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        auth = ClientAuth(self.client_id, self.client_secret, self._auth_method(metadata))
        url, headers, body = auth.prepare("POST", metadata.token_endpoint, headers, body)
        tokens = _send_json("POST", str(url), headers=headers, content=str(body))
        if not isinstance(tokens.get("id_token"), str):
            log.warning("OpenID Connect token endpoint refused the code: %s", tokens.get("error"))
            raise OidcError(f"token_refused:{tokens.get('error', 'no_id_token')}", NOT_VERIFIED)
        return tokens

    def _auth_method(self, metadata: ProviderMetadata) -> str:
        if not self.client_secret:
            return "none"  # a public client: PKCE alone binds the code to this browser
        if "client_secret_basic" in metadata.token_auth_methods:
            return "client_secret_basic"
        if "client_secret_post" in metadata.token_auth_methods:
            return "client_secret_post"
        return "client_secret_basic"

    def _verify_id_token(
        self, metadata: ProviderMetadata, id_token: str, *, nonce: str, access_token: str | None
    ) -> dict[str, Any]:
        algorithms = [a for a in metadata.algorithms if a in SIGNING_ALGORITHMS] or ["RS256"]
        try:
            token = self._decode(metadata, id_token, algorithms)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": metadata.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                },
                {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
            )
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except ExpiredTokenError as error:
            raise OidcError("id_token_expired", NOT_VERIFIED) from error
        except ClaimError as error:
            raise OidcError(f"id_token_claim:{error.claim}", NOT_VERIFIED) from error
        except JoseError as error:
            raise OidcError(f"id_token_signature:{error.error}", NOT_VERIFIED) from error
        return dict(claims)

    def _decode(
        self, metadata: ProviderMetadata, id_token: str, algorithms: list[str]
    ) -> jwt.Token:
        try:
            return jwt.decode(id_token, self._key_set(metadata), algorithms=algorithms)
        except InvalidKeyIdError:
            # The issuer may have rotated its keys since they were cached: fetch them once more.
            return jwt.decode(
                id_token, self._key_set(metadata, refresh=True), algorithms=algorithms
            )

    def _key_set(self, metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
        with self._lock:
            keys = self._keys
        if keys is not None and not refresh:
            return keys
        document = _get_json(metadata.jwks_uri)
        signing = [
            k
            for k in document.get("keys", [])
            if isinstance(k, dict) and k.get("use") in (None, "sig")
        ]
        try:
            keys = KeySet.import_key_set({"keys": signing})
        except (JoseError, ValueError, TypeError) as error:
            raise OidcError("jwks_invalid", UNREACHABLE) from error
        with self._lock:
            self._keys = keys
        return keys

    def _userinfo(
        self, endpoint: str, access_token: str, claims: Mapping[str, Any]
    ) -> dict[str, Any]:
        info = _send_json(
            "GET",
            endpoint,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            require_ok=True,
        )
        # OpenID Connect Core 5.3.2: a userinfo answer about someone else must be ignored.
        if info.get("sub") != claims.get("sub"):
            raise OidcError("userinfo_subject_mismatch", NOT_VERIFIED)
        return info


def _is_true(value: object) -> bool:
    # Some providers send the boolean as the string "true"; nothing else counts as verified.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _parse_metadata(document: dict[str, Any], *, expected_issuer: str) -> ProviderMetadata:
    issuer = document.get("issuer")
    # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
    if not isinstance(issuer, str) or issuer.rstrip("/") != expected_issuer.rstrip("/"):
        log.error("OpenID Connect discovery names issuer %r, expected %r", issuer, expected_issuer)
        raise OidcError("discovery_issuer_mismatch", UNREACHABLE)
    required = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(document.get(name), str) for name in required):
        raise OidcError("discovery_incomplete", UNREACHABLE)
    userinfo = document.get("userinfo_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
        algorithms=_strings(document.get("id_token_signing_alg_values_supported")),
        token_auth_methods=_strings(document.get("token_endpoint_auth_methods_supported")),
    )


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _get_json(url: str) -> dict[str, Any]:
    return _send_json("GET", url, headers={"Accept": "application/json"}, require_ok=True)


def _send_json(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    content: str | None = None,
    require_ok: bool = False,
) -> dict[str, Any]:
    """One request to the issuer; any failure becomes an OidcError, never a stack trace."""
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as http:
            response = http.request(method, url, headers=headers, content=content)
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OpenID Connect request to %s failed: %s", url, error)
        raise OidcError("provider_unreachable", UNREACHABLE) from error
    if not isinstance(document, dict) or (require_ok and response.status_code != 200):
        log.warning("OpenID Connect request to %s answered %s", url, response.status_code)
        raise OidcError(f"provider_http_{response.status_code}", UNREACHABLE)
    return cast(dict[str, Any], document)
