"""Use cases of the network area: queue analyses, and read their reports for the pages.

No HTTP here. Who may do what:
- organisation and department figures: `network.view` (leaders, network analysts);
- anything about a person (the people table, a person's neighbourhood, the full report):
  `network.view_people` (network analysts, administrators), and every such view is written to
  the audit log as `network.person_viewed`. A grant for one team shows that team's people;
- running an analysis: `network.view_people` for the whole organisation, because an analysis
  covers everyone and its results are person-level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.grants import Grants
from sixfold.auth.permissions import Permission
from sixfold.errors import Forbidden, NotFound, ValidationFailed
from sixfold.network import presenting
from sixfold.network.pipeline import (
    ANALYSIS_STEPS,
    MAX_UPLOAD_BYTES,
    SOURCE_KINDS,
    AnalysisSettings,
    from_parquet,
)
from sixfold.network.store import NetworkAnalysis, NetworkSource
from sixfold.org import service as org_service
from sixfold.org.models import Organisation

PEOPLE_PAGE_SIZE = 500
SORTABLE = ("name", "department", *presenting.METRICS, "community")


@dataclass(frozen=True)
class Upload:
    kind: str
    filename: str
    content: bytes


# Running analyses ----------------------------------------------------------------------


def _require_whole_organisation(grants: Grants) -> None:
    if Permission.VIEW_NETWORK_PEOPLE not in grants.organisation:
        raise Forbidden(
            "An analysis covers the whole organisation: it needs the network-analyst role "
            "for the whole organisation, not for one team."
        )


def queue_analysis(
    session: Session,
    organisation: Organisation,
    *,
    uploads: list[Upload],
    settings: AnalysisSettings,
    title: str,
    actor: audit.Actor,
    grants: Grants,
) -> NetworkAnalysis:
    """Store the uploads as an analysis job; a worker imports and analyses them."""
    _require_whole_organisation(grants)
    uploads = [upload for upload in uploads if upload.filename or upload.content]
    _check_uploads(uploads)
    analysis = _create(
        session,
        organisation,
        settings=settings,
        title=title,
        actor=actor,
        progress_total=len(uploads) + 1 + ANALYSIS_STEPS,
    )
    for upload in uploads:
        session.add(
            NetworkSource(
                analysis_id=analysis.id,
                kind=upload.kind,
                filename=upload.filename[:300] or "upload",
                size=len(upload.content),
                content=upload.content,
            )
        )
    files = [{"kind": u.kind, "file": u.filename, "bytes": len(u.content)} for u in uploads]
    _audit_queued(session, actor, analysis, {"files": files})
    return analysis


def _check_uploads(uploads: list[Upload]) -> None:
    if not uploads:
        raise ValidationFailed(
            "Choose at least one file: an interactions CSV, a Slack or Mattermost export or "
            "an mbox file."
        )
    for upload in uploads:
        if upload.kind not in SOURCE_KINDS:
            raise ValidationFailed(f"Unknown kind of source: {upload.kind!r}.")
        if not upload.content:
            raise ValidationFailed(f"{upload.filename or 'A file'} is empty.")
    if sum(len(upload.content) for upload in uploads) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"The files are larger than {MAX_UPLOAD_BYTES // 2**20} MiB together; analyse "
            "larger exports with `sixfold network analyze`."
        )


def _create(
    session: Session,
    organisation: Organisation,
    *,
    settings: AnalysisSettings,
    title: str,
    actor: audit.Actor,
    **values: Any,
) -> NetworkAnalysis:
    analysis = NetworkAnalysis.create(
        session,
        organisation_id=organisation.id,
        requested_by_id=actor.id,
        requested_from=actor.ip_address,
        title=title.strip()[:300] or "Network analysis",
        settings=settings.to_json(),
        chart=[],
        problems=[],
        **values,
    )
    session.flush()
    return analysis


def _audit_queued(
    session: Session, actor: audit.Actor, analysis: NetworkAnalysis, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor,
        "network.analysis_queued",
        target_type="network_analysis",
        target_id=analysis.id,
        target=analysis.title,
        details={**details, "settings": analysis.settings},
    )


def rerun_analysis(
    session: Session,
    organisation: Organisation,
    analysis_id: int,
    *,
    settings: AnalysisSettings,
    title: str,
    actor: audit.Actor,
    grants: Grants,
) -> NetworkAnalysis:
    """Analyse the interactions of an earlier analysis again, with other settings."""
    _require_whole_organisation(grants)
    earlier = get_analysis(session, organisation, analysis_id)
    if earlier.interactions is None:
        raise ValidationFailed("That analysis has no imported interactions to run again.")
    analysis = _create(
        session,
        organisation,
        settings=settings,
        title=title or earlier.title,
        actor=actor,
        interactions=earlier.interactions,
        interaction_count=earlier.interaction_count,
    )
    _audit_queued(session, actor, analysis, {"rerun_of": earlier.id})
    return analysis


# Reading analyses ----------------------------------------------------------------------


def get_analysis(session: Session, organisation: Organisation, analysis_id: int) -> NetworkAnalysis:
    analysis = session.get(NetworkAnalysis, analysis_id)
    if analysis is None or analysis.organisation_id != organisation.id:
        raise NotFound("No such analysis.")
    return analysis


def latest_analysis(session: Session, organisation: Organisation) -> NetworkAnalysis | None:
    """The newest analysis with a report: what the network area opens on."""
    query = (
        select(NetworkAnalysis)
        .where(
            NetworkAnalysis.organisation_id == organisation.id,
            NetworkAnalysis.state == "succeeded",
        )
        .order_by(NetworkAnalysis.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def recent_analyses(
    session: Session, organisation: Organisation, limit: int = 20
) -> list[NetworkAnalysis]:
    query = select(NetworkAnalysis).where(NetworkAnalysis.organisation_id == organisation.id)
    return list(session.scalars(query.order_by(NetworkAnalysis.id.desc()).limit(limit)))


def _report_of(analysis: NetworkAnalysis) -> dict[str, Any]:
    if analysis.report is None:
        raise NotFound("This analysis has no report yet.")
    return analysis.report


def overview(analysis: NetworkAnalysis) -> dict[str, Any]:
    """Organisation and department figures of a finished analysis (no person in them)."""
    return presenting.overview(_report_of(analysis))


# Person-level views (audited) ----------------------------------------------------------


@dataclass(frozen=True)
class PeopleScope:
    """Whose figures a viewer may see: everyone, or the people in some team subtrees."""

    everyone: bool
    team_ids: frozenset[int] = frozenset()

    def includes(self, team_id: int | None) -> bool:
        return self.everyone or (team_id is not None and team_id in self.team_ids)


def people_scope(session: Session, grants: Grants) -> PeopleScope:
    if Permission.VIEW_NETWORK_PEOPLE in grants.organisation:
        return PeopleScope(everyone=True)
    teams = [
        team for team, held in grants.by_team.items() if Permission.VIEW_NETWORK_PEOPLE in held
    ]
    return PeopleScope(
        everyone=False,
        team_ids=frozenset(t for team in teams for t in org_service.subtree_ids(session, team)),
    )


def _audit_view(
    session: Session,
    actor: audit.Actor,
    analysis: NetworkAnalysis,
    view: str,
    *,
    person: dict[str, Any] | None = None,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor,
        "network.person_viewed",
        target_type="person" if person else "network_analysis",
        target_id=person["person_id"] if person else analysis.id,
        target=person["name"] if person else analysis.title,
        details={"view": view, "analysis": analysis.id, **details},
    )


@dataclass(frozen=True)
class PeoplePage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    mentors: list[dict[str, Any]]
    roles: dict[str, list[dict[str, Any]]]
    everyone: bool


def people_page(
    session: Session,
    analysis: NetworkAnalysis,
    *,
    actor: audit.Actor,
    grants: Grants,
    sort: str = "betweenness",
    descending: bool = True,
    page: int = 1,
) -> PeoplePage:
    """The people table, mentor candidates and role lists; the view is audited."""
    report = _report_of(analysis)
    if sort not in SORTABLE:
        raise ValidationFailed(f"Cannot sort by {sort!r}.")
    scope = people_scope(session, grants)
    rows = [
        row
        for row in presenting.people_rows(report, analysis.chart)
        if scope.includes(row["team_id"])
    ]
    pages = max(1, -(-len(rows) // PEOPLE_PAGE_SIZE))
    page = min(max(1, page), pages)
    ordered = presenting.sort_rows(rows, sort, descending)
    shown = ordered[(page - 1) * PEOPLE_PAGE_SIZE : page * PEOPLE_PAGE_SIZE]
    _audit_view(session, actor, analysis, "people", page=page, people=len(shown), sort=sort)
    return PeoplePage(
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        mentors=presenting.mentors(report, rows),
        roles={
            role: [row for row in ordered if role in row["roles"]]
            for role in presenting.ROLE_LABELS
        },
        everyone=scope.everyone,
    )


def person_view(
    session: Session,
    analysis: NetworkAnalysis,
    person_id: int,
    *,
    actor: audit.Actor,
    grants: Grants,
) -> dict[str, Any]:
    """One person's figures, percentiles, roles and neighbourhood; the view is audited."""
    report = _report_of(analysis)
    rows = presenting.people_rows(report, analysis.chart)
    row = next((r for r in rows if r["person_id"] == person_id), None)
    if row is None:
        raise NotFound("This person was not part of the analysis.")
    scope = people_scope(session, grants)
    if not scope.includes(row["team_id"]):
        raise Forbidden("Your network-analyst role covers other teams than this person's.")
    visible = [r if scope.includes(r["team_id"]) else _masked(r) for r in rows]
    ties = _ties_near(analysis, row["index"])
    _audit_view(session, actor, analysis, "person", person=row)
    return {
        "row": row,
        "percentiles": presenting.percentiles(rows, row),
        "neighbourhood": presenting.neighbourhood(visible, ties, row["index"]),
        "mentor": next((m for m in report["mentor_candidates"] if m["id"] == row["id"]), None),
    }


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    group = row["department"]
    # The small-group label starts a sentence on its own; here it follows "Someone in".
    where = group[:1].lower() + group[1:] if row["small_group"] else group
    return {**row, "name": f"Someone in {where}", "person_id": None, "title": ""}


def _ties_near(analysis: NetworkAnalysis, index: int) -> list[tuple[int, int, float]]:
    """The person's ties and the ties among their neighbours, read from the stored graph."""
    import polars as pl

    if not analysis.ties:
        return []
    ties = from_parquet(analysis.ties)
    touching = ties.filter((pl.col("u") == index) | (pl.col("v") == index))
    neighbours = set(touching["u"].to_list()) | set(touching["v"].to_list())
    among = ties.filter(pl.col("u").is_in(neighbours) & pl.col("v").is_in(neighbours))
    return [(int(u), int(v), float(w)) for u, v, w in among.iter_rows()]


def export_report(
    session: Session, analysis: NetworkAnalysis, *, actor: audit.Actor, grants: Grants
) -> dict[str, Any]:
    """The whole report.json (everyone's figures); audited, organisation-wide analysts only.

    Groups under the minimum size are not named beside anyone's figures, as on the pages.
    """
    report = _report_of(analysis)
    if not people_scope(session, grants).everyone:
        raise Forbidden("The whole report names everyone: it needs an organisation-wide role.")
    _audit_view(session, actor, analysis, "report", people=len(report["people"]))
    return presenting.without_small_groups(report)
