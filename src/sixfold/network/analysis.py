"""One call that runs the whole analysis: interactions + org chart in, a report object out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sixfold.network.centrality import BetweennessResult, betweenness, pagerank
from sixfold.network.communities import CommunityResult, detect_communities
from sixfold.network.config import AnalysisConfig
from sixfold.network.departments import (
    DepartmentStats,
    InteractionMatrix,
    breadth,
    department_stats,
    interaction_matrix,
    organisation_ei,
)
from sixfold.network.graph import InteractionLog, TieGraph, build_ties, resolve
from sixfold.network.hierarchy import DirectionMix, direction_mix
from sixfold.network.importers.base import ImportProblem
from sixfold.network.orgchart import OrgChart
from sixfold.network.roles import MentorCandidate, PersonMetrics, assign_roles, mentor_candidates
from sixfold.network.runtime import threads_for
from sixfold.network.structural_holes import structural_holes
from sixfold.network.timeline import WindowSummary, timeline

STEPS = (
    "ties",
    "pagerank",
    "structural holes",
    "communities",
    "departments",
    "directions",
    "timeline",
    "betweenness",
    "roles",
)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class NetworkReport:
    chart: OrgChart
    config: AnalysisConfig
    log: InteractionLog
    ties: TieGraph
    metrics: PersonMetrics
    betweenness: BetweennessResult
    roles: list[list[str]]
    communities: CommunityResult
    departments: list[DepartmentStats]
    matrix: InteractionMatrix
    directions: DirectionMix
    organisation_ei: float | None
    mentors: list[MentorCandidate]
    timeline: list[WindowSummary]
    import_problems: tuple[ImportProblem, ...] = ()
    import_problem_count: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def _step(name: str, seconds: dict[str, float], progress: Progress | None) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started
    if progress is not None:
        progress(name)


def _timed_betweenness(ties: TieGraph, config: AnalysisConfig) -> tuple[BetweennessResult, float]:
    started = time.perf_counter()
    return betweenness(ties, config), time.perf_counter() - started


def analyze(
    chart: OrgChart,
    interactions: pl.DataFrame,
    config: AnalysisConfig,
    *,
    progress: Progress | None = None,
    problems: tuple[ImportProblem, ...] = (),
    problem_count: int = 0,
) -> NetworkReport:
    seconds: dict[str, float] = {}
    with _step("ties", seconds, progress):
        log = resolve(interactions, chart, config)
        ties = build_ties(log, chart.size, config.min_interactions)
    # NetworKit releases the GIL, so betweenness — the longest step — runs in a worker thread
    # while the other metrics are computed here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_timed_betweenness, ties, config)
        with _step("pagerank", seconds, progress):
            rank = pagerank(ties)
        with _step("structural holes", seconds, progress):
            constraint, effective = structural_holes(ties)
        with _step("communities", seconds, progress), threads_for(len(ties.u)):
            communities = detect_communities(
                ties, chart.department_of, config.resolutions, config.seed
            )
        with _step("departments", seconds, progress):
            departments = department_stats(ties, chart)
            matrix = interaction_matrix(log, chart)
            org_ei = organisation_ei(ties, chart)
        with _step("directions", seconds, progress):
            directions = direction_mix(ties, chart)
        with _step("timeline", seconds, progress), threads_for(len(ties.u) // 4):
            windows = timeline(log, chart, config, communities.chosen.resolution)
        between, seconds["betweenness"] = pending.result()
        if progress is not None:
            progress("betweenness")
    with _step("roles", seconds, progress):
        received = np.bincount(ties.arc_target, ties.arc_weight, chart.size).astype(np.float64)
        volume = np.bincount(ties.arc_source, ties.arc_weight, chart.size) + received
        metrics = PersonMetrics(
            ties.degree(),
            volume,
            received,
            between.scores,
            rank,
            constraint,
            effective,
            breadth(ties, chart),
        )
        roles = assign_roles(metrics)
        mentors = mentor_candidates(metrics, roles, config.mentor_candidates)
    return NetworkReport(
        chart,
        config,
        log,
        ties,
        metrics,
        between,
        roles,
        communities,
        departments,
        matrix,
        directions,
        org_ei,
        mentors,
        windows,
        problems,
        problem_count,
        seconds,
    )
