"""Writing checked org-chart rows: teams first, then people, then reporting lines.

Every write is a bulk statement (an executemany of INSERTs, or UPDATEs by primary key) over
rows prepared in memory from one read of the organisation, so the number of round trips
grows with the number of batches, not with the number of people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sixfold.org.importer_parse import ChartRow
from sixfold.org.importer_resolve import ExistingPerson
from sixfold.org.models import Person, Team

BATCH_ROWS = 5_000
Progress = Callable[[int, int], None]


def ensure_teams(
    session: Session, organisation_id: int, paths: Iterable[str]
) -> tuple[dict[str, int], int]:
    """Team ids by path, creating missing teams and their parents, shallowest first."""
    ids = _team_ids(session, organisation_id)
    wanted = {
        "/".join(parts[:depth])
        for parts in (path.split("/") for path in paths if path)
        for depth in range(1, len(parts) + 1)
    }
    missing = sorted(wanted - ids.keys(), key=lambda path: (path.count("/"), path))
    depths = sorted({path.count("/") for path in missing})
    for depth in depths:
        level = [path for path in missing if path.count("/") == depth]
        session.execute(insert(Team), [_team_values(organisation_id, path, ids) for path in level])
        ids = _team_ids(session, organisation_id)
    return ids, len(missing)


def _team_ids(session: Session, organisation_id: int) -> dict[str, int]:
    result = session.execute(
        select(Team.path, Team.id).where(Team.organisation_id == organisation_id)
    )
    return dict(result.all())


def _team_values(organisation_id: int, path: str, ids: dict[str, int]) -> dict[str, Any]:
    parent, _, name = path.rpartition("/")
    return {
        "organisation_id": organisation_id,
        "parent_id": ids[parent] if parent else None,
        "name": name,
        "path": path,
    }


@dataclass
class PeopleChanges:
    """What the import will do to people, worked out before anything is written."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # Rows whose manager must be set in the second pass, new people included.
    manager_rows: list[ChartRow] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0


def plan_people(
    rows: Sequence[ChartRow],
    existing: dict[str, ExistingPerson],
    team_ids: dict[str, int],
    organisation_id: int,
) -> PeopleChanges:
    changes = PeopleChanges()
    for row in rows:
        person = existing.get(row.external_id)
        values = _person_values(row, person, team_ids)
        differs = person is not None and _differs(person, values)
        manager_moves = _manager_moves(row, person, existing)
        if person is None:
            changes.inserts.append(
                {"organisation_id": organisation_id, "external_id": row.external_id, **values}
            )
        elif differs:
            changes.updates.append({"id": person.id, **values})
        if manager_moves:
            changes.manager_rows.append(row)
        if person is not None:
            if differs or manager_moves:
                changes.updated += 1
            else:
                changes.unchanged += 1
    return changes


def _person_values(
    row: ChartRow, person: ExistingPerson | None, team_ids: dict[str, int]
) -> dict[str, Any]:
    # Without a location column the file says nothing about locations: keep what is there.
    location = row.location if row.location is not None else (person.location if person else "")
    return {
        "name": row.name,
        "email": row.email,
        "title": row.title,
        "location": location,
        "team_id": team_ids[row.department] if row.department else None,
        "attributes": row.attributes,
    }


def _differs(person: ExistingPerson, values: dict[str, Any]) -> bool:
    return (
        person.name,
        person.email,
        person.title,
        person.location,
        person.team_id,
        person.attributes,
    ) != (
        values["name"],
        values["email"],
        values["title"],
        values["location"],
        values["team_id"],
        values["attributes"],
    )


def _manager_moves(
    row: ChartRow, person: ExistingPerson | None, existing: dict[str, ExistingPerson]
) -> bool:
    manager = existing.get(row.manager_id) if row.manager_id else None
    if row.manager_id and manager is None:
        return True  # a manager who is new in this file
    current = person.manager_id if person is not None else None
    return (manager.id if manager is not None else None) != current


def free_moving_emails(
    session: Session, updates: list[dict[str, Any]], existing: dict[str, ExistingPerson]
) -> None:
    """Park addresses that move between people in this import on unique placeholders.

    Unique constraints are checked row by row, so two people swapping addresses would
    collide half-way; checks before this guarantee every holder gets a new address below.
    """
    holder_by_email = {person.email: person.id for person in existing.values()}
    parked = [
        {"id": holder, "email": f"moving-{holder}@import.invalid"}
        for values in updates
        if (holder := holder_by_email.get(values["email"])) not in (None, values["id"])
    ]
    if parked:
        session.execute(update(Person), parked)


def write_batches(
    session: Session, statement: Any, rows: list[dict[str, Any]], advance: Callable[[int], None]
) -> None:
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        session.execute(statement, batch)
        advance(len(batch))


def manager_updates(
    session: Session,
    rows: Sequence[ChartRow],
    organisation_id: int,
    existing: dict[str, ExistingPerson],
    *,
    reload: bool,
) -> list[dict[str, Any]]:
    """The second pass: managers by id, now that every person has one (`reload` after
    people were inserted, whose ids only the database knows)."""
    if reload:
        result = session.execute(
            select(Person.external_id, Person.id).where(Person.organisation_id == organisation_id)
        )
        pk = dict(result.all())
    else:
        pk = {external_id: person.id for external_id, person in existing.items()}
    return [
        {"id": pk[row.external_id], "manager_id": pk[row.manager_id] if row.manager_id else None}
        for row in rows
    ]


class ProgressCounter:
    """Turns batch sizes into (done, total) calls for the caller's progress callback."""

    def __init__(self, total: int, report: Progress | None) -> None:
        self.total, self.done, self.report = total, 0, report
        self.advance(0)

    def advance(self, count: int) -> None:
        self.done += count
        if self.report is not None:
            self.report(min(self.done, self.total), self.total)
