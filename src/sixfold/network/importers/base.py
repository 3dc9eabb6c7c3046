"""Shared pieces of every importer: the interaction table, problems with locations, limits.

Importers never raise on a bad row: they collect an :class:`ImportProblem` with the place it
happened and carry on, so one stray line in a million does not lose an import. They raise
:class:`ImportAborted` only when the file as a whole cannot be trusted (a zip bomb, a file that
is not what it claims to be), and that error says why.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import polars as pl

# The one shape every importer produces. Content never enters it: only who, whom, when, how.
INTERACTION_SCHEMA: Final = pl.Schema(
    {
        "timestamp": pl.Int64,  # Unix seconds, UTC
        "source": pl.String,
        "target": pl.String,
        "kind": pl.String,
        "weight": pl.Float64,
        "message_id": pl.String,
    }
)

# Problems beyond this many are counted, not listed: a file with a million bad rows should
# produce a readable report, not a million-line one.
MAX_LISTED_PROBLEMS: Final = 200


class ImportAborted(Exception):
    """The whole source was refused; the message says why."""


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Ceilings that keep a hostile or broken file from exhausting memory or time."""

    max_file_bytes: int = 8 * 1024**3
    max_line_bytes: int = 1024 * 1024
    max_field_chars: int = 512
    max_zip_members: int = 200_000
    max_member_bytes: int = 256 * 1024**2
    max_total_unzipped_bytes: int = 4 * 1024**3
    max_compression_ratio: float = 200.0
    max_header_bytes: int = 256 * 1024


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A row or record that was skipped (or repaired), and where it was."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(slots=True)
class ProblemLog:
    """Collects problems, listing the first few hundred and counting the rest."""

    source: str
    listed: list[ImportProblem] = field(default_factory=list)
    total: int = 0

    def add(self, where: str | int, message: str) -> None:
        self.total += 1
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            location = f"{self.source}:{where}" if isinstance(where, int) else where
            self.listed.append(ImportProblem(location, message))


@dataclass(frozen=True, slots=True)
class InteractionImport:
    """Interactions read from one source, with what was skipped and why."""

    frame: pl.DataFrame
    problems: tuple[ImportProblem, ...]
    problem_count: int

    @classmethod
    def from_rows(
        cls, rows: list[tuple[int, str, str, str, float, str | None]], log: ProblemLog
    ) -> InteractionImport:
        frame = pl.DataFrame(rows, schema=INTERACTION_SCHEMA, orient="row")
        return cls(frame, tuple(log.listed), log.total)


def empty_interactions() -> pl.DataFrame:
    return pl.DataFrame(schema=INTERACTION_SCHEMA)


def check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ImportAborted(
            f"{path.name} is {size} bytes, above the limit of {limits.max_file_bytes}"
        )


def to_utf8(data: bytes, name: str) -> bytes:
    """Return UTF-8 bytes without a BOM; UTF-16 files (which spreadsheets export) are converted.

    Anything else is passed through unchanged: invalid UTF-8 is then reported row by row,
    which tells the user where the damage is instead of refusing the whole file.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as error:
            raise ImportAborted(f"{name} claims to be UTF-16 but is not: {error}") from error
    return data
