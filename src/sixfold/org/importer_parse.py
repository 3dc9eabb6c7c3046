"""Reading an org-chart CSV file: decoding, the header and the checks each row can pass alone.

Nothing here touches the database. Checks that need the organisation's existing people
(unknown managers, reporting cycles through people already imported, e-mail addresses
held by someone else) live in `importer_resolve`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from sixfold.org.models import MAX_TEAM_DEPTH

REQUIRED_COLUMNS = ("id", "name", "email", "title", "department", "manager_id")
LOCATION_COLUMN = "location"

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 250_000

# Longest accepted value per column, matching the column sizes in `org.models`.
MAX_CHARS = {
    "id": 200,
    "name": 300,
    "email": 320,
    "title": 300,
    "department": 1000,
    "manager_id": 200,
    LOCATION_COLUMN: 300,
}
MAX_TEAM_NAME_CHARS = 200
MAX_ATTRIBUTE_CHARS = 2000
MUST_NOT_BE_EMPTY = ("id", "name", "email")

# Line breaks, tabs and other control characters make no sense in a name or an id and
# usually mean a quote was left open; free-text extra columns may hold line breaks.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(rf"[^@\s\"(),:;<>\[\]\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
_OTHER_DELIMITERS = (";", "\t", "|")
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old-style Excel (.xls) workbook",
    b"%PDF": "a PDF document",
}
_UTF16_32_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
_SAVE_AS_CSV = "save it from your spreadsheet as 'CSV UTF-8 (comma delimited)'"


@dataclass(frozen=True)
class RowError:
    """One problem with one line of the file; `column` is None when the whole row is at fault."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class OrgChartError(ValueError):
    """The file as a whole cannot be read as an org chart (the only error parsing raises)."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


@dataclass(frozen=True)
class ChartRow:
    """One data row, normalised; `department` is a clean slash-joined path or ""."""

    line: int
    external_id: str
    name: str
    email: str
    title: str
    department: str
    manager_id: str
    location: str | None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedChart:
    """Every data row of the file and every problem found without the database."""

    rows: tuple[ChartRow, ...]
    errors: tuple[RowError, ...]
    extra_columns: tuple[str, ...]
    has_location: bool

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_org_chart(
    data: bytes | BinaryIO,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ParsedChart:
    """Read and check an org chart; raise `OrgChartError` only when the file is unreadable."""
    text = _decode(_read_capped(data, max_bytes))
    records = _records(text)
    header_line, header = _first_record(records)
    columns = _Columns.from_header(header, header_line)
    rows: list[ChartRow] = []
    errors: list[RowError] = []
    for line, fields in records:
        if not any(value.strip() for value in fields):
            continue  # blank lines and rows of empty cells, as spreadsheets leave at the end
        if len(rows) >= max_rows:
            raise OrgChartError(f"the file has more than {max_rows:,} rows; split it")
        row, row_errors = columns.read_row(line, fields)
        rows.append(row)
        errors.extend(row_errors)
    errors.extend(_duplicates(rows))
    errors.sort(key=lambda error: error.line)
    return ParsedChart(tuple(rows), tuple(errors), columns.extras, columns.has_location)


def _read_capped(data: bytes | BinaryIO, max_bytes: int) -> bytes:
    raw = data if isinstance(data, bytes | bytearray) else data.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise OrgChartError(
            f"the file is larger than {max_bytes / 1024 / 1024:.0f} MiB; split it into parts"
        )
    return bytes(raw)


def _decode(raw: bytes) -> str:
    for signature, kind in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise OrgChartError(f"this is {kind}, not a CSV file; {_SAVE_AS_CSV}")
    if raw.startswith(_UTF16_32_BOMS):
        raise OrgChartError(f"the file is UTF-16 or UTF-32 text; {_SAVE_AS_CSV}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        raise OrgChartError(
            f"the file is not UTF-8 text (byte 0x{byte:02X} cannot be read; the file was "
            f"probably saved as Windows-1252 or Latin-1); {_SAVE_AS_CSV}",
            line=line,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise OrgChartError(
            f"the file contains NUL bytes, so it is binary rather than text; {_SAVE_AS_CSV}",
            line=text.count("\n", 0, nul) + 1,
        )
    if not text.strip():
        raise OrgChartError("the file is empty")
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield each record with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise OrgChartError(_csv_problem(exc), line=start) from None
        yield start, fields
        start = reader.line_num + 1


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        limit = csv.field_size_limit()
        return (
            f"a field is longer than {limit:,} characters, which no org chart needs; "
            "check for a quote that is never closed"
        )
    return f"the line cannot be read as CSV ({exc})"


def _first_record(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    for line, fields in records:
        if any(value.strip() for value in fields):
            return line, fields
    raise OrgChartError("the file has no header line")


@dataclass(frozen=True)
class _Columns:
    """Where each column sits in a row, read from the header."""

    width: int
    required: dict[str, int]
    location: int | None
    extra: tuple[tuple[str, int], ...]

    @property
    def extras(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.extra)

    @property
    def has_location(self) -> bool:
        return self.location is not None

    @classmethod
    def from_header(cls, header: list[str], line: int) -> _Columns:
        names = [name.strip() for name in header]
        keys = [name.casefold() for name in names]
        _check_header(names, keys, line)
        required = {name: keys.index(name) for name in REQUIRED_COLUMNS}
        location = keys.index(LOCATION_COLUMN) if LOCATION_COLUMN in keys else None
        known = {*required.values(), location}
        extra = tuple((name, i) for i, name in enumerate(names) if i not in known)
        return cls(len(names), required, location, extra)

    def read_row(self, line: int, fields: list[str]) -> tuple[ChartRow, list[RowError]]:
        count = len(fields)
        fields = (fields + [""] * self.width)[: self.width]
        values = {name: fields[i].strip() for name, i in self.required.items()}
        location = fields[self.location].strip() if self.location is not None else None
        attributes = {name: fields[i].strip() for name, i in self.extra}
        department, department_error = _team_path(values["department"])
        row = ChartRow(
            line=line,
            external_id=values["id"],
            name=values["name"],
            email=values["email"],
            title=values["title"],
            department=department,
            manager_id=values["manager_id"],
            location=location,
            attributes=attributes,
        )
        if count != self.width:
            # The values may sit in the wrong columns, so checking them would only add noise.
            reason = (
                f"has {count} fields but the header has {self.width}; "
                "a value containing a comma must be in double quotes"
            )
            return row, [RowError(line, None, reason)]
        errors = list(_field_errors(line, values, location, attributes))
        if department_error:
            errors.append(RowError(line, "department", department_error))
        if values["manager_id"] and values["manager_id"] == values["id"]:
            reason = f"{_shown(values['id'])} is listed as their own manager"
            errors.append(RowError(line, "manager_id", reason))
        return row, errors


def _check_delimiter(names: list[str], line: int) -> None:
    if len(names) != 1:
        return
    for delimiter in _OTHER_DELIMITERS:
        if delimiter in names[0]:
            shown = "tabs" if delimiter == "\t" else f"'{delimiter}'"
            raise OrgChartError(
                f"the columns are separated by {shown}, but the file must be "
                f"comma-separated; {_SAVE_AS_CSV}",
                line=line,
            )


def _check_header(names: list[str], keys: list[str], line: int) -> None:
    _check_delimiter(names, line)
    missing = [name for name in REQUIRED_COLUMNS if name not in keys]
    if missing:
        looks_like_data = any("@" in name for name in names)
        hint = (
            " (the first line looks like data: the header line is missing)"
            if looks_like_data
            else ""
        )
        raise OrgChartError(
            f"the header lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{hint}; it must name id, name, email, title, department "
            "and manager_id",
            line=line,
        )
    for position, name in enumerate(names, start=1):
        if not name:
            raise OrgChartError(
                f"column {position} of the header has no name; name it or delete the column",
                line=line,
            )
        if _CONTROL_IN_LINE.search(name) or len(name) > 100:
            raise OrgChartError(f"column {position} of the header is not a usable name", line=line)
    seen: set[str] = set()
    for name, key in zip(names, keys, strict=True):
        if key in seen:
            raise OrgChartError(f"the header names the column '{name}' twice", line=line)
        seen.add(key)


def _field_errors(
    line: int, values: dict[str, str], location: str | None, attributes: dict[str, str]
) -> Iterator[RowError]:
    for column in MUST_NOT_BE_EMPTY:
        if not values[column]:
            yield RowError(line, column, f"{column} is empty")
    checked = dict(values) if location is None else {**values, LOCATION_COLUMN: location}
    for column, value in checked.items():
        if len(value) > MAX_CHARS[column]:
            yield RowError(
                line,
                column,
                f"{column} is {len(value):,} characters long; at most "
                f"{MAX_CHARS[column]:,} are allowed",
            )
        elif _CONTROL_IN_LINE.search(value):
            yield RowError(
                line, column, f"{column} contains a line break or another control character"
            )
    email = values["email"]
    if email and len(email) <= MAX_CHARS["email"] and not _EMAIL.fullmatch(email):
        yield RowError(line, "email", f"email {_shown(email)} is not a valid e-mail address")
    for name, value in attributes.items():
        if len(value) > MAX_ATTRIBUTE_CHARS:
            yield RowError(
                line,
                name,
                f"{name} is {len(value):,} characters long; at most "
                f"{MAX_ATTRIBUTE_CHARS:,} are allowed",
            )
        elif _CONTROL_IN_TEXT.search(value):
            yield RowError(line, name, f"{name} contains a control character")


def _team_path(department: str) -> tuple[str, str]:
    """The department as a clean path ("Engineering / Platform" -> "Engineering/Platform")."""
    if not department:
        return "", ""
    parts = [part.strip() for part in department.split("/")]
    if not all(parts):
        return "", (
            f"department {_shown(department)} has an empty part; write teams as 'Parent/Child'"
        )
    if any(len(part) > MAX_TEAM_NAME_CHARS for part in parts):
        return "", f"a team name in department is longer than {MAX_TEAM_NAME_CHARS} characters"
    if len(parts) > MAX_TEAM_DEPTH:
        return "", (
            f"department has {len(parts)} levels of teams; at most {MAX_TEAM_DEPTH} are allowed"
        )
    return "/".join(parts), ""


def _duplicates(rows: list[ChartRow]) -> Iterator[RowError]:
    """Later rows repeating an id or an e-mail address of an earlier row."""
    first_id: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for row in rows:
        if row.external_id:
            earlier = first_id.setdefault(row.external_id, row.line)
            if earlier != row.line:
                yield RowError(
                    row.line, "id", f"id {_shown(row.external_id)} is also on line {earlier}"
                )
        if row.email:
            earlier = first_email.setdefault(row.email.casefold(), row.line)
            if earlier != row.line:
                yield RowError(
                    row.line, "email", f"email {_shown(row.email)} is also on line {earlier}"
                )


def _shown(value: str, limit: int = 60) -> str:
    """A value quoted for a message, cut short so that a hostile value cannot flood it."""
    cut = value if len(value) <= limit else value[: limit - 1] + "…"
    return "'" + _CONTROL_IN_LINE.sub("?", cut) + "'"
