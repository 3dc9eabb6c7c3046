"""Reading text files line by line with a ceiling on line length, and CSV record by record.

A file with a multi-gigabyte "line" (no newline at all) would otherwise be loaded whole; here
an over-long line is skipped in fixed-size chunks and reported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import BinaryIO

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
