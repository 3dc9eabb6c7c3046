"""Reading text files line by line with a ceiling on line length, and CSV record by record.

A file with a multi-gigabyte "line" (no newline at all) would otherwise be loaded whole; here
an over-long line is skipped in fixed-size chunks and reported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from sixfold.network.importers.base import ImportAborted

_CHUNK = 1024 * 1024


def bounded_lines(handle: BinaryIO, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes) per line; bytes is None for a line over the limit."""
    number = 0
    while True:
        line = handle.readline(max_line_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            _skip_to_newline(handle)
            yield number, None
        else:
            yield number, line


def _skip_to_newline(handle: BinaryIO) -> None:
    while chunk := handle.readline(_CHUNK):
        if chunk.endswith(b"\n"):
            return


def csv_records(text: Iterable[str]) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """Yield (line the record starts on, its fields) per CSV record, header included.

    `text` must be opened with newline="". A quoted field may span lines, so the csv module's
    own line count (where a record ends) would name the wrong line; the start is counted
    here. A blank line is a record without fields. A record the csv module refuses (a field
    over its 128 KiB limit, which is also what an unclosed quote runs into) is yielded as its
    error, and reading goes on after it.
    """
    reader = csv.reader(text)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield start, error
            continue
        yield start, fields


def header_names(
    header: list[str] | csv.Error, source: str, required: Sequence[str], optional: Sequence[str]
) -> list[str]:
    """A CSV header's column names, trimmed and lower-cased; ImportAborted, naming `source`,
    when it cannot be read, names a column the importer reads twice, or lacks a required one."""
    if isinstance(header, csv.Error):
        # An unclosed quote in the header swallows the file until the csv module's field limit.
        raise ImportAborted(f"{source}: the header line is not readable CSV ({header})")
    names = [column.strip().lower() for column in header]
    for column in (*required, *optional):
        spelled = [
            original for original, named in zip(header, names, strict=True) if named == column
        ]
        if len(spelled) > 1:
            raise ImportAborted(
                f"{source}: the header names the column {column!r} twice "
                f"({' and '.join(repr(s) for s in spelled)}); keep one"
            )
    missing = [column for column in required if column not in names]
    if missing:
        raise ImportAborted(
            f"{source}: missing column(s) {', '.join(missing)}; expected "
            f"{','.join((*required, *optional))}"
        )
    return names


def extra_fields(fields: list[str], width: int) -> str | None:
    """What is wrong with a record holding more fields than the header names (blank trailing
    ones are harmless), or None."""
    if any(extra.strip() for extra in fields[width:]):
        return f"{len(fields)} fields, but the header has {width}"
    return None
