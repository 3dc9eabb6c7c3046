"""A fake OpenID Connect issuer for tests, served by uvicorn on 127.0.0.1 in a thread.

Discovery, JWKS, authorize (which approves at once, or refuses when told to), token (checks
the code, the PKCE verifier and the client secret, then signs an ID token carrying the nonce
it was given) and userinfo. Each test bends its answers through the attributes that
`reset()` puts back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "sixfold-test"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class FakeIssuer:
    """An OpenID Connect issuer whose answers each test can bend."""

    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "key-1"}))
    # Per-test behaviour, put back by reset(). Each test gets its own subject, so that
    # nothing one test links can be found by another.
    subject: str = field(default_factory=lambda: "subject-" + secrets.token_hex(8))
    email: str | None = "alice@example.org"
    email_verified: Any = True
    email_in_id_token: bool = True
    deny: bool = False
    sign_with: RSAKey | None = None
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def reset(self) -> None:
        fresh = FakeIssuer(url=self.url, key=self.key)
        self.__dict__.update(fresh.__dict__)

    def app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route("/.well-known/openid-configuration", self.discovery)
        app.add_api_route("/jwks", self.jwks)
        app.add_api_route("/authorize", self.authorize)
        app.add_api_route("/token", self.token, methods=["POST"])
        app.add_api_route("/userinfo", self.userinfo)
        return app

    async def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "use": "sig", "alg": "RS256"}]}

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorize_requests.append(params)
        if self.deny:
            answer = {"error": "access_denied", "state": params["state"]}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = params
            answer = {"code": code, "state": params["state"]}
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(answer)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        asked = self.codes.pop(str(form.get("code")), None)
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(str(form.get("code_verifier")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked["code_challenge"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access_token = "access-" + secrets.token_urlsafe(16)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(nonce=asked["nonce"]),
            }
        )

    async def userinfo(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer access-"):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(self.user_claims())

    def user_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.subject, "name": "Alice Example"}
        if self.email is not None:
            claims.update(email=self.email, email_verified=self.email_verified)
        return claims

    def id_token(self, *, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.user_claims(),
        }
        if not self.email_in_id_token:
            claims.pop("email", None)
            claims.pop("email_verified", None)
        claims.update(self.id_token_overrides)
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@contextmanager
def serving(issuer: FakeIssuer) -> Iterator[FakeIssuer]:
    """Run the issuer on a free port of 127.0.0.1 until the block ends."""
    # Binding here, not in uvicorn, hands over the port without a window for another taker.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    issuer.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        issuer.app(), log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the fake issuer did not start")
            time.sleep(0.01)
        yield issuer
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
