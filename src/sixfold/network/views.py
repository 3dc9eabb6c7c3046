"""Pages of the network area: overview, analyses (upload, progress), people, a person."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import DomainError, NotFound
from sixfold.inputs import Id
from sixfold.network import presenting, service
from sixfold.network.pipeline import MAX_UPLOAD_BYTES, SOURCE_KINDS, AnalysisSettings
from sixfold.network.store import NetworkAnalysis
from sixfold.org import service as org_service
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanViewNetwork = Annotated[Principal, Require(Permission.VIEW_NETWORK).as_dependency()]
CanViewPeople = Annotated[Principal, Require(Permission.VIEW_NETWORK_PEOPLE).as_dependency()]
Anyone = Annotated[Principal | None, Require.anyone().as_dependency()]
SORT_KEYS = "|".join(service.SORTABLE)


@cache
def plotly_bundle() -> tuple[Path, str]:
    """The plotly.min.js that the plotly wheel ships, and the wheel's version."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path, importlib.metadata.version("plotly")


# plotly.js injects a <style> element for map traces when it loads, unless an element with
# the id it checks for is already in the page; the CSP would refuse the <style>, so the pages
# that load plotly carry an empty element with each such id (found in the bundle itself, so a
# newer plotly keeps working).
_STYLE_GUARD = re.compile(
    r'getElementById\("([0-9a-f]{16,128})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@cache
def plotly_assets() -> dict[str, Any]:
    """What a page needs to load plotly under the CSP: the script's URL and the guard ids."""
    path, version = plotly_bundle()
    guards = sorted(set(_STYLE_GUARD.findall(path.read_text(encoding="utf-8"))))
    return {"url": f"/vendor/plotly.min.js?v={version}", "style_guards": guards}


@router.get("/vendor/plotly.min.js")
def plotly_script(_principal: Anyone) -> FileResponse:
    # Served from our own origin: the CSP allows scripts from 'self' only, and no page of
    # Sixfold depends on a CDN. The URL carries the version, so browsers may keep it.
    path, _version = plotly_bundle()
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=604800, immutable"},
    )


def settings_form(
    min_interactions: Annotated[float, Form(gt=0, le=10_000)] = 2.0,
    min_group_size: Annotated[int, Form(ge=3, le=10_000)] = 5,
    broadcast_recipients: Annotated[int, Form(ge=1, le=100_000)] = 25,
    window_days: Annotated[int, Form(ge=1, le=366)] = 28,
    step_days: Annotated[int, Form(ge=1, le=366)] = 28,
    since: Annotated[str, Form(max_length=40)] = "",
    until: Annotated[str, Form(max_length=40)] = "",
    group_by: Annotated[str, Form(max_length=20)] = "department",
) -> dict[str, Any]:
    """The analysis settings as the form sends them; AnalysisSettings checks them."""
    return {
        "min_interactions": min_interactions,
        "min_group_size": min_group_size,
        "broadcast_recipients": broadcast_recipients,
        "window_days": window_days,
        "step_days": step_days,
        "since": since.strip() or None,
        "until": until.strip() or None,
        "group_by": group_by,
    }


SettingsForm = Annotated[dict[str, Any], Depends(settings_form)]
OptionalFile = Annotated[UploadFile | None, File()]


async def read_uploads(files: dict[str, UploadFile | None]) -> list[service.Upload]:
    # One byte past the limit is enough for the service to refuse an oversized upload
    # without the whole of it being read into memory.
    uploads = []
    for kind, upload in files.items():
        if upload is not None and upload.filename:
            content = await upload.read(MAX_UPLOAD_BYTES + 1)
            uploads.append(service.Upload(kind, upload.filename, content))
    return uploads


def _analyses_page(
    request: Request, db: Session, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    return render(
        request,
        "network/analyses.html",
        status_code=status_code,
        analyses=service.recent_analyses(db, organisation),
        kinds=SOURCE_KINDS,
        defaults=AnalysisSettings(),
        error=error,
        max_mib=MAX_UPLOAD_BYTES // 2**20,
    )


@router.get("/network", response_class=HTMLResponse)
def network_home(request: Request, principal: CanViewNetwork, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    analysis = service.latest_analysis(db, organisation)
    return _analysis_page(request, principal, db, analysis)


@router.get("/network/analyses/{analysis_id}", response_class=HTMLResponse)
def analysis_page(
    request: Request, analysis_id: Id, principal: CanViewNetwork, db: DbSession
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    analysis = service.get_analysis(db, organisation, analysis_id)
    return _analysis_page(request, principal, db, analysis)


def _analysis_page(
    request: Request, principal: Principal, db: Session, analysis: NetworkAnalysis | None
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    finished = [a for a in service.recent_analyses(db, organisation) if a.state == "succeeded"]
    return render(
        request,
        "network/overview.html",
        analysis=analysis,
        view=service.overview(analysis) if analysis and analysis.report else None,
        finished=finished,
        can_see_people=principal.grants.has_anywhere(Permission.VIEW_NETWORK_PEOPLE),
        plotly=plotly_assets(),
    )


@router.get("/network/analyses", response_class=HTMLResponse)
def analyses_page(request: Request, principal: CanViewPeople, db: DbSession) -> HTMLResponse:
    return _analyses_page(request, db)


@router.post("/network/analyses")
async def upload_page(
    request: Request,
    principal: CanViewPeople,
    db: DbSession,
    settings: SettingsForm,
    interactions: OptionalFile = None,
    slack: OptionalFile = None,
    mattermost: OptionalFile = None,
    mbox: OptionalFile = None,
    title: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    files = {"interactions": interactions, "slack": slack, "mattermost": mattermost, "mbox": mbox}
    try:
        analysis = service.queue_analysis(
            db,
            org_service.current_organisation(db),
            uploads=await read_uploads(files),
            settings=AnalysisSettings.from_json(settings),
            title=title,
            actor=principal.actor(client_ip(request)),
            grants=principal.grants,
        )
    except DomainError as error:
        db.rollback()
        return _analyses_page(request, db, error=str(error), status_code=error.status_code)
    db.commit()
    return RedirectResponse(f"/network/analyses/{analysis.id}", status_code=303)


@router.post("/network/analyses/{analysis_id}/rerun")
def rerun_page(
    request: Request,
    analysis_id: Id,
    principal: CanViewPeople,
    db: DbSession,
    settings: SettingsForm,
    title: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    analysis = service.rerun_analysis(
        db,
        org_service.current_organisation(db),
        analysis_id,
        settings=AnalysisSettings.from_json(settings),
        title=title,
        actor=principal.actor(client_ip(request)),
        grants=principal.grants,
    )
    db.commit()
    return RedirectResponse(f"/network/analyses/{analysis.id}", status_code=303)


@router.get("/network/analyses/{analysis_id}/people", response_class=HTMLResponse)
def people_page(
    request: Request,
    analysis_id: Id,
    principal: CanViewPeople,
    db: DbSession,
    sort: Annotated[str, Query(pattern=f"^({SORT_KEYS})$")] = "betweenness",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    analysis = _finished(db, analysis_id)
    result = service.people_page(
        db,
        analysis,
        actor=principal.actor(client_ip(request)),
        grants=principal.grants,
        sort=sort,
        descending=order == "desc",
        page=page,
    )
    db.commit()
    return render(
        request,
        "network/people.html",
        analysis=analysis,
        result=result,
        sort=sort,
        order=order,
        role_labels=presenting.ROLE_LABELS,
    )


@router.get("/network/analyses/{analysis_id}/people/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request, analysis_id: Id, person_id: Id, principal: CanViewPeople, db: DbSession
) -> HTMLResponse:
    analysis = _finished(db, analysis_id)
    view = service.person_view(
        db, analysis, person_id, actor=principal.actor(client_ip(request)), grants=principal.grants
    )
    db.commit()
    return render(
        request,
        "network/person.html",
        analysis=analysis,
        plotly=plotly_assets(),
        rules=presenting.ROLE_RULES,
        **view,
    )


def _finished(db: Session, analysis_id: int) -> NetworkAnalysis:
    analysis = service.get_analysis(db, org_service.current_organisation(db), analysis_id)
    if analysis.report is None:
        raise NotFound("This analysis has no report yet.")
    return analysis


def register(app: FastAPI) -> None:
    add_routes(app, router)
