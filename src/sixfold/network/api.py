"""JSON API of the network area: queue an analysis, follow it, fetch its report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from pydantic import BaseModel

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.inputs import Id
from sixfold.jobs.runner import error_summary
from sixfold.network import service
from sixfold.network.pipeline import AnalysisSettings
from sixfold.network.store import NetworkAnalysis
from sixfold.network.views import OptionalFile, SettingsForm, read_uploads
from sixfold.org import service as org_service
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes

router = APIRouter(tags=["network"])
CanViewNetwork = Annotated[Principal, Require(Permission.VIEW_NETWORK).as_dependency()]
CanViewPeople = Annotated[Principal, Require(Permission.VIEW_NETWORK_PEOPLE).as_dependency()]


class AnalysisOut(BaseModel):
    id: int
    title: str
    state: str
    finished: bool
    done: int
    total: int | None
    settings: dict[str, Any]
    interactions: int
    problems: int
    rejection: str | None
    last_error: str | None


def _out(analysis: NetworkAnalysis) -> AnalysisOut:
    return AnalysisOut(
        id=analysis.id,
        title=analysis.title,
        state=analysis.state,
        finished=analysis.is_finished,
        done=analysis.progress_done,
        total=analysis.progress_total,
        settings=analysis.settings,
        interactions=analysis.interaction_count,
        problems=analysis.problem_count,
        rejection=analysis.rejection,
        last_error=error_summary(analysis.last_error),
    )


@router.post("/api/v1/network/analyses", response_model=AnalysisOut, status_code=202)
async def queue_api(
    request: Request,
    principal: CanViewPeople,
    db: DbSession,
    settings: SettingsForm,
    interactions: OptionalFile = None,
    slack: OptionalFile = None,
    mattermost: OptionalFile = None,
    mbox: OptionalFile = None,
    title: Annotated[str, Form(max_length=300)] = "",
) -> AnalysisOut:
    """Upload sources and queue an analysis; poll the returned analysis until `finished`."""
    files = {"interactions": interactions, "slack": slack, "mattermost": mattermost, "mbox": mbox}
    analysis = service.queue_analysis(
        db,
        org_service.current_organisation(db),
        uploads=await read_uploads(files),
        settings=AnalysisSettings.from_json(settings),
        title=title,
        actor=principal.actor(client_ip(request)),
        grants=principal.grants,
    )
    db.commit()
    return _out(analysis)


@router.get("/api/v1/network/analyses/{analysis_id}", response_model=AnalysisOut)
def analysis_api(analysis_id: Id, principal: CanViewNetwork, db: DbSession) -> AnalysisOut:
    """State and progress of an analysis (no figures: those are in the report)."""
    organisation = org_service.current_organisation(db)
    return _out(service.get_analysis(db, organisation, analysis_id))


@router.get("/api/v1/network/analyses/{analysis_id}/report")
def report_api(
    request: Request, analysis_id: Id, principal: CanViewPeople, db: DbSession
) -> dict[str, Any]:
    """The analysis' report.json, as `sixfold network analyze` writes it, except that groups
    under the minimum group size are not named beside figures. Audited."""
    analysis = service.get_analysis(db, org_service.current_organisation(db), analysis_id)
    report = service.export_report(
        db, analysis, actor=principal.actor(client_ip(request)), grants=principal.grants
    )
    db.commit()
    return report


def register(app: FastAPI) -> None:
    add_routes(app, router)
