"""The one permission check every route goes through.

Each route declares exactly one access rule as a dependency: `Require(permission)`,
`Require.signed_in()` or `Require.anyone()`. The rule finds who is asking (session cookie or
API token), checks CSRF on state-changing requests made with a cookie, and checks the
permission. tests/web/test_access.py walks every route, fails when one has no rule, and
checks each rule against every role.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.config import Settings
from sixfold.crypto import derive_key
from sixfold.errors import DomainError, Forbidden

SESSION_COOKIE = "sixfold_session"
CSRF_COOKIE = "sixfold_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(DomainError):
    status_code = 401


class CsrfFailed(DomainError):
    status_code = 403


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def session_signer(settings: Settings) -> URLSafeSerializer:
    key = derive_key(settings.resolved_secret_key, "session-cookie").hex()
    return URLSafeSerializer(key, salt="sixfold-session")


def csrf_token(request: Request) -> str:
    """The token forms must echo; it equals the CSRF cookie (double submit)."""
    token = getattr(request.state, "csrf_token", None)
    if not token:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return str(token)


async def check_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfFailed(
            "The form has expired or came from another site. Reload the page and try again."
        )


def resolve_principal(request: Request, db: Session) -> Principal | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        person = auth_service.resolve_api_token(db, authorization[7:].strip())
        if person is None:
            raise NotSignedIn("The API token is not valid or was revoked.")
        db.commit()
        return Principal(person=person, grants=auth_service.grants_for(db, person), via="token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        session_id = str(session_signer(settings_of(request)).loads(cookie))
    except BadSignature:
        return None
    web_session = auth_service.load_session(db, session_id)
    if web_session is None:
        return None
    db.commit()
    person = web_session.person
    return Principal(
        person=person,
        grants=auth_service.grants_for(db, person),
        via="session",
        session_id=session_id,
    )


class Require:
    """An access rule; an instance is the dependency that enforces it."""

    def __init__(self, permission: Permission | None, *, signed_in: bool = True) -> None:
        self.permission = permission
        self.signed_in = signed_in or permission is not None

    @classmethod
    def signed_in_person(cls) -> Require:
        return cls(None, signed_in=True)

    @classmethod
    def anyone(cls) -> Require:
        return cls(None, signed_in=False)

    def as_dependency(self) -> Any:
        return Depends(self)

    def describe(self) -> str:
        if self.permission is not None:
            return f"permission {self.permission.value}"
        return "signed in" if self.signed_in else "anyone"

    async def __call__(self, request: Request, db: DbSession) -> Principal | None:
        principal = resolve_principal(request, db)
        request.state.principal = principal
        if request.method not in SAFE_METHODS and (principal is None or principal.via == "session"):
            await check_csrf(request)
        if not self.signed_in:
            return principal
        if principal is None:
            raise NotSignedIn("Please sign in.")
        if self.permission is not None and not principal.grants.has_anywhere(self.permission):
            raise Forbidden("Your roles do not allow this. Ask an administrator if you need it.")
        return principal


SignedIn = Annotated[Principal, Depends(Require.signed_in_person())]
MaybeSignedIn = Annotated[Principal | None, Depends(Require.anyone())]
