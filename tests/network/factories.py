"""Factories for network analysis test data (importable by name from the tests)."""

from __future__ import annotations

import numpy as np
import polars as pl

from sixfold.network.importers.base import INTERACTION_SCHEMA
from sixfold.network.orgchart import OrgChart, Person, build_orgchart


def make_chart(rows: list[tuple[str, str, str]]) -> OrgChart:
    """Factory: (id, department, manager id) rows to an org chart."""
    return build_orgchart(
        [
            Person(pid, pid.upper(), f"{pid}@example.org", "", dept, manager)
            for pid, dept, manager in rows
        ]
    )


def make_interactions(
    rows: list[tuple[str, str]] | list[tuple[str, str, int]], *, message_id: str | None = None
) -> pl.DataFrame:
    """Factory: (source, target[, timestamp]) rows to an interaction table."""
    records = [
        (r[2] if len(r) > 2 else 0, r[0], r[1], "email", 1.0, message_id)  # type: ignore[misc]
        for r in rows
    ]
    return pl.DataFrame(records, schema=INTERACTION_SCHEMA, orient="row")


def random_interactions(people: int, count: int, seed: int) -> tuple[OrgChart, pl.DataFrame]:
    """A small random organisation: 4 departments, a two-level tree, random interactions."""
    rng = np.random.default_rng(seed)
    rows = [(f"u{i}", f"d{i % 4}", "" if i < 4 else f"u{i % 4}") for i in range(people)]
    chart = make_chart(rows)
    source, target = rng.integers(0, people, count), rng.integers(0, people, count)
    pairs = [
        (f"u{a}", f"u{b}", int(t))
        for a, b, t in zip(source, target, rng.integers(0, 10**6, count), strict=True)
    ]
    return chart, make_interactions(pairs)
