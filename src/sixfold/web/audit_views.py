"""The audit log: a filterable, paginated page, a CSV export and the JSON API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import service as channel_service
from sixfold.inputs import Day
from sixfold.org import service as org_service
from sixfold.org.clock import organisation_zone
from sixfold.org.models import Organisation
from sixfold.web.access import DbSession, Require
from sixfold.web.audit_reading import Reading, audit_row
from sixfold.web.routing import add_routes
from sixfold.web.templating import query_without_page, render

router = APIRouter()
CanViewAudit = Annotated[Principal, Require(Permission.VIEW_AUDIT).as_dependency()]
PAGE_SIZE = 50
# A spreadsheet treats a cell starting with these as a formula; prefixing a quote keeps the
# exported text as text (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "|", "%")


class AuditFilter(BaseModel):
    action: str = ""
    actor: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None
    # The days are the organisation's, as the page shows its times: "from 22 Nov" includes
    # 00:30 CET that morning, which is still 21 Nov in UTC.
    zone: str = "UTC"

    def apply(self, query: Select[Any]) -> Select[Any]:
        entry = audit.AuditEntry
        if self.action:
            query = query.where(entry.action.like(f"{self.action}%"))
        if self.actor:
            query = query.where(func.lower(entry.actor).like(f"%{self.actor.lower()}%"))
        if self.target:
            query = query.where(func.lower(entry.target).like(f"%{self.target.lower()}%"))
        zone = ZoneInfo(self.zone)
        if self.since:
            query = query.where(entry.at >= datetime.combine(self.since, time.min, tzinfo=zone))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=zone)
            query = query.where(entry.at < end)
        return query


def _filter(
    db: DbSession,
    action: Annotated[str, Query(max_length=100)] = "",
    actor: Annotated[str, Query(max_length=320)] = "",
    target: Annotated[str, Query(max_length=200)] = "",
    since: Day | None = None,
    until: Day | None = None,
) -> AuditFilter:
    zone = organisation_zone(org_service.current_organisation(db)).key
    return AuditFilter(
        action=action, actor=actor, target=target, since=since, until=until, zone=zone
    )


Filters = Annotated[AuditFilter, Depends(_filter)]


def _page(db: Session, filters: AuditFilter, page: int) -> tuple[list[audit.AuditEntry], int]:
    total = db.scalar(filters.apply(select(func.count()).select_from(audit.AuditEntry))) or 0
    rows = db.scalars(
        filters.apply(select(audit.AuditEntry))
        .order_by(audit.AuditEntry.seq.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(rows), total


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    principal: CanViewAudit,
    db: DbSession,
    filters: Filters,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    entries, total = _page(db, filters, page)
    pages = max(1, -(-total // PAGE_SIZE))
    reading = _reading(db, principal)
    return render(
        request,
        "audit.html",
        rows=[audit_row(entry, reading) for entry in entries],
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        export_query=query_without_page(request),
        actions=db.scalars(
            select(audit.AuditEntry.action).distinct().order_by(audit.AuditEntry.action)
        ).all(),
    )


def _reading(db: Session, principal: Principal) -> Reading:
    organisation = db.get(Organisation, principal.person.organisation_id)
    channels = (
        channel_service.list_channels(db, organisation, include_disabled=True)
        if organisation
        else []
    )
    return Reading(
        zone=organisation_zone(organisation),
        channel_names={channel.id: channel.name for channel in channels},
    )


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_rows(db: Session, filters: AuditFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "seq",
            "at",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target",
            "ip_address",
            "details",
            "hash",
        ]
    )
    query = filters.apply(select(audit.AuditEntry)).order_by(audit.AuditEntry.seq)
    for entry in db.scalars(query.execution_options(yield_per=1000)):
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    entry.seq,
                    entry.at.isoformat(),
                    entry.actor,
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    entry.target,
                    entry.ip_address,
                    entry.details,
                    entry.hash,
                )
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


@router.get("/audit.csv", include_in_schema=False)
def audit_csv(
    principal: CanViewAudit,
    db: DbSession,
    filters: Filters,
) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _csv_rows(db, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sixfold-audit-{stamp}.csv"'},
    )


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    target: str
    ip_address: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int


@router.get("/api/v1/audit", response_model=AuditPage, tags=["audit"])
def audit_api(
    principal: CanViewAudit,
    db: DbSession,
    filters: Filters,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> AuditPage:
    entries, total = _page(db, filters, page)
    return AuditPage(
        items=[AuditEntryOut.model_validate(e, from_attributes=True) for e in entries],
        total=total,
        page=page,
    )


def register(app: FastAPI) -> None:
    add_routes(app, router)
