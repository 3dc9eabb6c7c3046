"""Interactions CSV importer: `timestamp,source,target[,kind][,weight][,message_id]`.

Validation is vectorised with Polars so ten million rows take seconds; each rejected row is
reported with its line number (header = line 1).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from sixfold.network.importers.base import (
    INTERACTION_SCHEMA,
    MAX_LISTED_PROBLEMS,
    ImportAborted,
    ImportLimits,
    ImportProblem,
    InteractionImport,
    check_size,
    to_utf8,
)
from sixfold.network.importers.timestamps import (
    EARLIEST_SECONDS,
    LATEST_SECONDS,
    SUPPORTED_YEARS,
    parse_timestamp_column,
)

REQUIRED = ("timestamp", "source", "target")
OPTIONAL = ("kind", "weight", "message_id")
_REPLACEMENT = "\ufffd"


def load_interactions_csv(path: Path, limits: ImportLimits | None = None) -> InteractionImport:
    limits = limits or ImportLimits()
    check_size(path, limits)
    raw = _read_strings(path)
    raw = raw.rename({name: name.strip().lower() for name in raw.columns})
    missing = [name for name in REQUIRED if name not in raw.columns]
    if missing:
        raise ImportAborted(
            f"{path.name}: missing column(s) {', '.join(missing)}; expected "
            f"{','.join(REQUIRED + OPTIONAL)}"
        )
    raw = raw.with_columns(
        pl.lit(None, pl.String).alias(name) for name in OPTIONAL if name not in raw.columns
    )
    checked = _with_problems(raw, limits).with_row_index("line", offset=2)
    del raw  # the text columns are the largest thing in memory at ten million rows
    bad = checked.filter(pl.col("problem").is_not_null())
    problems = tuple(
        ImportProblem(f"{path.name}:{line}", message)
        for line, message in bad.head(MAX_LISTED_PROBLEMS).select("line", "problem").iter_rows()
    )
    good = checked.filter(pl.col("problem").is_null()).select(list(INTERACTION_SCHEMA))
    return InteractionImport(good.cast(INTERACTION_SCHEMA), problems, bad.height)


def _read_strings(path: Path) -> pl.DataFrame:
    """Every column as text, invalid UTF-8 replaced (and later reported) rather than fatal.

    Eager on purpose: a lazy plan with separate outputs for good and bad rows parsed the file
    twice (15 s instead of 8.5 s at ten million rows) for under 10% less memory.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    source: Path | io.BytesIO = path
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        source = io.BytesIO(to_utf8(path.read_bytes(), path.name))
    try:
        return pl.read_csv(
            source, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
        )
    except pl.exceptions.PolarsError as error:
        raise ImportAborted(f"{path.name}: not a readable CSV file ({error})") from error


def _with_problems(raw: pl.DataFrame, limits: ImportLimits) -> pl.DataFrame:
    ids = [pl.col(name).fill_null("").str.strip_chars() for name in ("source", "target")]
    weight_text = pl.col("weight").str.strip_chars()
    weight = weight_text.cast(pl.Float64, strict=False)
    texts = [pl.col(name).fill_null("") for name in REQUIRED + OPTIONAL]
    problem = (
        pl.when(pl.all_horizontal([text.str.strip_chars() == "" for text in texts]))
        .then(pl.lit("empty line"))
        .when(pl.any_horizontal([text.str.contains(_REPLACEMENT, literal=True) for text in texts]))
        .then(pl.lit("not valid UTF-8"))
        .when(pl.any_horizontal([text.str.len_chars() > limits.max_field_chars for text in texts]))
        .then(pl.lit(f"a field is longer than {limits.max_field_chars} characters"))
        .when(pl.col("timestamp_parsed").is_null())
        .then(pl.lit("timestamp is neither ISO 8601 nor Unix seconds"))
        .when(~pl.col("timestamp_parsed").is_between(EARLIEST_SECONDS, LATEST_SECONDS, "left"))
        .then(pl.lit(f"timestamp is outside the years {SUPPORTED_YEARS}"))
        .when((ids[0] == "") | (ids[1] == ""))
        .then(pl.lit("empty source or target"))
        .when(
            weight_text.is_not_null()
            & (weight_text != "")
            & (weight.is_null() | ~weight.is_finite() | (weight <= 0))
        )
        .then(pl.lit("weight must be a positive number"))
    )
    return raw.with_columns(
        timestamp_parsed=parse_timestamp_column(pl.col("timestamp").fill_null(""))
    ).with_columns(
        problem=problem,
        timestamp=pl.col("timestamp_parsed"),
        source=ids[0],
        target=ids[1],
        kind=pl.col("kind")
        .str.strip_chars()
        .str.to_lowercase()
        .replace("", None)
        .fill_null("interaction"),
        weight=weight.fill_null(1.0),
        message_id=pl.col("message_id").str.strip_chars().replace("", None),
    )
