"""Betweenness and PageRank, defined exactly as NetworkX defines them.

Betweenness runs on the undirected, unweighted tie graph with NetworkX's normalisation
(2 / ((n-1)(n-2))). It is exact (Brandes, NetworKit) up to `exact_betweenness_limit` people.
Above that it is estimated from random source pivots in independent batches, and the spread
of the batch estimates gives every person a 95% confidence half-width: the stated error bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkit as nk
import numpy as np
import scipy.sparse as sp
from scipy import stats

from sixfold.network.config import AnalysisConfig
from sixfold.network.graph import FloatArray, TieGraph


@dataclass(frozen=True, slots=True)
class BetweennessResult:
    scores: FloatArray
    method: str  # "exact" or "sampled"
    samples: int
    half_width: FloatArray  # 95% confidence half-width per person; zeros when exact

    @property
    def max_error(self) -> float:
        return float(self.half_width.max(initial=0.0))


def betweenness(ties: TieGraph, config: AnalysisConfig) -> BetweennessResult:
    graph = ties.networkit(weighted=False)
    if ties.size <= config.exact_betweenness_limit:
        algorithm = nk.centrality.Betweenness(graph, normalized=True)
        algorithm.run()
        scores = np.asarray(algorithm.scores(), dtype=np.float64)
        return BetweennessResult(scores, "exact", ties.size, np.zeros(ties.size))
    return _sampled_betweenness(graph, config)


def _sampled_betweenness(graph: nk.Graph, config: AnalysisConfig) -> BetweennessResult:
    per_batch = config.betweenness_samples // config.betweenness_batches
    batches = []
    for batch in range(config.betweenness_batches):
        # NetworKit draws pivots from its own generator; a seed per batch makes the batches
        # independent of each other and the whole run reproducible.
        nk.setSeed(config.seed + batch, False)
        algorithm = nk.centrality.EstimateBetweenness(graph, per_batch, True, True)
        algorithm.run()
        batches.append(np.asarray(algorithm.scores(), dtype=np.float64))
    stacked = np.vstack(batches)
    count = len(batches)
    spread = stacked.std(axis=0, ddof=1) / np.sqrt(count)
    half_width = float(stats.t.ppf(0.975, count - 1)) * spread
    return BetweennessResult(stacked.mean(axis=0), "sampled", per_batch * count, half_width)


def pagerank(
    ties: TieGraph, *, damping: float = 0.85, tolerance: float = 1e-10, max_iterations: int = 1000
) -> FloatArray:
    """PageRank on the directed interaction graph weighted by counts, as `networkx.pagerank`.

    Written as SciPy sparse power iteration rather than NetworKit's, because NetworKit treats
    dangling people differently from NetworkX and the contract is NetworkX's definition: a
    dangling person's rank is spread uniformly, as is the teleport.
    """
    size = ties.size
    if size == 0:
        return np.zeros(0)
    matrix = sp.csr_array((ties.arc_weight, (ties.arc_source, ties.arc_target)), shape=(size, size))
    out_weight = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, out_weight, out=np.zeros(size), where=out_weight != 0)
    transition = (sp.diags_array(scale) @ matrix).T.tocsr()
    dangling = out_weight == 0
    rank = np.full(size, 1.0 / size)
    for _ in range(max_iterations):
        previous = rank
        rank = damping * (transition @ rank + rank[dangling].sum() / size) + (1 - damping) / size
        if np.abs(rank - previous).sum() < size * tolerance:
            break
    return np.asarray(rank / rank.sum(), dtype=np.float64)
