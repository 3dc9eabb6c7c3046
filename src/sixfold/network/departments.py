"""Per-department tie statistics and the department × department interaction matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sixfold.network.graph import FloatArray, InteractionLog, TieGraph
from sixfold.network.orgchart import IntArray, OrgChart


@dataclass(frozen=True, slots=True)
class DepartmentStats:
    name: str
    size: int
    internal_ties: int
    external_ties: int
    ei_index: float | None  # (E − I) / (E + I); None without ties
    density: float | None  # internal ties / possible internal pairs; None below 2 people
    top_partners: tuple[tuple[str, int], ...]  # departments with the most ties to this one


@dataclass(frozen=True, slots=True)
class InteractionMatrix:
    """Observed interactions from row department to column department, and the expected
    count if the same volumes were spread without regard to department (row total × column
    total / grand total). A ratio well below 1 is a cold cell: a silo wall."""

    observed: FloatArray
    expected: FloatArray

    @property
    def ratio(self) -> FloatArray:
        return np.divide(
            self.observed, self.expected, out=np.zeros_like(self.observed), where=self.expected > 0
        )


def department_ties(ties: TieGraph, chart: OrgChart) -> IntArray:
    """Tie counts between departments as a symmetric k × k matrix (diagonal: internal)."""
    count = len(chart.departments)
    a, b = chart.department_of[ties.u], chart.department_of[ties.v]
    cells = np.bincount(a * count + b, minlength=count * count).reshape(count, count)
    return np.asarray(cells + cells.T - np.diag(np.diag(cells)), dtype=np.int64)


def department_stats(ties: TieGraph, chart: OrgChart, *, top: int = 3) -> list[DepartmentStats]:
    matrix = department_ties(ties, chart)
    sizes = chart.department_sizes()
    outside = matrix - np.diag(np.diag(matrix))
    # One partial sort for all departments: thousands of departments at 100,000 people.
    keep = min(top, max(len(chart.departments) - 1, 0))
    partners = (
        np.argpartition(-outside, keep, axis=1)[:, :keep]
        if keep
        else np.zeros((len(chart.departments), 0), dtype=np.int64)
    )
    stats = []
    for code, name in enumerate(chart.departments):
        internal = int(matrix[code, code])
        external = int(outside[code].sum())
        pairs = sizes[code] * (sizes[code] - 1) / 2
        ranked = sorted(partners[code].tolist(), key=lambda p: (-outside[code, p], p))
        best = tuple(
            (chart.departments[p], int(outside[code, p])) for p in ranked if outside[code, p] > 0
        )
        stats.append(
            DepartmentStats(
                name,
                int(sizes[code]),
                internal,
                external,
                (external - internal) / (external + internal) if internal + external else None,
                internal / pairs if pairs else None,
                best,
            )
        )
    return stats


def organisation_ei(ties: TieGraph, chart: OrgChart) -> float | None:
    """E–I index of the whole organisation: share of ties that cross departments, rescaled."""
    if len(ties.u) == 0:
        return None
    crossing = chart.department_of[ties.u] != chart.department_of[ties.v]
    return float((crossing.sum() - (~crossing).sum()) / len(crossing))


def interaction_matrix(log: InteractionLog, chart: OrgChart) -> InteractionMatrix:
    count = len(chart.departments)
    a, b = chart.department_of[log.source], chart.department_of[log.target]
    observed = (
        np.bincount(a * count + b, weights=log.weight, minlength=count * count)
        .reshape(count, count)
        .astype(np.float64)
    )
    total = observed.sum()
    expected = np.zeros_like(observed)
    if total:
        expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    return InteractionMatrix(observed, expected)


def breadth(ties: TieGraph, chart: OrgChart) -> IntArray:
    """Distinct departments each person has ties into, their own included."""
    people = np.concatenate([ties.u, ties.v])
    reached = chart.department_of[np.concatenate([ties.v, ties.u])]
    count = max(len(chart.departments), 1)
    unique = np.unique(people * count + reached)
    return np.bincount(unique // count, minlength=ties.size).astype(np.int64)
