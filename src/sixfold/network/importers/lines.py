"""Reading text files line by line with a ceiling on line length.

A file with a multi-gigabyte "line" (no newline at all) would otherwise be loaded whole; here
an over-long line is skipped in fixed-size chunks and reported.
"""

from __future__ import annotations

from collections.abc import Iterator
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
