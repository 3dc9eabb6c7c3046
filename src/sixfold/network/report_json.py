"""The report as JSON: the `report.json` contract of `sixfold network analyze`.

Top-level keys: people, departments, organisation, mentor_candidates, timeline (and meta).
Groups smaller than the minimum group size are reported as suppressed, without figures.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sixfold.network.analysis import NetworkReport
from sixfold.network.privacy import suppressed
from sixfold.network.timeline import WindowSummary

# A leader reads a heatmap of dozens of departments, not thousands; larger organisations get
# the largest departments in the matrix and say so.
MATRIX_DEPARTMENTS = 60


def _number(value: float | None, digits: int = 6) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(float(value), digits)


def to_json_dict(report: NetworkReport) -> dict[str, Any]:
    return {
        "people": _people(report),
        "departments": _departments(report),
        "organisation": _organisation(report),
        "mentor_candidates": [
            {
                "id": report.chart.people[m.index].id,
                "score": _number(m.score, 4),
                "reasons": list(m.reasons),
            }
            for m in report.mentors
        ],
        "timeline": [_window(window) for window in report.timeline],
        "meta": _meta(report),
    }


def _people(report: NetworkReport) -> list[dict[str, Any]]:
    chart, metrics = report.chart, report.metrics
    labels = report.communities.chosen.labels
    return [
        {
            "id": person.id,
            "department": person.department,
            "degree": int(metrics.degree[i]),
            "in_volume": _number(metrics.in_volume[i], 3),
            "out_volume": _number(metrics.volume[i] - metrics.in_volume[i], 3),
            "volume": _number(metrics.volume[i], 3),
            "betweenness": _number(metrics.betweenness[i], 9),
            "betweenness_error_95": _number(report.betweenness.half_width[i], 9),
            "pagerank": _number(metrics.pagerank[i], 9),
            "constraint": _number(metrics.constraint[i]),
            "effective_size": _number(metrics.effective_size[i]),
            "breadth": int(metrics.breadth[i]),
            "community": int(labels[i]),
            "roles": report.roles[i],
        }
        for i, person in enumerate(chart.people)
    ]


def _departments(report: NetworkReport) -> list[dict[str, Any]]:
    minimum = report.config.min_group_size
    small = {stats.name for stats in report.departments if suppressed(stats.size, minimum)}
    rows: list[dict[str, Any]] = []
    for stats in report.departments:
        if suppressed(stats.size, minimum):
            rows.append({"name": stats.name, "suppressed": True})
            continue
        rows.append(
            {
                "name": stats.name,
                "suppressed": False,
                "size": stats.size,
                "internal_ties": stats.internal_ties,
                "external_ties": stats.external_ties,
                "ei_index": _number(stats.ei_index, 4),
                "density": _number(stats.density, 4),
                "top_partners": [
                    {"department": name, "ties": ties}
                    for name, ties in stats.top_partners
                    if name not in small
                ],
            }
        )
    return rows


def matrix_departments(report: NetworkReport) -> list[int]:
    """Department codes shown in the matrix: big enough to show, largest first."""
    sizes = report.chart.department_sizes()
    shown = [
        code
        for code in np.argsort(-sizes, kind="stable").tolist()
        if not suppressed(int(sizes[code]), report.config.min_group_size)
    ]
    return shown[:MATRIX_DEPARTMENTS]


def _organisation(report: NetworkReport) -> dict[str, Any]:
    chosen = report.communities.chosen
    codes = matrix_departments(report)
    grid = np.ix_(codes, codes)
    return {
        "people": report.chart.size,
        "ties": len(report.ties.u),
        "interactions": len(report.log.source),
        "ei_index": _number(report.organisation_ei, 4),
        "department_modularity": _number(report.communities.department_modularity, 4),
        "communities": {
            "method": "Louvain with refinement (NetworKit PLM), resolution sweep; reported "
            "level = best adjusted Rand index against the departments",
            "resolution": chosen.resolution,
            "count": chosen.count,
            "nmi": _number(chosen.nmi, 4),
            "ari": _number(chosen.ari, 4),
            "sweep": [
                {
                    "resolution": level.resolution,
                    "count": level.count,
                    "modularity": _number(level.modularity, 4),
                    "nmi": _number(level.nmi, 4),
                    "ari": _number(level.ari, 4),
                }
                for level in report.communities.sweep
            ],
        },
        "department_matrix": {
            "departments": [report.chart.departments[c] for c in codes],
            "observed": report.matrix.observed[grid].round(3).tolist(),
            "expected": report.matrix.expected[grid].round(3).tolist(),
            "ratio": report.matrix.ratio[grid].round(4).tolist(),
        },
        "directions": {
            **{k: _number(v, 4) for k, v in report.directions.shares.items()},
            "vertical_share": _number(report.directions.vertical_share, 4),
            "mean_reporting_distance": _number(report.directions.mean_reporting_distance, 4),
        },
        "betweenness": _betweenness_summary(report),
    }


def _betweenness_summary(report: NetworkReport) -> dict[str, Any]:
    """How exact betweenness is: the largest 95% half-width, and the typical relative one
    among the top 1% — the people the broker rule looks at."""
    result = report.betweenness
    top = np.argsort(-result.scores)[: max(1, len(result.scores) // 100)]
    relative = np.divide(
        result.half_width[top],
        result.scores[top],
        out=np.zeros(len(top)),
        where=result.scores[top] > 0,
    )
    return {
        "method": result.method,
        "samples": result.samples,
        "max_error_95": _number(result.max_error, 9),
        "top_1pct_median_relative_error_95": _number(float(np.median(relative)), 4)
        if len(top)
        else None,
    }


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(window: WindowSummary) -> dict[str, Any]:
    return {
        "start": _iso(window.start),
        "end": _iso(window.end),
        "interactions": window.interactions,
        "active_people": window.active_people,
        "ties": window.ties,
        "ei_index": _number(window.organisation_ei, 4),
        "department_modularity": _number(window.department_modularity, 4),
        "communities": window.communities,
        "ties_formed": window.formed,
        "ties_dissolved": window.dissolved,
        "churn": _number(window.churn, 4),
        "new_bridges": window.new_bridges,
        "new_bridge_examples": [list(pair) for pair in window.bridge_examples],
        "became_isolated": window.became_isolated,
        "silos_formed": list(window.silos_formed),
        "communities_split": window.communities_split,
        "communities_merged": window.communities_merged,
    }


def _meta(report: NetworkReport) -> dict[str, Any]:
    stats = report.log.stats
    config = report.config
    return {
        "min_interactions": config.min_interactions,
        "broadcast_recipients": config.broadcast_recipients,
        "min_group_size": config.min_group_size,
        "window_days": config.window_days,
        "window_step_days": config.window_step_days,
        "rows": stats.rows,
        "outside_window": stats.outside_window,
        "broadcast_messages": stats.broadcast_messages,
        "broadcast_interactions": stats.broadcast_interactions,
        "unknown_people": stats.unknown_people,
        "self_interactions": stats.self_interactions,
        "unknown_examples": list(stats.unknown_examples),
        "import_problems": report.import_problem_count,
        "import_problem_examples": [str(p) for p in report.import_problems[:50]],
        "seconds": {k: round(v, 3) for k, v in report.seconds.items()},
    }
