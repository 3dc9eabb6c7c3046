"""The metric definitions of docs/network.md, checked against NetworkX on small graphs."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from sixfold.network.analysis import analyze
from sixfold.network.centrality import betweenness, pagerank
from sixfold.network.communities import (
    adjusted_rand_index,
    modularity,
    normalized_mutual_information,
)
from sixfold.network.config import AnalysisConfig
from sixfold.network.departments import breadth, organisation_ei
from sixfold.network.graph import TieGraph, build_ties, resolve
from sixfold.network.structural_holes import structural_holes
from tests.network.factories import make_chart, make_interactions, random_interactions

SEEDS = [1, 2, 3, 4]


def _ties(seed: int, min_interactions: float = 2) -> tuple[TieGraph, nx.Graph, nx.DiGraph]:
    chart, frame = random_interactions(40, 400, seed)
    log = resolve(frame, chart, AnalysisConfig())
    ties = build_ties(log, chart.size, min_interactions)
    graph = nx.Graph()
    graph.add_nodes_from(range(chart.size))
    graph.add_weighted_edges_from(
        zip(ties.u.tolist(), ties.v.tolist(), ties.weight.tolist(), strict=True)
    )
    directed = nx.DiGraph()
    directed.add_nodes_from(range(chart.size))
    directed.add_weighted_edges_from(
        zip(
            ties.arc_source.tolist(),
            ties.arc_target.tolist(),
            ties.arc_weight.tolist(),
            strict=True,
        )
    )
    return ties, graph, directed


def _as_array(values: dict[int, float], size: int) -> np.ndarray:
    return np.array([values[i] for i in range(size)], dtype=np.float64)


@pytest.mark.parametrize("seed", SEEDS)
def test_betweenness_is_networkx_normalised(seed: int) -> None:
    ties, graph, _ = _ties(seed)
    ours = betweenness(ties, AnalysisConfig())
    assert ours.method == "exact"
    np.testing.assert_allclose(
        ours.scores, _as_array(nx.betweenness_centrality(graph), ties.size), atol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_pagerank_is_networkx_weighted_directed(seed: int) -> None:
    ties, _, directed = _ties(seed)
    expected = nx.pagerank(directed, alpha=0.85, weight="weight", tol=1e-12)
    np.testing.assert_allclose(pagerank(ties), _as_array(expected, ties.size), atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_constraint_and_effective_size_are_networkx_weighted(seed: int) -> None:
    ties, graph, _ = _ties(seed)
    constraint, effective = structural_holes(ties)
    expected_c = _as_array(nx.constraint(graph, weight="weight"), ties.size)
    # nodes=... selects NetworkX's per-node code, which follows its documented formula.
    expected_e = _as_array(nx.effective_size(graph, nodes=list(graph), weight="weight"), ties.size)
    np.testing.assert_allclose(constraint, expected_c, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(effective, expected_e, atol=1e-12, equal_nan=True)


def test_effective_size_reduces_to_borgatti_when_unweighted() -> None:
    ties, graph, _ = _ties(5)
    flat = TieGraph(
        ties.size,
        ties.u,
        ties.v,
        np.ones(len(ties.u)),
        ties.arc_source,
        ties.arc_target,
        ties.arc_weight,
    )
    _, effective = structural_holes(flat)
    expected = _as_array(nx.effective_size(_unweighted(graph)), ties.size)
    np.testing.assert_allclose(effective, expected, atol=1e-12, equal_nan=True)


def _unweighted(graph: nx.Graph) -> nx.Graph:
    plain = nx.Graph()
    plain.add_nodes_from(graph)
    plain.add_edges_from(graph.edges())
    return plain


@pytest.mark.parametrize("seed", SEEDS)
def test_department_modularity_matches_networkx(seed: int) -> None:
    ties, graph, _ = _ties(seed)
    labels = np.arange(ties.size) % 4
    groups = [set(np.flatnonzero(labels == k).tolist()) for k in range(4)]
    assert modularity(ties, labels) == pytest.approx(
        nx.community.modularity(graph, groups, weight="weight"), abs=1e-12
    )


def _pair_counting_ari(a: list[int], b: list[int]) -> float:
    pairs = list(itertools.combinations(range(len(a)), 2))
    same_a = [a[i] == a[j] for i, j in pairs]
    same_b = [b[i] == b[j] for i, j in pairs]
    both = sum(x and y for x, y in zip(same_a, same_b, strict=True))
    expected = sum(same_a) * sum(same_b) / len(pairs)
    maximum = (sum(same_a) + sum(same_b)) / 2
    return (both - expected) / (maximum - expected)


def _direct_nmi(a: list[int], b: list[int]) -> float:
    n = len(a)

    def entropy(x: list[int]) -> float:
        return -sum(x.count(k) / n * math.log(x.count(k) / n) for k in set(x))

    mutual = 0.0
    for i in set(a):
        for j in set(b):
            joint = sum(1 for x, y in zip(a, b, strict=True) if x == i and y == j) / n
            if joint:
                mutual += joint * math.log(joint / (a.count(i) / n * b.count(j) / n))
    return mutual / ((entropy(a) + entropy(b)) / 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_nmi_and_ari_follow_their_textbook_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 30)
    b = (a + (rng.random(30) < 0.3) * rng.integers(0, 3, 30)) % 5
    assert adjusted_rand_index(a, b) == pytest.approx(_pair_counting_ari(a.tolist(), b.tolist()))
    assert normalized_mutual_information(a, b) == pytest.approx(_direct_nmi(a.tolist(), b.tolist()))
    assert adjusted_rand_index(a, a) == 1.0
    assert normalized_mutual_information(a, a + 7) == pytest.approx(1.0)


def test_tie_needs_min_interactions_in_both_directions_combined() -> None:
    chart = make_chart([("a", "x", ""), ("b", "x", "a"), ("c", "y", "a")])
    frame = make_interactions([("a", "b"), ("b", "a"), ("a", "c"), ("c", "c")])
    log = resolve(frame, chart, AnalysisConfig())
    ties = build_ties(log, chart.size, 2)
    assert list(zip(ties.u.tolist(), ties.v.tolist(), strict=True)) == [(0, 1)]
    assert ties.weight.tolist() == [2.0]
    assert log.stats.self_interactions == 1


def test_broadcasts_are_counted_not_tied() -> None:
    people = [(f"p{i}", "x", "") for i in range(30)]
    chart = make_chart(people)
    frame = make_interactions([("p0", f"p{i}") for i in range(1, 30)] * 2, message_id="m1")
    report = analyze(chart, frame, AnalysisConfig())
    assert report.log.stats.broadcast_messages == 1
    assert report.log.stats.broadcast_interactions == 58
    assert len(report.ties.u) == 0


def test_ei_index_and_breadth() -> None:
    chart = make_chart([("a", "x", ""), ("b", "x", ""), ("c", "y", ""), ("d", "z", "")])
    frame = make_interactions([("a", "b")] * 2 + [("a", "c")] * 2 + [("a", "d")] * 2)
    log = resolve(frame, chart, AnalysisConfig())
    ties = build_ties(log, chart.size, 2)
    assert organisation_ei(ties, chart) == pytest.approx((2 - 1) / 3)
    assert breadth(ties, chart).tolist() == [3, 1, 1, 1]


def test_sampled_betweenness_stays_within_its_stated_error() -> None:
    ties, _, _ = _ties(6, min_interactions=1)
    exact = betweenness(ties, AnalysisConfig()).scores
    sampled = betweenness(ties, AnalysisConfig(exact_betweenness_limit=10, betweenness_samples=800))
    assert sampled.method == "sampled"
    within = np.abs(sampled.scores - exact) <= sampled.half_width + 1e-12
    assert within.mean() >= 0.85  # a 95% interval per person: most must hold
    assert np.abs(sampled.scores - exact).max() < 0.05


def test_department_stats_partners_density_and_matrix() -> None:
    chart = make_chart(
        [("a", "x", ""), ("b", "x", ""), ("c", "y", ""), ("d", "z", ""), ("e", "z", "")]
    )
    frame = make_interactions(
        [("a", "b")] * 2 + [("a", "c")] * 2 + [("a", "d")] * 2 + [("b", "d")] * 2 + [("d", "e")] * 3
    )
    report = analyze(chart, frame, AnalysisConfig(min_group_size=3))
    x, y, _ = report.departments
    assert (x.internal_ties, x.external_ties, x.density) == (1, 3, 1.0)
    assert x.ei_index == pytest.approx(0.5)
    assert x.top_partners == (("z", 2), ("y", 1))
    assert y.density is None
    observed, expected = report.matrix.observed, report.matrix.expected
    assert observed.sum() == 11
    assert observed[0, 2] == 4  # x → z
    assert expected[0, 2] == pytest.approx(observed[0].sum() * observed[:, 2].sum() / 11)
