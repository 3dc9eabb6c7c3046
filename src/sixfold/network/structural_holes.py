"""Burt's constraint and effective size on the undirected weighted tie graph.

The definitions are NetworkX's (`constraint`, `effective_size` with `weight="weight"`):
p_uv = w_uv / Σ_x w_ux, m_vw = w_vw / max_x w_vx,
constraint(u) = Σ_{v∈N(u)} (p_uv + Σ_w p_uw p_wv)²,
effective_size(u) = Σ_{v∈N(u)} (1 − Σ_w p_uw m_vw).
NetworkX builds dense n × n matrices for these; here the two-step products are computed only
on existing ties, a block of rows at a time, so memory stays proportional to the ties. On an
unweighted graph effective size reduces to Borgatti's n − 2t/n.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sixfold.network.graph import FloatArray, TieGraph

# Rows per block: bounds the intermediate two-step product, whose size grows with degree².
_BLOCK_ROWS = 4096


def structural_holes(ties: TieGraph) -> tuple[FloatArray, FloatArray]:
    """(constraint, effective size) per person; NaN for people without ties, as NetworkX."""
    weights = ties.adjacency()
    row_sum = np.asarray(weights.sum(axis=1)).ravel()
    row_max = np.asarray(weights.max(axis=1).toarray()).ravel()
    proportion = _scale_rows(weights, row_sum)
    by_max = _scale_rows(weights, row_max)
    by_max_t = by_max.T.tocsr()
    constraint = np.zeros(ties.size)
    redundancy = np.zeros(ties.size)
    for start in range(0, ties.size, _BLOCK_ROWS):
        block = proportion[start : start + _BLOCK_ROWS]
        mask = (block != 0).astype(np.float64)
        indirect = (block @ proportion).multiply(mask)
        local = (block + indirect).power(2)
        constraint[start : start + _BLOCK_ROWS] = np.asarray(local.sum(axis=1)).ravel()
        shared = (block @ by_max_t).multiply(mask)
        redundancy[start : start + _BLOCK_ROWS] = np.asarray(shared.sum(axis=1)).ravel()
    degree = np.diff(weights.indptr).astype(np.float64)
    isolated = degree == 0
    constraint[isolated] = np.nan
    effective = degree - redundancy
    effective[isolated] = np.nan
    return constraint, effective


def _scale_rows(matrix: sp.csr_array, divisor: FloatArray) -> sp.csr_array:
    scale = np.divide(1.0, divisor, out=np.zeros_like(divisor), where=divisor != 0)
    return sp.csr_array(sp.diags_array(scale) @ matrix)
