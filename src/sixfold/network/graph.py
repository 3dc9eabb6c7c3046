"""From interaction rows to the tie graph that the metrics run on.

A tie joins u and v when the interactions u→v plus v→u in the window reach
`min_interactions`; its weight is that count. Interactions from messages with more than
`broadcast_recipients` distinct recipients are broadcasts: counted, never ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkit as nk
import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from sixfold.network.config import AnalysisConfig
from sixfold.network.orgchart import IntArray, OrgChart

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ResolveStats:
    """What happened to the rows on their way to the tie graph."""

    rows: int
    outside_window: int
    broadcast_messages: int
    broadcast_interactions: int
    unknown_people: int
    self_interactions: int
    unknown_examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InteractionLog:
    """Interactions between known people, as index arrays (no self-interactions)."""

    source: IntArray
    target: IntArray
    timestamp: IntArray
    weight: FloatArray
    stats: ResolveStats


@dataclass(frozen=True, slots=True)
class TieGraph:
    """Undirected ties (u < v) with weights, and the directed interaction counts."""

    size: int
    u: IntArray
    v: IntArray
    weight: FloatArray
    arc_source: IntArray
    arc_target: IntArray
    arc_weight: FloatArray

    def adjacency(self) -> sp.csr_array:
        """Symmetric weighted adjacency matrix of the ties."""
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        data = np.concatenate([self.weight, self.weight])
        return sp.csr_array((data, (rows, cols)), shape=(self.size, self.size))

    def degree(self) -> IntArray:
        return np.bincount(np.concatenate([self.u, self.v]), minlength=self.size).astype(np.int64)

    def networkit(self, *, weighted: bool) -> nk.Graph:
        weights = self.weight if weighted else np.ones(len(self.u))
        return nk.GraphFromCoo(
            (weights, (self.u.astype(np.uint64), self.v.astype(np.uint64))),
            n=self.size,
            directed=False,
            weighted=weighted,
        )


def resolve(frame: pl.DataFrame, chart: OrgChart, config: AnalysisConfig) -> InteractionLog:
    """Keep in-window, non-broadcast interactions between people on the org chart."""
    rows = frame.height
    if config.since is not None:
        frame = frame.filter(pl.col("timestamp") >= config.since)
    if config.until is not None:
        frame = frame.filter(pl.col("timestamp") < config.until)
    outside = rows - frame.height
    frame, messages, broadcast_rows = _drop_broadcasts(frame, config.broadcast_recipients)
    lookup = _lookup(chart)
    joined = frame.join(
        lookup.rename({"key": "source", "index": "s"}), on="source", how="left"
    ).join(lookup.rename({"key": "target", "index": "t"}), on="target", how="left")
    unknown = joined.filter(pl.col("s").is_null() | pl.col("t").is_null())
    examples = (
        pl.concat(
            [
                unknown.filter(pl.col("s").is_null())["source"],
                unknown.filter(pl.col("t").is_null())["target"],
            ]
        )
        .unique(maintain_order=True)
        .head(10)
        .to_list()
    )
    known = joined.filter(pl.col("s").is_not_null() & pl.col("t").is_not_null())
    selfies = known.filter(pl.col("s") == pl.col("t")).height
    known = known.filter(pl.col("s") != pl.col("t"))
    stats = ResolveStats(
        rows, outside, messages, broadcast_rows, unknown.height, selfies, tuple(examples)
    )
    return InteractionLog(
        known["s"].to_numpy().astype(np.int64),
        known["t"].to_numpy().astype(np.int64),
        known["timestamp"].to_numpy().astype(np.int64),
        known["weight"].to_numpy().astype(np.float64),
        stats,
    )


def _drop_broadcasts(frame: pl.DataFrame, limit: int) -> tuple[pl.DataFrame, int, int]:
    fanout = (
        frame.filter(pl.col("message_id").is_not_null())
        .group_by("message_id")
        .agg(pl.col("target").n_unique().alias("recipients"))
        .filter(pl.col("recipients") > limit)
    )
    if fanout.is_empty():
        return frame, 0, 0
    kept = frame.join(fanout.select("message_id"), on="message_id", how="anti", nulls_equal=False)
    return kept, fanout.height, frame.height - kept.height


def _lookup(chart: OrgChart) -> pl.DataFrame:
    """Identifier → person index; ids win over e-mail addresses when both match."""
    ids = pl.DataFrame({"key": chart.ids, "index": np.arange(chart.size)})
    emails = pl.DataFrame(
        {"key": [p.email for p in chart.people], "index": np.arange(chart.size)}
    ).filter(pl.col("key") != "")
    return (
        pl.concat([ids, emails.with_columns(pl.col("key").str.to_lowercase())])
        .unique("key", keep="first", maintain_order=True)
        .with_columns(pl.col("index").cast(pl.Int64))
    )


def build_ties(
    log: InteractionLog,
    size: int,
    min_interactions: float,
    mask: npt.NDArray[np.bool_] | None = None,
) -> TieGraph:
    """Aggregate interactions (optionally a subset) into ties and directed arc weights."""
    source, target, weight = log.source, log.target, log.weight
    if mask is not None:
        source, target, weight = source[mask], target[mask], weight[mask]
    arcs = (
        pl.DataFrame({"s": source, "t": target, "w": weight})
        .group_by("s", "t")
        .agg(pl.col("w").sum())
        .sort("s", "t")
    )
    pairs = (
        arcs.with_columns(u=pl.min_horizontal("s", "t"), v=pl.max_horizontal("s", "t"))
        .group_by("u", "v")
        .agg(pl.col("w").sum())
        .filter(pl.col("w") >= min_interactions)
        .sort("u", "v")
    )
    return TieGraph(
        size,
        pairs["u"].to_numpy(),
        pairs["v"].to_numpy(),
        pairs["w"].to_numpy().astype(np.float64),
        arcs["s"].to_numpy(),
        arcs["t"].to_numpy(),
        arcs["w"].to_numpy().astype(np.float64),
    )
