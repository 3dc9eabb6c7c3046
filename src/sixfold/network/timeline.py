"""The same measures per time window, and what changed from one window to the next.

Changes between consecutive windows:
- churn: ties formed plus ties dissolved, over the ties present in either window;
- new bridges: pairs of departments linked by a tie now and by none before;
- became isolated: people with ties before and none now;
- silos formed: departments (of at least the minimum group size) whose E–I index is now −0.5
  or below (three internal ties or more for each external one) and at least 0.25 below their
  own average over the earlier windows, reported in the first window where that holds; the
  drop is required so that a department hovering near the line does not "form a silo" every
  other month;
- communities split or merged: a community is split when at least two of the next window's
  communities each take ≥ 25% of its members; merged is the same rule read backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sixfold.network.communities import louvain, modularity
from sixfold.network.config import AnalysisConfig
from sixfold.network.departments import department_ties, organisation_ei
from sixfold.network.graph import FloatArray, InteractionLog, TieGraph, build_ties
from sixfold.network.orgchart import IntArray, OrgChart

SILO_EI = -0.5
SILO_DROP = 0.25
SHARE_FOR_SPLIT = 0.25
DAY = 86_400
BRIDGE_EXAMPLES = 20


@dataclass(frozen=True, slots=True)
class WindowSummary:
    start: int
    end: int
    interactions: int
    active_people: int
    ties: int
    organisation_ei: float | None
    department_modularity: float
    communities: int
    formed: int = 0
    dissolved: int = 0
    churn: float | None = None
    new_bridges: int = 0
    bridge_examples: tuple[tuple[str, str], ...] = ()
    became_isolated: int = 0
    silos_formed: tuple[str, ...] = ()
    communities_split: int = 0
    communities_merged: int = 0


@dataclass(frozen=True, slots=True)
class _Window:
    ties: TieGraph
    labels: IntArray
    ei: FloatArray  # per department; NaN without ties or below the minimum group size


def timeline(
    log: InteractionLog, chart: OrgChart, config: AnalysisConfig, resolution: float
) -> list[WindowSummary]:
    if len(log.timestamp) == 0:
        return []
    first, last = int(log.timestamp.min()), int(log.timestamp.max())
    first -= first % DAY  # windows start at midnight UTC, so they read as dates
    length, step = config.window_days * DAY, config.window_step_days * DAY
    summaries: list[WindowSummary] = []
    previous: _Window | None = None
    history: list[FloatArray] = []
    siloed = np.zeros(len(chart.departments), dtype=bool)
    # Only whole windows: a final stub of a few days would read as a collapse of the network.
    # Data shorter than one window gives one (partial) window.
    starts = range(first, max(first, last + 1 - length) + 1, step)
    for start in starts:
        mask = (log.timestamp >= start) & (log.timestamp < start + length)
        current, summary = _measure(log, chart, config, resolution, mask, (start, length))
        if previous is not None:
            now_siloed = _siloed(np.vstack(history), current.ei)
            formed = tuple(chart.departments[d] for d in np.flatnonzero(now_siloed & ~siloed))
            summary = _compare(previous, current, chart, summary, formed)
            siloed = now_siloed
        summaries.append(summary)
        history.append(current.ei)
        previous = current
    return summaries


def _measure(
    log: InteractionLog,
    chart: OrgChart,
    config: AnalysisConfig,
    resolution: float,
    mask: npt.NDArray[np.bool_],
    span: tuple[int, int],
) -> tuple[_Window, WindowSummary]:
    ties = build_ties(log, chart.size, config.min_interactions, mask)
    labels = louvain(ties, resolution, config.seed)
    degree = ties.degree()
    sizes = np.bincount(labels[degree > 0]) if (degree > 0).any() else np.zeros(0)
    window = _Window(ties, np.where(degree > 0, labels, -1), _department_ei(ties, chart, config))
    summary = WindowSummary(
        span[0],
        span[0] + span[1],
        int(mask.sum()),
        int((degree > 0).sum()),
        len(ties.u),
        organisation_ei(ties, chart),
        modularity(ties, chart.department_of),
        int((sizes >= 2).sum()),
    )
    return window, summary


def _department_ei(ties: TieGraph, chart: OrgChart, config: AnalysisConfig) -> FloatArray:
    matrix = department_ties(ties, chart)
    internal = np.diag(matrix).astype(np.float64)
    external = matrix.sum(axis=1) - internal
    total = internal + external
    shown = (total > 0) & (chart.department_sizes() >= config.min_group_size)
    ei = np.divide(external - internal, total, out=np.full_like(total, np.nan), where=shown)
    return np.asarray(ei, dtype=np.float64)


def _siloed(earlier: FloatArray, now: FloatArray) -> npt.NDArray[np.bool_]:
    """Departments now inward-looking and well below their own earlier average."""
    seen = ~np.isnan(earlier)
    counts = seen.sum(axis=0)
    baseline = np.divide(
        np.where(seen, earlier, 0.0).sum(axis=0),
        counts,
        out=np.full(len(now), np.nan),
        where=counts > 0,
    )
    with np.errstate(invalid="ignore"):  # NaN compares False: no ties, no silo
        return np.asarray((now <= SILO_EI) & (baseline - now >= SILO_DROP))


def _compare(
    before: _Window,
    after: _Window,
    chart: OrgChart,
    summary: WindowSummary,
    silos_formed: tuple[str, ...],
) -> WindowSummary:
    old = set(zip(before.ties.u.tolist(), before.ties.v.tolist(), strict=True))
    new = set(zip(after.ties.u.tolist(), after.ties.v.tolist(), strict=True))
    union = len(old | new)
    formed, dissolved = len(new - old), len(old - new)
    had = before.ties.degree() > 0
    has = after.ties.degree() > 0
    return WindowSummary(
        summary.start,
        summary.end,
        summary.interactions,
        summary.active_people,
        summary.ties,
        summary.organisation_ei,
        summary.department_modularity,
        summary.communities,
        formed,
        dissolved,
        (formed + dissolved) / union if union else None,
        *_new_bridges(before.ties, after.ties, chart),
        int((had & ~has).sum()),
        silos_formed,
        _splits(before.labels, after.labels),
        _splits(after.labels, before.labels),
    )


def _new_bridges(
    before: TieGraph, after: TieGraph, chart: OrgChart
) -> tuple[int, tuple[tuple[str, str], ...]]:
    """How many department pairs are newly linked, with the first few by name."""
    linked_before = department_ties(before, chart) > 0
    linked_after = department_ties(after, chart) > 0
    rows, cols = np.nonzero(np.triu(linked_after & ~linked_before, k=1))
    examples = tuple(
        (chart.departments[a], chart.departments[b])
        for a, b in zip(
            rows[:BRIDGE_EXAMPLES].tolist(), cols[:BRIDGE_EXAMPLES].tolist(), strict=True
        )
    )
    return len(rows), examples


def _splits(first: IntArray, second: IntArray) -> int:
    """Communities of `first` whose members now sit in ≥ 2 communities of `second` (≥ 25% each)."""
    both = (first >= 0) & (second >= 0)
    if not both.any():
        return 0
    a, b = first[both], second[both]
    width = int(b.max()) + 1
    codes, counts = np.unique(a * width + b, return_counts=True)
    sizes = np.bincount(a)
    share = counts / sizes[codes // width]
    big = (share >= SHARE_FOR_SPLIT) & (sizes[codes // width] >= 3)
    pieces = np.bincount((codes // width)[big], minlength=len(sizes))
    return int((pieces >= 2).sum())
