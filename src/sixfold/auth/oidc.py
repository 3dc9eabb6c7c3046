"""Single sign-on with OpenID Connect: /auth/oidc/login and /auth/oidc/callback.

The authorization code flow with PKCE, state and nonce. Between the two requests the state,
nonce, PKCE verifier and the page to return to live in a short-lived signed cookie scoped to
/auth/oidc, so no server-side storage and no app-wide session middleware are needed.
The routes exist always and answer 404 while single sign-on is not configured.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from sixfold.auth.oidc_client import OidcClient, OidcError, VerifiedIdentity
from sixfold.auth.oidc_service import OidcRefused, person_for_identity, record_failure
from sixfold.auth.views import safe_next, sign_in_response
from sixfold.config import Settings
from sixfold.crypto import derive_key
from sixfold.errors import NotFound
from sixfold.web.access import DbSession, MaybeSignedIn, client_ip, settings_of
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

FLOW_COOKIE = "sixfold_oidc"
FLOW_PATH = "/auth/oidc"
FLOW_SECONDS = 600
CALLBACK_PATH = f"{FLOW_PATH}/callback"

NOT_CONFIGURED = (
    "Single sign-on is not set up on this server. Sign in with your e-mail and password instead."
)
CANCELLED = (
    "Sign-in was cancelled or refused by your sign-in provider. You can try again, or sign in "
    "with your password."
)
PROVIDER_FAILED = (
    "Your sign-in provider could not sign you in. Please try again; if it keeps happening, "
    "tell your administrator."
)
FLOW_MISSING = (
    "This sign-in could not be matched to one started in this browser: it may have been opened "
    "in another browser, or cookies are blocked. Please start again."
)
FLOW_EXPIRED = "The sign-in took more than ten minutes and has expired. Please start again."
FLOW_INVALID = "The sign-in could not be verified and was stopped. Please start again."

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Flow:
    """What the login request hands to the callback, through the signed cookie."""

    state: str
    nonce: str
    code_verifier: str
    target: str


class FlowRejected(OidcError):
    """The callback does not belong to a sign-in this browser started (or it is stale)."""


@router.get(f"{FLOW_PATH}/login")
def oidc_login(request: Request, principal: MaybeSignedIn, next: str = "/") -> Response:
    client = _client_of(request)
    target = safe_next(next)
    if principal is not None:
        return RedirectResponse(target, status_code=303)
    try:
        started = client.begin()
    except OidcError as error:
        return _login_page(request, error.message, target=target, status_code=503)
    flow = Flow(started.state, started.nonce, started.code_verifier, target)
    response = RedirectResponse(started.url, status_code=302)
    settings = settings_of(request)
    response.set_cookie(
        FLOW_COOKIE,
        _flow_signer(settings).dumps(asdict(flow)),
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        httponly=True,
        # Lax, not Strict: the callback is a cross-site top-level navigation from the issuer.
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(CALLBACK_PATH)
def oidc_callback(
    request: Request,
    db: DbSession,
    _principal: MaybeSignedIn,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    client = _client_of(request)
    flow: Flow | None = None
    identity: VerifiedIdentity | None = None
    try:
        flow = _flow_from(request, state=state, error=error)
        identity = client.complete(code=code, nonce=flow.nonce, code_verifier=flow.code_verifier)
        person = person_for_identity(db, identity, ip_address=client_ip(request))
    except (OidcError, OidcRefused) as failure:
        db.rollback()
        record_failure(db, reason=failure.reason, ip_address=client_ip(request), identity=identity)
        db.commit()
        # A link with someone else's state must not end the sign-in this browser has under way.
        keep = isinstance(failure, FlowRejected) and failure.reason == "state_mismatch"
        return _login_page(
            request, str(failure), target=flow.target if flow else "/", keep_flow=keep
        )
    response = sign_in_response(request, db, person, target=flow.target, method="oidc")
    _forget_flow(response)
    return response


def _client_of(request: Request) -> OidcClient:
    client: OidcClient | None = getattr(request.app.state, "oidc_client", None)
    if client is None:
        raise NotFound(NOT_CONFIGURED)
    return client


def _flow_signer(settings: Settings) -> URLSafeTimedSerializer:
    key = derive_key(settings.resolved_secret_key, "oidc-flow").hex()
    return URLSafeTimedSerializer(key, salt="sixfold-oidc-flow")


def _flow_from(request: Request, *, state: str, error: str) -> Flow:
    """The flow this callback continues, once its cookie, the state and any error are checked.

    The state is checked before the issuer's error is believed, so that a forged error link
    is treated like any other link with a wrong state.
    """
    cookie = request.cookies.get(FLOW_COOKIE)
    if not cookie:
        raise FlowRejected("flow_missing", FLOW_MISSING)
    try:
        data = _flow_signer(settings_of(request)).loads(cookie, max_age=FLOW_SECONDS)
        flow = Flow(**data)
    except SignatureExpired as expired:
        raise FlowRejected("flow_expired", FLOW_EXPIRED) from expired
    except (BadSignature, TypeError) as bad:
        raise FlowRejected("flow_tampered", FLOW_INVALID) from bad
    if not state or not hmac.compare_digest(flow.state, state):
        raise FlowRejected("state_mismatch", FLOW_INVALID)
    if error:
        reason = f"provider:{error[:100]}"
        raise OidcError(reason, CANCELLED if error == "access_denied" else PROVIDER_FAILED)
    return flow


def _login_page(
    request: Request, message: str, *, target: str, status_code: int = 401, keep_flow: bool = False
) -> Response:
    response = render(
        request,
        "login.html",
        status_code=status_code,
        next=target,
        error=message,
        email="",
        oidc=settings_of(request).oidc_enabled,
    )
    if not keep_flow:
        _forget_flow(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _forget_flow(response: Response) -> None:
    # One flow, one callback: a replayed callback URL then finds no cookie.
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    response.headers["Cache-Control"] = "no-store"


def register(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if settings.oidc_enabled and settings.oidc_issuer and settings.oidc_client_id:
        app.state.oidc_client = OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_uri=settings.base_url.rstrip("/") + CALLBACK_PATH,
        )
    else:
        app.state.oidc_client = None
    add_routes(app, router)
