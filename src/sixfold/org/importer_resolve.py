"""Checks that need the organisation's existing people, and which rows may be imported.

A manager may be another row of the file or someone already in the organisation; reporting
cycles may run through people already imported; an e-mail address may already belong to
someone the file does not mention. Every walk here is iterative and visits each person a
bounded number of times, so 50,000 rows take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.org.importer_parse import ChartRow, ParsedChart, RowError, _shown
from sixfold.org.models import Person

# Cycles longer than this are described by their first members only, so that a cycle of
# thousands of people does not produce thousands of thousand-name messages.
_CYCLE_MEMBERS_SHOWN = 8


class ExistingPerson(NamedTuple):
    id: int
    external_id: str
    name: str
    email: str
    title: str
    location: str
    team_id: int | None
    manager_id: int | None
    attributes: dict[str, Any]


def load_people(session: Session, organisation_id: int) -> dict[str, ExistingPerson]:
    """Everyone already in the organisation, by external id, in one query.

    The query names table columns rather than mapped attributes, so the rows skip the ORM's
    loading machinery, which would double the time taken for a large organisation.
    """
    table = Person.__table__.c
    result = session.execute(
        select(*(table[name] for name in ExistingPerson._fields)).where(
            table.organisation_id == organisation_id
        )
    )
    return {row[1]: ExistingPerson(*row) for row in result}


@dataclass(frozen=True)
class Resolution:
    """The outcome of every check: `errors` block the import; `importable` may be imported
    when invalid rows are skipped, and `skip_notes` say why further rows were held back."""

    errors: tuple[RowError, ...]
    importable: tuple[ChartRow, ...]
    skip_notes: tuple[RowError, ...]
    skipped: int


def resolve(parsed: ParsedChart, existing: dict[str, ExistingPerson]) -> Resolution:
    graph = _Graph(parsed.rows, existing)
    errors = [*parsed.errors, *graph.unknown_managers(), *graph.cycles(), *graph.email_conflicts()]
    errors.sort(key=lambda error: error.line)
    importable, notes = graph.importable({error.line for error in errors})
    return Resolution(tuple(errors), importable, notes, len(parsed.rows) - len(importable))


class _Graph:
    """The reporting lines the organisation would have after the import."""

    def __init__(self, rows: Iterable[ChartRow], existing: dict[str, ExistingPerson]) -> None:
        self.rows = tuple(rows)
        self.existing = existing
        self.by_id: dict[str, ChartRow] = {}
        for row in self.rows:
            if row.external_id:
                self.by_id.setdefault(row.external_id, row)
        self.id_by_pk = {person.id: key for key, person in existing.items()}
        self.email_holders = {person.email.casefold(): person for person in existing.values()}

    def manager_of(self, key: str) -> str | None:
        row = self.by_id.get(key)
        if row is not None:
            manager = row.manager_id
            return manager if manager and manager != key else None
        person = self.existing.get(key)
        if person is None or person.manager_id is None:
            return None
        return self.id_by_pk.get(person.manager_id)

    def describe(self, key: str) -> str:
        row = self.by_id.get(key)
        where = f"line {row.line}" if row is not None else "already in the organisation"
        return f"{_shown(key)} ({where})"

    def unknown_managers(self) -> Iterator[RowError]:
        for row in self.rows:
            manager = row.manager_id
            if manager and manager not in self.by_id and manager not in self.existing:
                yield RowError(
                    row.line,
                    "manager_id",
                    f"manager_id {_shown(manager)} is not in the file or the organisation",
                )

    def cycles(self) -> Iterator[RowError]:
        """Each person has at most one manager, so following managers from every row and
        colouring the people seen finds every cycle in linear time."""
        on_path, done = 1, 2
        state: dict[str, int] = {}
        for start in self.by_id:
            path: list[str] = []
            key: str | None = start
            while key is not None and key not in state:
                state[key] = on_path
                path.append(key)
                key = self.manager_of(key)
            if key is not None and state[key] == on_path:
                yield from self._cycle_errors(path[path.index(key) :])
            for member in path:
                state[member] = done

    def _cycle_errors(self, cycle: list[str]) -> Iterator[RowError]:
        size = len(cycle)
        shown = min(size, _CYCLE_MEMBERS_SHOWN)
        for position, key in enumerate(cycle):
            row = self.by_id.get(key)
            if row is None:
                continue  # someone already imported: only the file's rows can be fixed
            chain = " → ".join(
                self.describe(cycle[(position + step) % size]) for step in range(shown)
            )
            more = " → …" if shown < size else ""
            people = f" of {size:,} people" if shown < size else ""
            yield RowError(
                row.line,
                "manager_id",
                f"reporting lines form a cycle{people}: {chain}{more} → back to {_shown(key)}",
            )

    def email_conflicts(self) -> Iterator[RowError]:
        """Addresses that belong to someone the file does not mention, who would keep them."""
        holders = self.email_holders
        for row in self.by_id.values():
            holder = holders.get(row.email.casefold())
            if (
                holder is not None
                and holder.external_id != row.external_id
                and holder.external_id not in self.by_id
            ):
                yield RowError(
                    row.line,
                    "email",
                    f"email {_shown(row.email)} already belongs to "
                    f"{_shown(holder.name)} (id {_shown(holder.external_id)}), "
                    "who is not in the file",
                )

    def importable(self, bad_lines: set[int]) -> tuple[tuple[ChartRow, ...], tuple[RowError, ...]]:
        """The rows that can be imported when invalid ones are skipped.

        A row is held back when someone up its reporting line is not imported, or when its
        e-mail address stays with an existing person whose row is not imported. Holding a
        row back can free nothing, only hold back more, so repeating until nothing changes
        ends after a few rounds.
        """
        blocked = set(bad_lines)
        notes: dict[int, RowError] = {}
        while True:
            verdict = self._chains_clear(blocked, notes)
            held = list(self._held_emails(verdict))
            if not held:
                break
            for note in held:
                blocked.add(note.line)
                notes[note.line] = note
        rows = tuple(
            row
            for row in self.rows
            if row.line not in blocked and verdict.get(row.external_id, False)
        )
        return rows, tuple(sorted(notes.values(), key=lambda note: note.line))

    def _chains_clear(self, blocked: set[int], notes: dict[int, RowError]) -> dict[str, bool]:
        verdict: dict[str, bool] = {}
        for start in self.by_id:
            path: list[str] = []
            seen: set[str] = set()
            key = start
            clear = True
            while key not in verdict:
                row = self.by_id.get(key)
                if row is None:
                    break  # someone already imported, or unknown (reported already)
                if row.line in blocked or key in seen:
                    verdict[key] = clear = False
                    break
                path.append(key)
                seen.add(key)
                if not row.manager_id or row.manager_id == key:
                    break
                key = row.manager_id
            else:
                clear = verdict[key]
            for member in reversed(path):
                verdict[member] = clear
                if not clear:
                    notes[self.by_id[member].line] = self._dependent_note(member)
        return verdict

    def _dependent_note(self, key: str) -> RowError:
        row = self.by_id[key]
        return RowError(
            row.line,
            "manager_id",
            f"not imported because its manager {self.describe(row.manager_id)} is not imported",
        )

    def _held_emails(self, verdict: dict[str, bool]) -> Iterator[RowError]:
        holders = self.email_holders
        for key, clear in verdict.items():
            row = self.by_id.get(key)
            if not clear or row is None:
                continue
            holder = holders.get(row.email.casefold())
            if (
                holder is not None
                and holder.external_id != key
                and not verdict.get(holder.external_id, False)
            ):
                yield RowError(
                    row.line,
                    "email",
                    f"not imported because email {_shown(row.email)} still "
                    f"belongs to {self.describe(holder.external_id)}, which is "
                    "not imported",
                )
