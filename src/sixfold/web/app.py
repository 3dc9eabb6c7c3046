"""The application factory: settings in, a FastAPI app out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from sixfold import __version__
from sixfold.config import Settings
from sixfold.db import make_engine, make_sessionmaker
from sixfold.errors import DomainError
from sixfold.web.access import CSRF_COOKIE, NotSignedIn, csrf_token, resolve_principal
from sixfold.web.templating import make_templates, render

STATIC_DIR = Path(__file__).parent / "static"

# No inline scripts or styles anywhere: every script is a file under /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(
    settings: Settings, *, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    app = FastAPI(
        title="Sixfold",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory or make_sessionmaker(
        make_engine(settings.resolved_database_url)
    )
    app.state.templates = make_templates()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_middleware(app, settings)
    _install_error_handlers(app)
    _register_capabilities(app)
    return app


def _register_capabilities(app: FastAPI) -> None:
    from sixfold.auth import api as auth_api
    from sixfold.auth import oidc as auth_oidc
    from sixfold.auth import views as auth_views
    from sixfold.guardrails import views as guardrail_views
    from sixfold.notifications import views as notification_views
    from sixfold.org import api as org_api
    from sixfold.org import import_views
    from sixfold.org import views as org_views
    from sixfold.publishing import api as publishing_api
    from sixfold.web import audit_views, home

    for module in (home, auth_views, auth_api, org_views, org_api, import_views, audit_views):
        module.register(app)
    auth_oidc.register(app)
    publishing_api.register(app)
    notification_views.register(app)
    _register_publishing_pages(app)
    guardrail_views.register(app)
    _register_network_pages(app)


def _register_network_pages(app: FastAPI) -> None:
    from sixfold.network import api as network_api
    from sixfold.network import views as network_views

    network_views.register(app)
    network_api.register(app)


def _register_publishing_pages(app: FastAPI) -> None:
    from sixfold.channels import views as channel_views
    from sixfold.publishing import views as publishing_views
    from sixfold.publishing import views_calendar, views_pause, views_settings

    # The composer, post pages, review queue, stream and the composer's JSON routes.
    publishing_views.register(app)

    for module in (views_calendar, views_pause, views_settings, channel_views):
        module.register(app)


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/api/", "/login", "/profile")):
            response.headers.setdefault("Cache-Control", "no-store")
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(
                CSRF_COOKIE,
                csrf_token(request),
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        return response


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": str(error)}, status_code=error.status_code)
        if isinstance(error, NotSignedIn):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return render(
            request,
            "error.html",
            status_code=error.status_code,
            message=str(error),
            status=error.status_code,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
            )
        message = (
            "There is no page at this address." if error.status_code == 404 else str(error.detail)
        )
        if not hasattr(request.state, "principal"):
            # No route ran (an unknown address, a method the address does not take): the page
            # still shows who is signed in and their navigation, as every other page does.
            with request.app.state.session_factory() as db:
                try:
                    request.state.principal = resolve_principal(request, db)
                except NotSignedIn:  # a token that is not valid: shown as signed out
                    request.state.principal = None
        return render(
            request,
            "error.html",
            status_code=error.status_code,
            message=message,
            status=error.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        if any(item.get("loc", ())[:1] == ("path",) for item in error.errors()):
            # The address names an object by id; a value that cannot be one (not a number,
            # or out of range: sixfold.inputs.Id) names nothing, as a missing object does.
            return await http_error(request, StarletteHTTPException(404))
        problems = [
            {"field": ".".join(str(p) for p in item.get("loc", ())[1:]), "problem": item.get("msg")}
            for item in error.errors()
        ]
        if _wants_json(request):
            return JSONResponse(
                {"error": "The request is not valid.", "problems": problems}, status_code=422
            )
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return render(
            request,
            "error.html",
            status_code=422,
            status=422,
            message=f"The form is not valid: {message}",
        )
