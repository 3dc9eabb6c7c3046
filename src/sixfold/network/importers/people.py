"""Org-chart CSV importer: `id,name,email,title,department,manager_id`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from sixfold.network.importers.base import (
    ImportLimits,
    ImportProblem,
    ProblemLog,
    check_size,
    to_utf8,
)
from sixfold.network.importers.lines import csv_records, extra_fields, header_names
from sixfold.network.orgchart import OrgChart, Person, build_orgchart, find_cycle_members

REQUIRED_COLUMNS = ("id", "department")
OPTIONAL_COLUMNS = ("name", "email", "title", "manager_id")
UNASSIGNED = "(unassigned)"


def load_people(
    path: Path, limits: ImportLimits | None = None
) -> tuple[OrgChart, list[ImportProblem]]:
    """Read and validate an org chart; bad rows are reported with their line numbers."""
    limits = limits or ImportLimits()
    check_size(path, limits)
    log = ProblemLog(path.name)
    text = to_utf8(path.read_bytes(), path.name).decode("utf-8", errors="replace")
    people, lines = _read_rows(text, log, limits)
    people = _repair_managers(people, lines, log)
    return build_orgchart(people), log.listed


def _read_rows(
    text: str, log: ProblemLog, limits: ImportLimits
) -> tuple[list[Person], dict[str, int]]:
    """People in file order, and the line each row starts on."""
    records = csv_records(io.StringIO(text, newline=""))
    header = _read_header(records, log.source)
    people: dict[str, Person] = {}
    lines: dict[str, int] = {}
    emails: set[str] = set()
    for line, fields in records:
        if isinstance(fields, csv.Error):
            log.add(line, f"unreadable CSV: {fields}")
            continue
        if not fields:
            continue  # a blank line
        extra = extra_fields(fields, len(header))
        if extra:
            log.add(line, f"{extra}; row skipped")
            continue
        person = _person_from_row(dict(zip(header, fields, strict=False)), line, log, limits)
        if person is None:
            continue
        if person.id in people:
            log.add(line, f"duplicate id {person.id!r}; row skipped")
            continue
        if person.email and person.email in emails:
            log.add(line, f"e-mail {person.email!r} already used; e-mail dropped")
            person = Person(
                person.id, person.name, "", person.title, person.department, person.manager_id
            )
        emails.add(person.email)
        people[person.id] = person
        lines[person.id] = line
    return list(people.values()), lines


def _read_header(records: Iterator[tuple[int, list[str] | csv.Error]], source: str) -> list[str]:
    _, header = next(records, (1, []))
    return header_names(header, source, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)


def _person_from_row(
    row: dict[str, str], line: int, log: ProblemLog, limits: ImportLimits
) -> Person | None:
    fields = {key: row.get(key, "").strip() for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    if any("\ufffd" in value for value in fields.values()):
        log.add(line, "not valid UTF-8; row skipped")
        return None
    if any(len(value) > limits.max_field_chars for value in fields.values()):
        log.add(line, f"a field is longer than {limits.max_field_chars} characters; row skipped")
        return None
    if not fields["id"]:
        log.add(line, "empty id; row skipped")
        return None
    if not fields["department"]:
        log.add(line, f"empty department; {fields['id']!r} placed in {UNASSIGNED}")
        fields["department"] = UNASSIGNED
    return Person(
        fields["id"],
        fields["name"],
        fields["email"].lower(),
        fields["title"],
        fields["department"],
        fields["manager_id"],
    )


def _repair_managers(people: list[Person], lines: dict[str, int], log: ProblemLog) -> list[Person]:
    """Drop manager links that point nowhere, to oneself, or round a loop, saying which."""
    known = {person.id for person in people}
    links: dict[str, str] = {}
    for person in people:
        manager = person.manager_id
        if not manager:
            continue
        if manager == person.id:
            log.add(lines[person.id], f"{person.id!r} is their own manager; link dropped")
        elif manager not in known:
            log.add(
                lines[person.id], f"{person.id!r} has unknown manager {manager!r}; link dropped"
            )
        else:
            links[person.id] = manager
    for member in sorted(find_cycle_members(links)):
        log.add(lines[member], f"{member!r} is in a reporting loop; manager link dropped")
        links.pop(member)
    return [
        Person(p.id, p.name, p.email, p.title, p.department, links.get(p.id, "")) for p in people
    ]
