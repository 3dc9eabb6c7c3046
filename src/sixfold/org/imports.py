"""Org-chart imports as durable jobs: the upload is stored at once, a worker imports it.

Ingest fast, process later: the request that uploads a file only stores it and answers;
the worker parses, validates and applies it, reporting progress that the import page shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from sixfold import audit
from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.errors import NotFound, ValidationFailed
from sixfold.jobs import Job, ProgressMixin, Retry, State, StateGraph, StateMachineMixin
from sixfold.org.importer import apply_org_chart
from sixfold.org.importer_parse import DEFAULT_MAX_BYTES, OrgChartError, parse_org_chart
from sixfold.org.models import Organisation, Person

MAX_UPLOAD_BYTES = DEFAULT_MAX_BYTES
ERRORS_KEPT = 10_000


class ImportState(StateGraph, initial="queued", failure="failed"):
    queued = State(retry=Retry(base_seconds=5, max_attempts=3), to=("succeeded", "rejected"))
    succeeded = State(terminal=True)
    # The file was read and found invalid: nothing was imported, the errors say why.
    rejected = State(terminal=True)
    # The import itself broke (after retries): an operator should look at last_error.
    failed = State(terminal=True)


class ImportJob(StateMachineMixin, ProgressMixin, Base):
    __tablename__ = "org_import_jobs"
    state_graph = ImportState

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_from: Mapped[str] = mapped_column(String(64), default="")
    filename: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    requested_by: Mapped[Person | None] = relationship()

    def handle_queued(self, job: Job) -> str:
        organisation = job.session.get(Organisation, self.organisation_id)
        if organisation is None:
            raise NotFound("the organisation of this import no longer exists")
        try:
            parsed = parse_org_chart(self.content or b"")
        except OrgChartError as error:
            return self._finish(
                "rejected", errors=[{"line": error.line, "column": None, "reason": str(error)}]
            )
        job.report_progress(0, len(parsed.rows))
        actor = audit.Actor(
            id=self.requested_by_id,
            label=self.requested_by.email if self.requested_by else "system",
            ip_address=self.requested_from,
        )
        result = apply_org_chart(
            job.session,
            organisation,
            parsed,
            actor=actor,
            skip_invalid=self.skip_invalid,
            progress=lambda done, total: job.report_progress(done, total),
        )
        errors = [
            {"line": e.line, "column": e.column, "reason": e.reason}
            for e in result.errors[:ERRORS_KEPT]
        ]
        counts = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "errors": len(result.errors),
        }
        if result.rejected:
            return self._finish("rejected", errors=errors, result=counts)
        job.report_progress(len(parsed.rows), len(parsed.rows))
        return self._finish("succeeded", errors=errors, result=counts)

    def _finish(
        self, state: str, *, errors: list[dict[str, Any]], result: dict[str, Any] | None = None
    ) -> str:
        self.errors = errors
        self.result = result or {}
        self.finished_at = utcnow()
        # The uploaded file is personal data; keep it no longer than needed.
        self.content = None
        return state


def queue_import(
    session: Session,
    organisation: Organisation,
    *,
    filename: str,
    content: bytes,
    skip_invalid: bool,
    actor: audit.Actor,
) -> ImportJob:
    if not content:
        raise ValidationFailed("The file is empty.")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB.")
    job = ImportJob.create(
        session,
        organisation_id=organisation.id,
        requested_by_id=actor.id,
        requested_from=actor.ip_address,
        filename=filename[:300] or "upload.csv",
        content=content,
        skip_invalid=skip_invalid,
        result={},
        errors=[],
    )
    session.flush()
    audit.record(
        session,
        actor,
        "org.import_queued",
        target_type="import",
        target_id=job.id,
        target=job.filename,
        details={"bytes": len(content), "skip_invalid": skip_invalid},
    )
    return job


def get_import(session: Session, organisation: Organisation, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None or job.organisation_id != organisation.id:
        raise NotFound("No such import.")
    return job


def recent_imports(
    session: Session, organisation: Organisation, limit: int = 20
) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.organisation_id == organisation.id)
            .order_by(ImportJob.id.desc())
            .limit(limit)
        )
    )
