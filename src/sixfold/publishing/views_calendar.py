"""The calendar page: scheduled and published posts per channel, by week or by month."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import service as channels
from sixfold.inputs import Day, Id
from sixfold.org import service as org_service
from sixfold.org.clock import organisation_zone
from sixfold.publishing import access, calendar
from sixfold.web.access import DbSession, Require
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]
View = Literal["week", "month"]


def _link(view: View, day: date, channel: int | None) -> str:
    params: dict[str, str] = {"view": view, "date": day.isoformat()}
    if channel is not None:
        params["channel"] = str(channel)
    return "/calendar?" + urlencode(params)


def _week_label(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    return f"{monday.day} {monday:%b} – {sunday.day} {sunday:%b %Y}"


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    principal: CanDraft,
    db: DbSession,
    view: View = "week",
    day: Annotated[Day | None, Query(alias="date")] = None,
    channel: Id | None = None,
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    if channel is not None:
        channels.get_channel(db, organisation, channel)  # 404 for a channel not ours
    zone = organisation_zone(organisation)
    today = datetime.now(zone).date()
    shown = day or today
    visible = access.visible_posts_clause(db, principal)
    context: dict[str, Any] = {
        "view": view,
        "today": today,
        "zone_name": zone.key,
        "channel": channel,
        "channels": channels.list_channels(db, organisation, include_disabled=True),
        "today_link": _link(view, today, channel),
        "week_link": _link("week", shown, channel),
        "month_link": _link("month", shown, channel),
    }
    if view == "month":
        grid = calendar.month_grid(
            db, organisation.id, day=shown, zone=zone, channel_id=channel, visible=visible
        )
        return render(
            request,
            "publishing/calendar_month.html",
            grid=grid,
            label=f"{grid.first:%B %Y}",
            prev_link=_link(view, calendar.shift_month(shown, -1), channel),
            next_link=_link(view, calendar.shift_month(shown, 1), channel),
            **context,
        )
    week = calendar.week_grid(
        db, organisation.id, day=shown, zone=zone, channel_id=channel, visible=visible
    )
    return render(
        request,
        "publishing/calendar_week.html",
        grid=week,
        label=_week_label(week.days[0]),
        prev_link=_link(view, shown - timedelta(days=7), channel),
        next_link=_link(view, shown + timedelta(days=7), channel),
        **context,
    )


def register(app: FastAPI) -> None:
    add_routes(app, router)
