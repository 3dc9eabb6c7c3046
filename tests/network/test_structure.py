"""Direction mix through the reporting tree, timeline changes, privacy, the generator."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from sixfold.network.analysis import analyze
from sixfold.network.config import AnalysisConfig
from sixfold.network.generator import SILO_DAY, START, SyntheticSpec, generate_organisation
from sixfold.network.privacy import Pseudonymiser
from sixfold.network.report_html import render_html
from sixfold.network.report_json import to_json_dict
from tests.network.factories import make_chart, make_interactions

TREE = [
    ("ceo", "board", ""),
    ("vp", "sales", "ceo"),
    ("s1", "sales", "vp"),
    ("s2", "sales", "vp"),
    ("s3", "sales", "s1"),
    ("e1", "eng", "ceo"),
    ("e2", "eng", "e1"),
]
WEEK = 7 * 86_400


def test_direction_mix_through_the_reporting_tree() -> None:
    chart = make_chart(TREE)
    frame = make_interactions(
        [("s3", "vp"), ("vp", "s3"), ("s1", "s2"), ("s3", "s2"), ("s2", "e2"), ("ceo", "e2")]
    )
    mix = analyze(chart, frame, AnalysisConfig(min_interactions=1)).directions
    assert mix.shares == pytest.approx(
        {"up": 1 / 6, "down": 2 / 6, "peer": 1 / 6, "lateral": 1 / 6, "cross_department": 1 / 6}
    )
    assert mix.vertical_share == pytest.approx(0.5)
    # distances: 2, 2, 2 (s1-vp-s2), 3 (s3-s1-vp-s2), 4 (s2-vp-ceo-e1-e2), 2
    assert mix.mean_reporting_distance == pytest.approx(15 / 6)


def test_timeline_reports_churn_isolation_and_new_bridges() -> None:
    chart = make_chart(TREE)
    first = [("s1", "s2", 0), ("s2", "s1", 1), ("s3", "vp", 2), ("vp", "s3", 3)]
    second = [
        ("s1", "s2", WEEK),
        ("s2", "s1", WEEK + 1),
        ("s1", "e1", WEEK + 2),
        ("e1", "s1", WEEK + 3),
        ("s2", "s1", 2 * WEEK - 1),
    ]  # data to the window's end
    report = analyze(
        chart,
        make_interactions(first + second),
        AnalysisConfig(window_days=7, window_step_days=7, min_group_size=3),
    )
    before, after = report.timeline
    assert (before.ties, after.ties) == (2, 2)
    assert (after.formed, after.dissolved, after.churn) == (1, 1, pytest.approx(2 / 3))
    assert after.became_isolated == 2
    assert after.new_bridges == 1
    assert after.bridge_examples == (("eng", "sales"),)


def test_small_groups_are_suppressed_in_the_report() -> None:
    chart = make_chart(TREE)
    frame = make_interactions([("s1", "s2"), ("s2", "s1"), ("e1", "e2"), ("e2", "e1")])
    data = to_json_dict(analyze(chart, frame, AnalysisConfig(min_group_size=4)))
    shown = {d["name"]: d["suppressed"] for d in data["departments"]}
    assert shown == {"board": True, "eng": True, "sales": False}
    assert data["organisation"]["department_matrix"]["departments"] == ["sales"]
    with pytest.raises(ValueError, match="never below 3"):
        AnalysisConfig(min_group_size=2)


def test_pseudonyms_are_keyed_stable_and_joinable() -> None:
    key = b"k" * 32
    hasher = Pseudonymiser(key)
    assert hasher("Ann@X.org") == hasher("ann@x.org") != Pseudonymiser(b"j" * 32)("ann@x.org")
    assert hasher("A1") != hasher("a1")  # ids keep their case
    chart = make_chart(TREE)
    frame = make_interactions([("s1@example.org", "vp"), ("vp", "s1@example.org")])
    report = analyze(
        hasher.chart(chart), hasher.interactions(frame), AnalysisConfig(min_interactions=1)
    )
    assert len(report.ties.u) == 1
    assert report.log.stats.unknown_people == 0
    assert "vp" not in json.dumps(to_json_dict(report)["people"])
    with pytest.raises(ValueError, match="at least"):
        Pseudonymiser(b"short")


def test_generator_builds_a_realistic_organisation() -> None:
    chart, frame = generate_organisation(SyntheticSpec(people=2000, interactions=200_000))
    assert chart.size == 2000
    assert (chart.manager_of >= 0).sum() == 1999  # one chief executive, everyone else reports
    sizes = chart.department_sizes()
    assert sizes.max() < 200
    counts = np.bincount(np.unique(frame["source"].to_numpy(), return_inverse=True)[1])
    assert counts.max() > 10 * np.median(counts)  # heavy-tailed activity
    report = analyze(chart, frame, AnalysisConfig())
    assert report.organisation_ei is not None
    assert report.organisation_ei < -0.3  # mostly internal ties
    assert any("broker" in roles for roles in report.roles)
    # The scripted silo (department 1 turns inward from day 150) shows in the timeline.
    silo_windows = [w.start for w in report.timeline if "Dept 0001" in w.silos_formed]
    assert len(silo_windows) == 1
    assert silo_windows[0] >= START + (SILO_DAY - 28) * 86_400
    html = render_html(report)
    assert html.count("<svg") >= 8


def test_an_organisation_without_interactions_still_reports() -> None:
    chart = make_chart([(f"p{i}", "d", "") for i in range(6)])
    report = analyze(chart, make_interactions([]), AnalysisConfig())
    data = json.loads(json.dumps(to_json_dict(report), allow_nan=False))
    assert data["organisation"]["ties"] == 0
    assert data["people"][0]["constraint"] is None
    assert data["people"][0]["roles"] == ["isolated"]
    assert data["timeline"] == []
    assert "<svg" in render_html(report)


def test_rolling_windows_and_sampled_betweenness_reach_the_report() -> None:
    chart, frame = generate_organisation(SyntheticSpec(people=400, interactions=30_000))
    config = AnalysisConfig(
        window_days=28, window_step_days=7, exact_betweenness_limit=100, betweenness_samples=64
    )
    report = analyze(chart, frame, config)
    starts = [w.start for w in report.timeline]
    assert {b - a for a, b in itertools.pairwise(starts)} == {WEEK}
    assert all(w.end - w.start == 4 * WEEK for w in report.timeline)
    data = to_json_dict(report)
    assert data["organisation"]["betweenness"]["method"] == "sampled"
    assert data["organisation"]["betweenness"]["max_error_95"] > 0
    assert all(p["betweenness_error_95"] is not None for p in data["people"])
    assert "sampled people" in render_html(report)
