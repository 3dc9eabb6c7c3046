"""The org-chart CSV import: parsing, every check, writing, idempotence, hostile files, scale."""

from __future__ import annotations

import io
import itertools
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.org.importer import (
    ImportResult,
    OrgChartError,
    ParsedChart,
    RowError,
    apply_org_chart,
    parse_org_chart,
    validate_org_chart,
)
from sixfold.org.models import Organisation, Person, Team

DATA = Path(__file__).parent / "data"
HEADER = "id,name,email,title,department,manager_id"
ACTOR = audit.Actor(id=None, label="importer test", ip_address="127.0.0.1")
_slugs = itertools.count()


def chart(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def person_row(
    key: str, manager: str = "", *, title: str = "Engineer", department: str = "Engineering"
) -> str:
    return f"{key},Person {key},{key.lower()}@example.org,{title},{department},{manager}"


def make_organisation(db: Session, name: str = "Acme") -> Organisation:
    organisation = Organisation(name=name, slug=f"org-{next(_slugs)}")
    db.add(organisation)
    db.flush()
    return organisation


def make_person(
    db: Session, organisation: Organisation, key: str, manager: Person | None = None
) -> Person:
    person = Person(
        organisation_id=organisation.id,
        external_id=key,
        name=f"Existing {key}",
        email=f"{key.lower()}@example.org",
        manager=manager,
    )
    db.add(person)
    db.flush()
    return person


def run(
    db: Session, organisation: Organisation, data: bytes, *, skip_invalid: bool = False
) -> ImportResult:
    parsed = parse_org_chart(data)
    return apply_org_chart(db, organisation, parsed, actor=ACTOR, skip_invalid=skip_invalid)


def people(db: Session, organisation: Organisation) -> dict[str, Person]:
    db.expire_all()
    found = db.scalars(select(Person).where(Person.organisation_id == organisation.id))
    return {person.external_id: person for person in found}


def import_entries(db: Session) -> list[audit.AuditEntry]:
    return list(db.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "org.import")))


def messages(errors: tuple[RowError, ...] | list[RowError]) -> list[str]:
    return [str(error) for error in errors]


# The happy path -----------------------------------------------------------------------------


def test_import_builds_team_tree_reporting_lines_and_attributes(db: Session) -> None:
    organisation = make_organisation(db)
    result = run(db, organisation, (DATA / "chart.csv").read_bytes())

    assert (result.created, result.updated, result.unchanged, result.skipped) == (7, 0, 0, 0)
    assert result.errors == ()
    assert result.teams_created == 5
    found = people(db, organisation)
    assert found["E4"].manager is found["E3"]
    assert found["E5"].manager is found["E6"]  # a manager defined further down the file
    assert found["E1"].manager is None
    assert found["E5"].name == "Elif Yilmaz, PhD"
    assert found["E3"].team is not None
    assert found["E3"].team.path == "Engineering/Platform"
    assert found["E3"].team.parent is not None
    assert found["E3"].team.parent.path == "Engineering"
    assert found["E5"].team is found["E6"].team  # "Engineering / Data" is "Engineering/Data"
    assert found["E1"].team is None
    assert found["E4"].location == "Remote"
    assert found["E4"].attributes == {"cost_centre": "CC-210"}


def test_formula_like_values_are_stored_as_data(db: Session) -> None:
    organisation = make_organisation(db)
    run(db, organisation, (DATA / "chart.csv").read_bytes())
    greta = people(db, organisation)["E7"]
    assert greta.name == '=HYPERLINK("http://evil.example")'
    assert greta.title == "+Sales Manager"
    assert greta.attributes == {"cost_centre": "@SUM(1+1)"}


def test_import_writes_one_audit_entry_with_the_counts(db: Session) -> None:
    organisation = make_organisation(db)
    run(db, organisation, (DATA / "chart.csv").read_bytes())
    [entry] = import_entries(db)
    assert entry.actor == "importer test"
    assert entry.target_id == str(organisation.id)
    assert entry.details["created"] == 7
    assert entry.details["skipped"] == 0


def test_existing_teams_are_matched_by_path(db: Session) -> None:
    organisation = make_organisation(db)
    engineering = Team(organisation_id=organisation.id, name="Engineering", path="Engineering")
    db.add(engineering)
    db.flush()
    result = run(db, organisation, chart(person_row("E1", department="Engineering/Platform")))
    assert result.teams_created == 1
    platform = db.scalars(select(Team).where(Team.path == "Engineering/Platform")).one()
    assert platform.parent_id == engineering.id


def test_excel_export_with_bom_crlf_and_loose_header_is_read() -> None:
    parsed = parse_org_chart((DATA / "excel-bom-crlf.csv").read_bytes())
    assert parsed.errors == ()
    assert [row.name for row in parsed.rows] == ["Åsa Öberg", "Zoë Brennan"]
    assert [row.line for row in parsed.rows] == [2, 3]


def test_a_file_object_is_read_like_bytes() -> None:
    parsed = parse_org_chart(io.BytesIO(chart(person_row("E1"))))
    assert [row.external_id for row in parsed.rows] == ["E1"]


def test_progress_is_reported_up_to_the_total(db: Session) -> None:
    organisation = make_organisation(db)
    calls: list[tuple[int, int]] = []
    apply_org_chart(
        db,
        organisation,
        parse_org_chart((DATA / "chart.csv").read_bytes()),
        actor=ACTOR,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 13)  # 7 people, then 6 managers
    assert calls[-1] == (13, 13)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# Checks on single rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",No Id,x@example.org,T,D,", "id", "id is empty"),
        ("E2,,x@example.org,T,D,", "name", "name is empty"),
        ("E2,Someone,,T,D,", "email", "email is empty"),
        (
            "E2,Someone,not-an-address,T,D,",
            "email",
            "email 'not-an-address' is not a valid e-mail address",
        ),
        ("E2,Someone,a b@example.org,T,D,", "email", "is not a valid e-mail address"),
        (
            f"E2,{'n' * 301},x@example.org,T,D,",
            "name",
            "name is 301 characters long; at most 300 are allowed",
        ),
        ("E2,Someone,x@example.org,T,Engineering//Platform,", "department", "has an empty part"),
        (
            f"E2,Someone,x@example.org,T,{'/'.join(['d'] * 400)},",
            "department",
            "department has 400 levels of teams; at most 20 are allowed",
        ),
        ("E2,Someone,x@example.org,T,D,E2", "manager_id", "'E2' is listed as their own manager"),
        ("E2,Someone,x@example.org,T,D", None, "has 5 fields but the header has 6"),
        ("E2,Some,one,x@example.org,T,D,", None, "has 7 fields but the header has 6"),
        ('E2,"Some\none",x@example.org,T,D,', "name", "name contains a line break"),
        ("E2,Some\x07one,x@example.org,T,D,", "name", "control character"),
        ("E1,Someone,x@example.org,T,D,", "id", "id 'E1' is also on line 2"),
        ("E2,Someone,E1@EXAMPLE.org,T,D,", "email", "email 'E1@EXAMPLE.org' is also on line 2"),
    ],
)
def test_each_invalid_row_is_reported_with_line_and_reason(
    row: str, column: str | None, reason: str
) -> None:
    parsed = parse_org_chart(chart(person_row("E1"), row, person_row("E3")))
    [error] = parsed.errors
    assert (error.line, error.column) == (3, column)
    assert reason in error.reason
    assert str(error).startswith("line 3: ")
    assert len(parsed.rows) == 3


def test_a_department_twenty_levels_deep_is_imported(db: Session) -> None:
    organisation = make_organisation(db)
    levels = [f"Level {n}" for n in range(1, 21)]
    result = run(db, organisation, chart(person_row("E1", department="/".join(levels))))
    assert (result.errors, result.teams_created) == ((), 20)
    team = people(db, organisation)["E1"].team
    assert team is not None
    assert team.path == "/".join(levels)


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    parsed = parse_org_chart(
        chart(",a,a@example.org,,,", "E2,,b@example.org,,,", "E3,c,not-mail,,,")
    )
    assert [(error.line, error.column) for error in parsed.errors] == [
        (2, "id"),
        (3, "name"),
        (4, "email"),
    ]


def test_line_numbers_count_physical_lines_of_quoted_multiline_fields() -> None:
    extra = f"{HEADER},notes"
    parsed = parse_org_chart(
        chart('E1,A,a@example.org,T,D,,"first\nsecond"', "E2,B,bad,T,D,,", header=extra)
    )
    assert parsed.rows[0].attributes == {"notes": "first\nsecond"}
    assert messages(parsed.errors) == ["line 4: email 'bad' is not a valid e-mail address"]


def test_blank_lines_and_rows_of_empty_cells_are_ignored() -> None:
    parsed = parse_org_chart(chart("", person_row("E1"), ",,,,,", "   "))
    assert parsed.errors == ()
    assert [row.line for row in parsed.rows] == [3]


def test_header_without_the_optional_location_keeps_existing_locations(db: Session) -> None:
    organisation = make_organisation(db)
    existing = make_person(db, organisation, "E1")
    existing.location = "Lisbon"
    db.flush()
    result = run(db, organisation, chart(person_row("E1")))
    assert result.updated == 1
    assert people(db, organisation)["E1"].location == "Lisbon"


# Checks that need the organisation ---------------------------------------------------------


def test_unknown_manager_is_reported_in_plain_language(db: Session) -> None:
    organisation = make_organisation(db)
    result = run(db, organisation, chart(person_row("E1"), person_row("E2", "E999")))
    assert messages(result.errors) == [
        "line 3: manager_id 'E999' is not in the file or the organisation"
    ]
    assert result.rejected


def test_manager_already_in_the_organisation_is_resolved(db: Session) -> None:
    organisation = make_organisation(db)
    boss = make_person(db, organisation, "B1")
    result = run(db, organisation, chart(person_row("E1", "B1")))
    assert result.errors == ()
    assert people(db, organisation)["E1"].manager_id == boss.id


def test_every_person_in_a_cycle_is_reported(db: Session) -> None:
    organisation = make_organisation(db)
    data = chart(
        person_row("E0"),
        person_row("E1", "E3"),
        person_row("E2", "E1"),
        person_row("E3", "E2"),
        person_row("E4", "E3"),
    )
    errors = validate_org_chart(db, organisation, parse_org_chart(data))
    assert [error.line for error in errors] == [3, 4, 5]
    assert str(errors[0]) == (
        "line 3: reporting lines form a cycle: 'E1' (line 3) → "
        "'E3' (line 5) → 'E2' (line 4) → back to 'E1'"
    )


def test_a_cycle_through_someone_already_imported_is_found(db: Session) -> None:
    organisation = make_organisation(db)
    boss = make_person(db, organisation, "B1")
    make_person(db, organisation, "B2", manager=boss)
    # The file makes B1 report to E1, who reports to B2, who already reports to B1.
    data = chart(person_row("E1", "B2"), "B1,Boss,b1@example.org,T,D,E1")
    errors = validate_org_chart(db, organisation, parse_org_chart(data))
    assert [error.line for error in errors] == [2, 3]
    assert "'B2' (already in the organisation)" in errors[0].reason


def test_a_long_cycle_is_found_quickly_with_short_messages() -> None:
    size = 50_000
    rows = [person_row(f"E{i}", f"E{(i + 1) % size}") for i in range(size)]
    parsed = parse_org_chart(chart(*rows))
    from sixfold.org.importer_resolve import resolve

    started = time.perf_counter()
    errors = resolve(parsed, {}).errors
    assert time.perf_counter() - started < 5
    assert len(errors) == size
    assert "cycle of 50,000 people" in errors[0].reason
    assert max(len(error.reason) for error in errors) < 400


def test_email_of_someone_not_in_the_file_is_refused(db: Session) -> None:
    organisation = make_organisation(db)
    make_person(db, organisation, "B1")
    result = run(db, organisation, chart("E1,New,B1@example.org,T,D,"))
    assert messages(result.errors) == [
        "line 2: email 'B1@example.org' already belongs to 'Existing B1' (id 'B1'), who is "
        "not in the file"
    ]


def test_two_people_can_swap_email_addresses(db: Session) -> None:
    organisation = make_organisation(db)
    make_person(db, organisation, "A")
    make_person(db, organisation, "B")
    result = run(db, organisation, chart("A,A,b@example.org,T,D,", "B,B,a@example.org,T,D,"))
    assert (result.updated, result.errors) == (2, ())
    found = people(db, organisation)
    assert (found["A"].email, found["B"].email) == ("b@example.org", "a@example.org")


# All or nothing, or skip what is invalid ---------------------------------------------------


BROKEN_CHART = chart(
    person_row("E1"),
    person_row("E2", "E1"),
    "E3,Broken,not-an-address,T,D,E2",
    person_row("E4", "E3"),  # depends on the broken row
    person_row("E5", "E4"),  # and so does this one, further down
    person_row("E6", "E2"),
)


def test_one_invalid_row_imports_nothing(db: Session) -> None:
    organisation = make_organisation(db)
    result = run(db, organisation, BROKEN_CHART)
    assert result.rejected
    assert (result.created, result.updated, result.unchanged, result.skipped) == (0, 0, 0, 6)
    assert messages(result.errors) == [
        "line 4: email 'not-an-address' is not a valid e-mail address"
    ]
    assert people(db, organisation) == {}
    assert import_entries(db) == []


def test_skip_invalid_skips_invalid_rows_and_those_that_depend_on_them(db: Session) -> None:
    organisation = make_organisation(db)
    result = run(db, organisation, BROKEN_CHART, skip_invalid=True)
    assert not result.rejected
    assert (result.created, result.skipped) == (3, 3)
    assert sorted(people(db, organisation)) == ["E1", "E2", "E6"]
    assert messages(result.errors) == [
        "line 4: email 'not-an-address' is not a valid e-mail address",
        "line 5: not imported because its manager 'E3' (line 4) is not imported",
        "line 6: not imported because its manager 'E4' (line 5) is not imported",
    ]
    [entry] = import_entries(db)
    assert entry.details["skipped"] == 3


def test_skip_invalid_keeps_the_first_of_duplicate_ids(db: Session) -> None:
    organisation = make_organisation(db)
    result = run(
        db,
        organisation,
        chart(person_row("E1"), "E1,Again,again@example.org,,,"),
        skip_invalid=True,
    )
    assert (result.created, result.skipped) == (1, 1)
    assert people(db, organisation)["E1"].name == "Person E1"


# Idempotence ----------------------------------------------------------------------------------


def test_reimport_changes_nothing_and_a_changed_title_updates_one(db: Session) -> None:
    organisation = make_organisation(db)
    original = (DATA / "chart.csv").read_bytes()
    run(db, organisation, original)
    ids = {key: person.id for key, person in people(db, organisation).items()}

    again = run(db, organisation, original)
    assert (again.created, again.updated, again.unchanged, again.teams_created) == (0, 0, 7, 0)

    changed = original.replace(b"Platform Lead", b"Head of Platform")
    once_more = run(db, organisation, changed)
    assert (once_more.created, once_more.updated, once_more.unchanged) == (0, 1, 6)
    found = people(db, organisation)
    assert found["E3"].title == "Head of Platform"
    assert {key: person.id for key, person in found.items()} == ids
    count = db.scalar(
        select(func.count()).select_from(Person).where(Person.organisation_id == organisation.id)
    )
    assert count == 7
    assert len(import_entries(db)) == 3


def test_reimport_moves_managers_and_teams(db: Session) -> None:
    organisation = make_organisation(db)
    run(db, organisation, chart(person_row("E1"), person_row("E2", "E1"), person_row("E3")))
    result = run(
        db,
        organisation,
        chart(person_row("E1"), person_row("E2", "E3"), person_row("E3", department="Sales")),
    )
    assert (result.updated, result.unchanged) == (2, 1)
    found = people(db, organisation)
    assert found["E2"].manager is found["E3"]
    assert found["E3"].team is not None
    assert found["E3"].team.path == "Sales"


def test_people_missing_from_the_file_are_left_alone(db: Session) -> None:
    organisation = make_organisation(db)
    make_person(db, organisation, "B1")
    run(db, organisation, chart(person_row("E1")))
    assert sorted(people(db, organisation)) == ["B1", "E1"]


def test_objects_loaded_before_the_import_show_the_new_values(db: Session) -> None:
    organisation = make_organisation(db)
    person = make_person(db, organisation, "E1")
    run(db, organisation, chart(person_row("E1", title="Director")))
    assert person.title == "Director"


# Hostile files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\r\n \n", "the file is empty"),
        ((DATA / "windows-1252.csv").read_bytes(), "line 3: the file is not UTF-8 text"),
        ((DATA / "utf16.csv").read_bytes(), "UTF-16"),
        ((DATA / "semicolon.csv").read_bytes(), "separated by ';'"),
        (HEADER.replace(",", "\t").encode(), "separated by tabs"),
        (b"id,name,email\nE1,A,a@example.org\n", "lacks the columns title, department, manager_id"),
        (b"E1,A,a@example.org,T,D,\n", "the header line is missing"),
        (b"id,name,email,title,department,manager_id,Name\n", "names the column 'Name' twice"),
        (b"id,name,email,title,,department,manager_id\n", "column 5 of the header has no name"),
        (chart("E1,A\x00,a@example.org,T,D,"), "line 2: the file contains NUL bytes"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "Excel workbook"),
        (chart('E1,"' + "x" * 200_000 + '",a@example.org,T,D,'), "line 2: a field is longer"),
        (
            chart('E1,"never closed,a@example.org,T,D,', *["E2,B,b@example.org,T,D,"] * 30_000),
            "a field is longer",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "windows-1252",
        "utf-16",
        "semicolons",
        "tabs",
        "missing-columns",
        "no-header",
        "duplicate-column",
        "unnamed-column",
        "nul",
        "xlsx",
        "huge-field",
        "open-quote",
    ],
)
def test_hostile_files_give_a_clear_error(data: bytes, expected: str) -> None:
    with pytest.raises(OrgChartError) as caught:
        parse_org_chart(data)
    assert expected in str(caught.value)


def test_binary_garbage_gives_a_clear_error() -> None:
    garbage = random.Random(7).randbytes(100_000)
    with pytest.raises(OrgChartError, match="not UTF-8 text"):
        parse_org_chart(garbage)


def test_size_and_row_caps() -> None:
    data = chart(*(person_row(f"E{i}") for i in range(50)))
    with pytest.raises(OrgChartError, match="larger than"):
        parse_org_chart(io.BytesIO(data), max_bytes=1000)
    with pytest.raises(OrgChartError, match="more than 10 rows"):
        parse_org_chart(data, max_rows=10)
    assert len(parse_org_chart(data, max_rows=50).rows) == 50


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_random_bytes_raise_nothing_but_org_chart_error(data: bytes) -> None:
    try:
        parsed = parse_org_chart(data)
    except OrgChartError:
        return
    assert isinstance(parsed, ParsedChart)


_cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_cell, min_size=0, max_size=8), max_size=20))
def test_random_cells_under_a_valid_header_raise_nothing_but_org_chart_error(
    cells: list[list[str]],
) -> None:
    buffer = io.StringIO()
    import csv

    csv.writer(buffer).writerows([HEADER.split(","), *cells])
    try:
        parsed = parse_org_chart(buffer.getvalue().encode("utf-8"))
    except OrgChartError:
        return
    from sixfold.org.importer_resolve import resolve

    resolution = resolve(parsed, {})
    assert {row.line for row in resolution.importable}.isdisjoint(
        error.line for error in resolution.errors
    )


# Scale ----------------------------------------------------------------------------------------


def large_chart(size: int) -> bytes:
    """A chart with a reporting tree of span five and 48 teams in 8 departments."""
    rows = [
        f"E{i},Person {i},person{i}@example.org,Engineer {i % 7},"
        f"Department {i % 8}/Team {i % 48},{'' if i == 0 else f'E{(i - 1) // 5}'},"
        f"City {i % 11},CC-{i % 97}"
        for i in range(size)
    ]
    return chart(*rows, header=f"{HEADER},location,cost_centre")


@pytest.mark.slow
def test_fifty_thousand_rows_import_quickly(db: Session) -> None:
    organisation = make_organisation(db)
    data = large_chart(50_000)
    started = time.perf_counter()
    result = run(db, organisation, data)
    first = time.perf_counter() - started
    assert (result.created, result.errors, result.teams_created) == (50_000, (), 56)
    started = time.perf_counter()
    again = run(db, organisation, data)
    second = time.perf_counter() - started
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50_000)
    # Bounds that catch a collapse, not a slow day: alone this takes 7-13 s, but one full
    # clean-clone run on PostgreSQL took 66 s for the first import (cause not found). The
    # benchmark (bench/org_import_bench.py) is where the real figures are recorded.
    assert first < 120
    assert second < 60
    leaf = db.scalars(
        select(Person).where(
            Person.organisation_id == organisation.id, Person.external_id == "E49999"
        )
    ).one()
    assert leaf.manager is not None
    assert leaf.manager.external_id == "E9999"
