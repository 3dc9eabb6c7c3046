"""The crisis pause pages: pause and resume publishing, then handle what became overdue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import service as channels
from sixfold.channels.models import Channel
from sixfold.db import utcnow
from sixfold.errors import Conflict, DomainError, NotFound, ValidationFailed
from sixfold.inputs import Id, parse_id
from sixfold.org import service as org_service
from sixfold.org.clock import format_moment, organisation_zone
from sixfold.org.models import Organisation
from sixfold.publishing import editing, pause, schedule
from sixfold.publishing.publisher import Publication
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanPause = Annotated[Principal, Require(Permission.PAUSE_PUBLISHING).as_dependency()]
OVERDUE = "/publishing/overdue"
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


@dataclass(frozen=True)
class PauseView:
    id: int
    channel_id: int | None
    scope: str
    reason: str
    by: str
    since: datetime


@dataclass(frozen=True)
class HeldView:
    row: Publication
    channel_name: str
    overdue_by: str
    still_paused: bool


def pause_notices(db: Session, organisation_id: int, zone: ZoneInfo) -> list[dict[str, str]]:
    """What the banner on every page says about each pause in force (one query when none),
    its times in the organisation's `zone`."""
    pauses = pause.active_pauses(db, organisation_id)
    if not pauses:
        return []
    notices = []
    for p in pauses:
        channel = db.get(Channel, p.channel_id) if p.channel_id else None
        notices.append(
            {
                "scope": f" on {channel.name}" if channel else "",
                "reason": p.reason,
                "since": format_moment(p.started_at, zone),
                "since_utc": f"{p.started_at:%d %b %Y %H:%M} UTC",
                "by": p.started_by.name if p.started_by else "the command line",
            }
        )
    return notices


def _pauses(db: Session, organisation: Organisation) -> list[PauseView]:
    names = {c.id: c.name for c in channels.list_channels(db, organisation, include_disabled=True)}
    return [
        PauseView(
            id=p.id,
            channel_id=p.channel_id,
            scope=names.get(p.channel_id, "?") if p.channel_id else "Organisation-wide",
            reason=p.reason,
            by=p.started_by.name if p.started_by else "the command line",
            since=p.started_at,
        )
        for p in pause.active_pauses(db, organisation.id)
    ]


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


def _held(db: Session, organisation: Organisation) -> list[HeldView]:
    now = utcnow()
    return [
        HeldView(
            row=row,
            channel_name=row.channel.name,
            overdue_by=_duration(now - row.due_at),
            still_paused=pause.active_pause(db, organisation.id, row.channel_id) is not None,
        )
        for row in pause.held_publications(db, organisation.id)
    ]


def _pause_page(
    request: Request, db: Session, *, status_code: int = 200, **form: Any
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    return render(
        request,
        "publishing/pause.html",
        status_code=status_code,
        pauses=_pauses(db, organisation),
        channels=channels.list_channels(db, organisation),
        held_count=len(pause.held_publications(db, organisation.id)),
        error=form.get("error"),
        reason=form.get("reason", ""),
        channel=form.get("channel"),
        max_reason=pause.REASON_MAX_CHARS,
    )


def _channel_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    number = parse_id(raw)
    if number is None:
        raise ValidationFailed("Choose the whole organisation or one of the channels.")
    return number


@router.get("/publishing/pause", response_class=HTMLResponse)
def pause_page(request: Request, principal: CanPause, db: DbSession) -> HTMLResponse:
    return _pause_page(request, db)


@router.post("/publishing/pause")
def start_pause(
    request: Request,
    principal: CanPause,
    db: DbSession,
    reason: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    try:
        pause.pause(
            db,
            organisation,
            reason=reason,
            channel_id=_channel_id(channel),
            actor=principal.actor(client_ip(request)),
        )
    except DomainError as error:
        db.rollback()
        return _pause_page(
            request,
            db,
            status_code=error.status_code,
            error=str(error),
            reason=reason,
            channel=channel,
        )
    db.commit()
    return RedirectResponse("/publishing/pause", status_code=303)


@router.post("/publishing/resume")
def end_pause(
    request: Request,
    principal: CanPause,
    db: DbSession,
    channel: Annotated[str, Form()] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    try:
        pause.resume(
            db,
            organisation,
            channel_id=_channel_id(channel),
            actor=principal.actor(client_ip(request)),
        )
    except DomainError as error:
        db.rollback()
        return _pause_page(request, db, status_code=error.status_code, error=str(error))
    db.commit()
    return RedirectResponse(f"{OVERDUE}?done=resumed", status_code=303)


# What became overdue ----------------------------------------------------------------------

NOTICES = {
    "resumed": "Publishing has resumed. Decide below what happens to each held post.",
    "publish_now": "The post goes out within seconds.",
    "reschedule": "The post is rescheduled.",
    "cancel": "The post will not be published on that channel.",
    "publish_all": "Every held post goes out within seconds.",
    "cancel_all": "Every held post was cancelled.",
}


def _overdue_page(
    request: Request,
    db: Session,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed_times: dict[int, str] | None = None,
) -> HTMLResponse:
    """The held posts; `typed_times` are new times typed for some of them (by publication id),
    shown again in their rows when the change was refused."""
    organisation = org_service.current_organisation(db)
    zone = organisation_zone(organisation)
    now_local = datetime.now(zone)
    return render(
        request,
        "publishing/resume.html",
        status_code=status_code,
        held=_held(db, organisation),
        paused=bool(pause.active_pauses(db, organisation.id)),
        zone_name=zone.key,
        min_local=now_local.strftime(LOCAL_INPUT),
        suggested_local=(now_local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00"),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=error,
        typed_times=typed_times or {},
    )


@router.get(OVERDUE, response_class=HTMLResponse)
def overdue_page(request: Request, principal: CanPause, db: DbSession) -> HTMLResponse:
    return _overdue_page(request, db)


def _publication(db: Session, organisation: Organisation, publication_id: int) -> Publication:
    row = db.get(Publication, publication_id)
    if row is None or row.organisation_id != organisation.id:
        raise NotFound("No such publication.")
    return row


def parse_local(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local value typed in the organisation's zone, as an aware UTC datetime."""
    if not value.strip():
        raise ValidationFailed("Choose the new date and time.")
    moment = editing.parse_when(value, zone)
    assert moment is not None  # only an empty value reads as none
    return moment


def _publish_now(db: Session, row: Publication, actor: audit.Actor) -> None:
    active = pause.active_pause(db, row.organisation_id, row.channel_id)
    if active is not None:
        # It would only be held again: say so instead of pretending it goes out.
        raise Conflict(f"Publishing is still paused ({active.reason}); resume it first.")
    schedule.publish_now(db, row, actor=actor)


def _safe_next(target: str) -> str:
    # Only a path on this site: an open redirect would lend our address to phishing.
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return OVERDUE


def _act(
    request: Request,
    db: Session,
    action: str,
    next_url: str,
    work: Callable[[], None],
    *,
    typed_times: dict[int, str] | None = None,
) -> Response:
    """Run one change to a publication; answer with the page and its problem on failure."""
    try:
        work()
    except DomainError as error:
        db.rollback()
        return _overdue_page(
            request,
            db,
            status_code=error.status_code,
            error=str(error),
            typed_times=typed_times,
        )
    db.commit()
    target = _safe_next(next_url)
    if target == OVERDUE:
        target = f"{OVERDUE}?done={action}"
    return RedirectResponse(target, status_code=303)


@router.post("/publications/{publication_id}/publish-now")
def publish_now(
    request: Request,
    publication_id: Id,
    principal: CanPause,
    db: DbSession,
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))

    def work() -> None:
        row = _publication(db, organisation, publication_id)
        _publish_now(db, row, actor)

    return _act(request, db, "publish_now", next_url, work)


@router.post("/publications/{publication_id}/reschedule")
def reschedule(
    request: Request,
    publication_id: Id,
    principal: CanPause,
    db: DbSession,
    when: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))

    def work() -> None:
        row = _publication(db, organisation, publication_id)
        moment = parse_local(when, organisation_zone(organisation))
        schedule.reschedule(db, row, moment, actor=actor)

    return _act(request, db, "reschedule", next_url, work, typed_times={publication_id: when})


@router.post("/publications/{publication_id}/cancel")
def cancel(
    request: Request,
    publication_id: Id,
    principal: CanPause,
    db: DbSession,
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))

    def work() -> None:
        row = _publication(db, organisation, publication_id)
        schedule.cancel_publication(db, row, actor=actor)

    return _act(request, db, "cancel", next_url, work)


@router.post(f"{OVERDUE}/publish-all")
def publish_all(request: Request, principal: CanPause, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))

    def work() -> None:
        for row in pause.held_publications(db, organisation.id):
            _publish_now(db, row, actor)

    return _act(request, db, "publish_all", "", work)


@router.post(f"{OVERDUE}/cancel-all")
def cancel_all(request: Request, principal: CanPause, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))

    def work() -> None:
        for row in pause.held_publications(db, organisation.id):
            schedule.cancel_publication(db, row, actor=actor)

    return _act(request, db, "cancel_all", "", work)


def register(app: FastAPI) -> None:
    add_routes(app, router)
