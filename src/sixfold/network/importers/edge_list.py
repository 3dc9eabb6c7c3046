"""A labelled edge list (SNAP style): `source target` lines plus `person department` lines.

Research data sets such as email-eu-core come this way: static "who contacted whom" links
with no timestamps, so every interaction is placed at time 0 (analyse with
`min_interactions=1` and one window).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from sixfold.network.orgchart import OrgChart, Person, build_orgchart


def load_labelled_edge_list(
    edges: Path, labels: Path, *, department_prefix: str = "dept-"
) -> tuple[OrgChart, pl.DataFrame]:
    """The org chart from the labels and the interaction table from the edges."""
    pairs = np.loadtxt(edges, dtype=np.int64, ndmin=2)
    people = np.loadtxt(labels, dtype=np.int64, ndmin=2)
    chart = build_orgchart(
        [Person(str(p), "", "", "", f"{department_prefix}{d:02d}", "") for p, d in people]
    )
    frame = pl.DataFrame(
        {
            "timestamp": np.zeros(len(pairs), np.int64),
            "source": pairs[:, 0].astype(str),
            "target": pairs[:, 1].astype(str),
            "kind": "email",
            "weight": 1.0,
            "message_id": None,
        },
        schema_overrides={"message_id": pl.String},
    )
    return chart, frame
