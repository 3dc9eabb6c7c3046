"""The mix of directions: each interaction classified through the reporting tree.

For an interaction u → v: "up" when v is above u in u's chain of managers, "down" when v is
below u, "peer" when they share a manager, "lateral" when otherwise in the same department,
"cross-department" otherwise. Reporting distance is the number of reporting lines on the path
between them through their lowest common manager (undefined across separate trees).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sixfold.network.graph import TieGraph
from sixfold.network.orgchart import IntArray, OrgChart

DIRECTIONS = ("up", "down", "peer", "lateral", "cross_department")


@dataclass(frozen=True, slots=True)
class DirectionMix:
    shares: dict[str, float]  # by interaction count; sums to 1 when there are interactions
    vertical_share: float  # up + down
    mean_reporting_distance: float | None


class _Ancestry:
    """Binary-lifting tables over the reporting forest; index `size` is a virtual root."""

    def __init__(self, manager_of: IntArray) -> None:
        size = len(manager_of)
        parent = np.where(manager_of >= 0, manager_of, size).astype(np.int64)
        parent = np.append(parent, size)
        self.root = size
        self.jumps = [parent]
        for _ in range(max(1, int(np.ceil(np.log2(size + 2))))):
            self.jumps.append(self.jumps[-1][self.jumps[-1]])
        self.depth = self._depths()

    def _depths(self) -> IntArray:
        node = np.arange(len(self.jumps[0]))
        depth = np.zeros(len(node), dtype=np.int64)
        for level in range(len(self.jumps) - 1, -1, -1):
            step = self.jumps[level][node]
            move = step != self.root
            node = np.where(move, step, node)
            depth += move.astype(np.int64) << level
        depth[: self.root] += 1
        depth[self.root] = 0
        return depth

    def lowest_common(self, a: IntArray, b: IntArray) -> IntArray:
        a, b = a.copy(), b.copy()
        swap = self.depth[a] < self.depth[b]
        a[swap], b[swap] = b[swap], a[swap]
        gap = self.depth[a] - self.depth[b]
        for level, table in enumerate(self.jumps):
            a = np.where(((gap >> level) & 1) == 1, table[a], a)
        for table in reversed(self.jumps):
            differ = table[a] != table[b]
            a, b = np.where(differ, table[a], a), np.where(differ, table[b], b)
        return np.where(a == b, a, self.jumps[0][a])


def direction_mix(ties: TieGraph, chart: OrgChart) -> DirectionMix:
    """Shares of interactions by direction, computed once per directed pair of people."""
    source, target, weight = ties.arc_source, ties.arc_target, ties.arc_weight
    total = float(weight.sum())
    if total == 0:
        return DirectionMix(dict.fromkeys(DIRECTIONS, 0.0), 0.0, None)
    ancestry = _Ancestry(chart.manager_of)
    common = ancestry.lowest_common(source, target)
    manager = chart.manager_of
    kinds = np.select(
        [
            common == target,
            common == source,
            (manager[source] == manager[target]) & (manager[source] >= 0),
            chart.department_of[source] == chart.department_of[target],
        ],
        [0, 1, 2, 3],
        default=4,
    )
    shares = np.bincount(kinds, weights=weight, minlength=5) / total
    connected = common != ancestry.root
    distance = ancestry.depth[source] + ancestry.depth[target] - 2 * ancestry.depth[common]
    mean = (
        float(np.average(distance[connected], weights=weight[connected]))
        if connected.any()
        else None
    )
    mix = {name: float(share) for name, share in zip(DIRECTIONS, shares, strict=True)}
    return DirectionMix(mix, mix["up"] + mix["down"], mean)
