"""Figures for the HTML report, built from the analysis results."""

from __future__ import annotations

import numpy as np

from sixfold.network import svg
from sixfold.network.analysis import NetworkReport
from sixfold.network.departments import department_ties
from sixfold.network.report_json import matrix_departments

NETWORK_DEPARTMENTS = 24
BROKER_PICTURES = 3
EGO_NEIGHBOURS = 40


def department_heatmap(report: NetworkReport) -> str:
    codes = matrix_departments(report)
    grid = np.ix_(codes, codes)
    labels = [report.chart.departments[c] for c in codes]
    return svg.heatmap(
        labels,
        report.matrix.ratio[grid],
        report.matrix.observed[grid],
        "Interactions between departments, observed ÷ expected",
    )


def department_network(report: NetworkReport) -> str:
    codes = matrix_departments(report)[:NETWORK_DEPARTMENTS]
    ties = department_ties(report.ties, report.chart)
    sizes = report.chart.department_sizes()
    stats = {s.name: s for s in report.departments}
    largest = max((int(sizes[c]) for c in codes), default=1)
    nodes = []
    for code in codes:
        name = report.chart.departments[code]
        ei = stats[name].ei_index
        nodes.append(
            svg.Node(
                name,
                4 + 14 * (int(sizes[code]) / largest) ** 0.5,
                svg.diverging(10 ** (ei if ei is not None else 0.0)),
                f"{name}: {sizes[code]} people, E–I {'n/a' if ei is None else f'{ei:.2f}'}",
            )
        )
    edges = [
        (i, j, float(ties[a, b]))
        for i, a in enumerate(codes)
        for j, b in enumerate(codes)
        if i < j and ties[a, b] > 0
    ]
    return svg.circle_network(nodes, edges, "Departments and the ties between them")


def broker_neighbourhoods(report: NetworkReport) -> list[tuple[str, str]]:
    brokers = [
        i
        for i in np.argsort(-report.metrics.betweenness, kind="stable").tolist()
        if "broker" in report.roles[i]
    ][:BROKER_PICTURES]
    return [(report.chart.people[i].id, _ego_picture(report, i)) for i in brokers]


def _ego_picture(report: NetworkReport, person: int) -> str:
    ties, chart = report.ties, report.chart
    mine = (ties.u == person) | (ties.v == person)
    others = np.where(ties.u[mine] == person, ties.v[mine], ties.u[mine])
    weights = ties.weight[mine]
    order = np.argsort(-weights, kind="stable")[:EGO_NEIGHBOURS]
    chosen = others[order]
    chosen = chosen[np.argsort(chart.department_of[chosen], kind="stable")]
    colour = {
        d: svg.PALETTE[k % len(svg.PALETTE)]
        for k, d in enumerate(dict.fromkeys(chart.department_of[chosen].tolist()))
    }
    # Neighbours are grouped by department; only the first of each group carries its name.
    groups = chart.department_of[chosen].tolist()
    nodes = [
        svg.Node(
            chart.departments[d] if k == 0 or groups[k - 1] != d else "",
            6,
            colour[d],
            f"{chart.people[c].id} ({chart.departments[d]})",
        )
        for k, (c, d) in enumerate(zip(chosen.tolist(), groups, strict=True))
    ]
    position = {int(c): k for k, c in enumerate(chosen.tolist())}
    weight_of = dict(zip(others.tolist(), weights.tolist(), strict=True))
    edges = [(-1, k, weight_of[int(c)]) for k, c in enumerate(chosen.tolist())]
    among = np.isin(ties.u, chosen) & np.isin(ties.v, chosen)
    edges += [
        (position[int(a)], position[int(b)], 0.2)
        for a, b in zip(ties.u[among].tolist(), ties.v[among].tolist(), strict=True)
    ]
    home = chart.departments[chart.department_of[person]]
    centre = svg.Node(chart.people[person].id, 10, "#222", f"{chart.people[person].id} ({home})")
    return svg.circle_network(
        nodes, edges, f"Neighbourhood of {chart.people[person].id}", centre=centre
    )


def distributions(report: NetworkReport) -> list[str]:
    metrics = report.metrics
    connected = metrics.degree > 0
    return [
        svg.histogram(metrics.degree[connected].astype(np.float64), "Ties per person"),
        svg.histogram(metrics.betweenness[connected], "Betweenness", log=True),
        svg.histogram(metrics.constraint[connected], "Constraint (lower = more open)"),
        svg.histogram(
            metrics.breadth[connected].astype(np.float64), "Departments reached per person"
        ),
    ]


def timeline_chart(report: NetworkReport) -> str:
    windows = report.timeline
    labels = [np.datetime_as_string(np.datetime64(w.start, "s"), unit="D") for w in windows]
    return svg.line_chart(
        labels,
        {
            "ties": [float(w.ties) for w in windows],
            "churn": [w.churn for w in windows],
            "E–I index": [w.organisation_ei for w in windows],
        },
        "Ties, churn and openness per window",
    )


def direction_bar(report: NetworkReport) -> str:
    names = {
        "up": "up",
        "down": "down",
        "peer": "peer",
        "lateral": "lateral",
        "cross_department": "cross-department",
    }
    return svg.share_bar(
        {names[k]: v for k, v in report.directions.shares.items()},
        "Direction of interactions through the reporting tree",
    )
