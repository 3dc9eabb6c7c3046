"""The overview page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import text

from sixfold import __version__
from sixfold.org import service as org_service
from sixfold.web.access import DbSession, MaybeSignedIn, SignedIn
from sixfold.web.routing import add_routes
from sixfold.web.templating import render, settings_for

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def overview(request: Request, principal: SignedIn, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    return render(
        request,
        "overview.html",
        organisation=organisation,
        stats=org_service.directory_stats(db, organisation),
        my_roles=principal.grants.roles,
        team_names=org_service.team_names(db, organisation),
    )


@router.get("/settings", response_class=HTMLResponse, include_in_schema=False)
def settings_page(request: Request, principal: SignedIn) -> HTMLResponse:
    """The areas set up once and changed rarely; each checks its own permission."""
    return render(request, "settings.html", areas=settings_for(principal))


@router.get("/favicon.ico", include_in_schema=False)
def favicon(_principal: MaybeSignedIn) -> RedirectResponse:
    # Browsers ask for this path on their own; the icon itself is an SVG under /static.
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/healthz", tags=["meta"])
def healthz(db: DbSession, _principal: MaybeSignedIn) -> dict[str, str]:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


def register(app: FastAPI) -> None:
    add_routes(app, router)
