"""Org-chart import from CSV: the service the command line, the web page and the job call.

    parsed = parse_org_chart(raw_bytes)                  # no database; OrgChartError if unreadable
    errors = validate_org_chart(session, org, parsed)    # every problem, with its line
    result = apply_org_chart(session, org, parsed, actor=actor, skip_invalid=False)

`apply_org_chart` checks again (the organisation may have changed since a preview), writes
in the caller's transaction and leaves the commit to the caller. Rows are matched to people
by (organisation, external id), so importing the same file twice changes nothing the second
time. People the file does not mention are left as they are. The import owns
`Person.attributes`: they become exactly the file's extra columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.org.importer_parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    REQUIRED_COLUMNS,
    ChartRow,
    OrgChartError,
    ParsedChart,
    RowError,
    parse_org_chart,
)
from sixfold.org.importer_resolve import ExistingPerson, Resolution, load_people, resolve
from sixfold.org.importer_write import (
    PeopleChanges,
    Progress,
    ProgressCounter,
    ensure_teams,
    free_moving_emails,
    manager_updates,
    plan_people,
    write_batches,
)
from sixfold.org.models import Organisation, Person, Team

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "REQUIRED_COLUMNS",
    "ChartRow",
    "ImportResult",
    "OrgChartError",
    "ParsedChart",
    "RowError",
    "apply_org_chart",
    "parse_org_chart",
    "validate_org_chart",
]


@dataclass(frozen=True)
class ImportResult:
    """Counts of people; `skipped` counts rows not imported (all of them when rejected)."""

    created: int
    updated: int
    unchanged: int
    skipped: int
    errors: tuple[RowError, ...]
    teams_created: int = 0
    # True when nothing was written because rows were invalid and skipping was not asked for.
    rejected: bool = False


def validate_org_chart(
    session: Session, organisation: Organisation, parsed: ParsedChart
) -> list[RowError]:
    """Every problem with the file, including those that depend on who is already there."""
    session.flush()
    return list(resolve(parsed, load_people(session, organisation.id)).errors)


def apply_org_chart(
    session: Session,
    organisation: Organisation,
    parsed: ParsedChart,
    *,
    actor: audit.Actor,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the chart; with invalid rows import nothing unless `skip_invalid`, in which case
    invalid rows and the rows that depend on them are skipped and reported."""
    session.flush()
    existing = load_people(session, organisation.id)
    resolution = resolve(parsed, existing)
    if resolution.errors and not skip_invalid:
        return ImportResult(0, 0, 0, len(parsed.rows), resolution.errors, rejected=True)
    rows = resolution.importable
    team_ids, teams_created = ensure_teams(
        session, organisation.id, {row.department for row in rows}
    )
    changes = plan_people(rows, existing, team_ids, organisation.id)
    _write_people(session, organisation, changes, existing, progress)
    result = ImportResult(
        len(changes.inserts),
        changes.updated,
        changes.unchanged,
        resolution.skipped,
        _reported(resolution),
        teams_created,
    )
    _record(session, organisation, actor, result, skip_invalid=skip_invalid)
    _forget_stale_objects(session)
    return result


def _write_people(
    session: Session,
    organisation: Organisation,
    changes: PeopleChanges,
    existing: dict[str, ExistingPerson],
    progress: Progress | None,
) -> None:
    """Changed people, then new people, then every reporting line that moves."""
    counter = ProgressCounter(
        len(changes.inserts) + len(changes.updates) + len(changes.manager_rows), progress
    )
    free_moving_emails(session, changes.updates, existing)
    write_batches(session, update(Person), changes.updates, counter.advance)
    write_batches(session, insert(Person), changes.inserts, counter.advance)
    managers = manager_updates(
        session, changes.manager_rows, organisation.id, existing, reload=bool(changes.inserts)
    )
    write_batches(session, update(Person), managers, counter.advance)


def _reported(resolution: Resolution) -> tuple[RowError, ...]:
    return tuple(sorted((*resolution.errors, *resolution.skip_notes), key=lambda error: error.line))


def _record(
    session: Session,
    organisation: Organisation,
    actor: audit.Actor,
    result: ImportResult,
    *,
    skip_invalid: bool,
) -> None:
    audit.record(
        session,
        actor,
        "org.import",
        target_type="organisation",
        target_id=organisation.id,
        target=organisation.name,
        details={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "teams_created": result.teams_created,
            "skip_invalid": skip_invalid,
            "errors": len(result.errors),
        },
    )


def _forget_stale_objects(session: Session) -> None:
    # The bulk statements bypass the identity map; people and teams loaded before the
    # import would otherwise show their old values until the session ends.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Person | Team):
            session.expire(instance)
