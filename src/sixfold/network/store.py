"""Tables of the network area: analyses as durable jobs, and the sources uploaded for them.

The analysis library itself (the rest of this package) knows nothing of databases; these rows
hold what the web app and the worker need around it. An analysis moves through

    importing  → the uploaded sources are read into the interaction table (metadata only) and
                 deleted; the org chart is taken from the organisation's own people
    analysing  → the library runs over that table; the report JSON is stored for the pages
    succeeded | rejected (the sources could not be used; nothing else changed) | failed

Raw uploads may contain message bodies (a Slack export does), so they live only until the
import has read them: the interaction table that replaces them holds who, whom, when and how,
never what was said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.jobs import Job, ProgressMixin, Retry, State, StateGraph, StateMachineMixin
from sixfold.org.models import Person


class AnalysisState(StateGraph, initial="importing", failure="failed"):
    importing = State(to=("analysing", "rejected"), retry=Retry(base_seconds=5, max_attempts=3))
    analysing = State(to=("succeeded", "rejected"), retry=Retry(base_seconds=10, max_attempts=3))
    succeeded = State(terminal=True)
    # The sources were read and found unusable (a zip bomb, no interaction of anyone in the
    # organisation): `rejection` says why, and earlier analyses are untouched.
    rejected = State(terminal=True)
    # The analysis itself broke (after retries): an operator should look at last_error.
    failed = State(terminal=True)


class NetworkAnalysis(StateMachineMixin, ProgressMixin, Base):
    __tablename__ = "network_analyses"
    state_graph = AnalysisState

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_from: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(300))
    # AnalysisConfig values and how people are grouped (see pipeline.AnalysisSettings).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The org chart as it was when the sources were imported: one object per person.
    chart: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The interaction table as Parquet (metadata only), kept so an analyst can run the same
    # data again with other settings.
    interactions: Mapped[bytes | None] = mapped_column(LargeBinary)
    interaction_count: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    problem_count: Mapped[int] = mapped_column(default=0)
    rejection: Mapped[str | None] = mapped_column(Text)
    # `sixfold network analyze`'s report.json, which the pages render from.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The tie graph as Parquet (u, v, weight by chart position), for person neighbourhoods.
    ties: Mapped[bytes | None] = mapped_column(LargeBinary)

    requested_by: Mapped[Person | None] = relationship()
    sources: Mapped[list[NetworkSource]] = relationship(
        back_populates="analysis", order_by="NetworkSource.id"
    )

    def handle_importing(self, job: Job) -> str:
        from sixfold.network import pipeline

        return pipeline.import_sources(job.session, self, job.report_progress)

    def handle_analysing(self, job: Job) -> str:
        from sixfold.network import pipeline

        return pipeline.run_analysis(self, job.report_progress)


class NetworkSource(Base):
    """One uploaded file of an analysis; its content is deleted once it has been read."""

    __tablename__ = "network_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("network_analyses.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    interactions: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    analysis: Mapped[NetworkAnalysis] = relationship(back_populates="sources")
