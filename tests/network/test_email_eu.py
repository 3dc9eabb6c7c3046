"""The real organisation (email-eu-core) analysed and checked against NetworkX."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from sixfold.network.analysis import NetworkReport, analyze
from sixfold.network.config import AnalysisConfig
from sixfold.network.importers import load_labelled_edge_list


@pytest.fixture(scope="module")
def email_eu(email_eu_dir: Path) -> tuple[NetworkReport, nx.Graph]:
    edges = np.loadtxt(email_eu_dir / "edges.txt", dtype=np.int64)
    chart, frame = load_labelled_edge_list(
        email_eu_dir / "edges.txt", email_eu_dir / "department-labels.txt", department_prefix="d"
    )
    report = analyze(chart, frame, AnalysisConfig(min_interactions=1))
    graph = nx.Graph()
    graph.add_nodes_from(range(chart.size))
    graph.add_edges_from((int(u), int(v)) for u, v in edges if u != v)
    return report, graph


def test_counts_match_the_data_readme(email_eu: tuple[NetworkReport, nx.Graph]) -> None:
    report, _ = email_eu
    assert report.chart.size == 1005
    assert len(report.chart.departments) == 42
    assert len(report.ties.u) == 16_064
    assert report.log.stats.self_interactions == 642


def test_degree_and_ei_exact_betweenness_ranks_identical(
    email_eu: tuple[NetworkReport, nx.Graph],
) -> None:
    report, graph = email_eu
    assert report.metrics.degree.tolist() == [graph.degree(i) for i in range(1005)]
    department = report.chart.department_of
    internal = sum(1 for u, v in graph.edges() if department[u] == department[v])
    external = graph.number_of_edges() - internal
    assert report.organisation_ei == (external - internal) / (external + internal)
    expected = nx.betweenness_centrality(graph)
    ours = report.metrics.betweenness
    assert stats.spearmanr(ours, [expected[i] for i in range(1005)])[0] >= 0.999


def test_communities_and_roles_are_plausible(email_eu: tuple[NetworkReport, nx.Graph]) -> None:
    report, _ = email_eu
    assert report.communities.chosen.ari > 0.3  # departments are visible in the mail
    roles = [role for person in report.roles for role in person]
    assert roles.count("broker") > 0
    assert roles.count("isolated") == 19  # people with only self-mail or none
    assert len(report.mentors) == 20
