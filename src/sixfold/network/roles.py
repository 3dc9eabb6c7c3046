"""Roles a leader understands, each decided by a rule written down here, and mentor candidates.

Percentiles are taken among people with at least one tie, so a large silent population does
not make everyone else look exceptional.

- broker: betweenness in the top 10%, constraint at or below the median, ties to ≥ 3
  departments (their own included): they bridge groups that would otherwise not talk.
- central connector: degree in the top 10% and at least 5 ties: the people many others rely on.
- peripheral: one or two ties.
- isolated: no tie at all in the window.
- overloaded: interaction volume (sent + received) in the top 5% and at least three times the
  median: the people who are likely to become bottlenecks or burn out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sixfold.network.graph import FloatArray
from sixfold.network.orgchart import IntArray

BROKER_BREADTH = 3
TOP_SHARE = 0.10
OVERLOAD_SHARE = 0.05
OVERLOAD_MULTIPLE = 3.0
CONNECTOR_MIN_TIES = 5


@dataclass(frozen=True, slots=True)
class PersonMetrics:
    degree: IntArray
    volume: FloatArray  # interactions sent + received
    in_volume: FloatArray
    betweenness: FloatArray
    pagerank: FloatArray
    constraint: FloatArray
    effective_size: FloatArray
    breadth: IntArray


@dataclass(frozen=True, slots=True)
class MentorCandidate:
    index: int
    score: float
    reasons: tuple[str, ...]


def percentile_rank(values: FloatArray | IntArray, among: npt.NDArray[np.bool_]) -> FloatArray:
    """Share of the people in `among` whose value is at or below each person's value."""
    reference = np.sort(np.asarray(values, dtype=np.float64)[among])
    if len(reference) == 0:
        return np.zeros(len(values))
    ranks = np.searchsorted(reference, np.asarray(values, dtype=np.float64), side="right")
    return np.asarray(ranks / len(reference), dtype=np.float64)


def assign_roles(metrics: PersonMetrics) -> list[list[str]]:
    connected = metrics.degree > 0
    between = percentile_rank(metrics.betweenness, connected)
    degree = percentile_rank(metrics.degree, connected)
    volume = percentile_rank(metrics.volume, connected)
    constraint = np.nan_to_num(metrics.constraint, nan=1.0)
    median_constraint = float(np.median(constraint[connected])) if connected.any() else 0.0
    median_volume = float(np.median(metrics.volume[connected])) if connected.any() else 0.0
    rules = {
        "broker": connected
        & (between > 1 - TOP_SHARE)
        & (constraint <= median_constraint)
        & (metrics.breadth >= BROKER_BREADTH),
        "central_connector": (degree > 1 - TOP_SHARE) & (metrics.degree >= CONNECTOR_MIN_TIES),
        "peripheral": (metrics.degree >= 1) & (metrics.degree <= 2),
        "isolated": ~connected,
        "overloaded": connected
        & (volume > 1 - OVERLOAD_SHARE)
        & (metrics.volume >= OVERLOAD_MULTIPLE * median_volume),
    }
    roles: list[list[str]] = [[] for _ in range(len(metrics.degree))]
    for name, chosen in rules.items():
        for index in np.flatnonzero(chosen):
            roles[index].append(name)
    return roles


def mentor_candidates(
    metrics: PersonMetrics, roles: list[list[str]], limit: int
) -> list[MentorCandidate]:
    """Ranked people who reach across the organisation and are heard, but are not swamped.

    Score: the mean of four percentile ranks — betweenness, PageRank, breadth and openness
    (1 − constraint). Isolated, peripheral and overloaded people are left out: a mentor needs
    reach, and an overloaded person should not be handed more.
    """
    connected = metrics.degree > 0
    parts = {
        "between": percentile_rank(metrics.betweenness, connected),
        "pagerank": percentile_rank(metrics.pagerank, connected),
        "breadth": percentile_rank(metrics.breadth, connected),
        "open": percentile_rank(-np.nan_to_num(metrics.constraint, nan=1.0), connected),
    }
    score = np.mean(np.vstack(list(parts.values())), axis=0)
    excluded = {"isolated", "peripheral", "overloaded"}
    eligible = [
        i
        for i in np.argsort(-score, kind="stable")
        if connected[i] and not excluded & set(roles[i])
    ]
    return [
        MentorCandidate(int(i), float(score[i]), _reasons(int(i), metrics, parts))
        for i in eligible[:limit]
    ]


def _reasons(index: int, metrics: PersonMetrics, parts: dict[str, FloatArray]) -> tuple[str, ...]:
    def top(share: float) -> str:
        return f"top {max(1, round(100 * (1 - share)))}%"

    reasons = [f"ties into {metrics.breadth[index]} departments ({top(parts['breadth'][index])})"]
    if parts["between"][index] >= 0.75:
        reasons.append(
            f"bridges otherwise separate people: betweenness {top(parts['between'][index])}"
        )
    if parts["pagerank"][index] >= 0.75:
        reasons.append(
            f"sought out by well-connected colleagues: PageRank {top(parts['pagerank'][index])}"
        )
    if parts["open"][index] >= 0.75:
        reasons.append(
            f"open network: constraint {metrics.constraint[index]:.2f}, lower than "
            f"{min(99, round(100 * parts['open'][index]))}% of people"
        )
    reasons.append("not overloaded")
    return tuple(reasons)
