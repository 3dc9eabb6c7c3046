"""From a stored report to what the network pages show: plain data, no database, no HTTP.

The organisation-level view (`overview`) holds no person: distributions are counted here, on
the server, so a leader's browser never receives anyone's figures. Groups below the analysis'
minimum group size are left out wherever a figure would describe them; on the person-level
views (people, a person, the exported report) they are not named either: their members appear
under one shared label, so a tie count "into Executive Office" cannot point at its three people.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from typing import Any

ROLE_LABELS = {
    "broker": "Broker",
    "central_connector": "Central connector",
    "peripheral": "Peripheral",
    "isolated": "Isolated",
    "overloaded": "Overloaded",
}
ROLE_RULES = {
    "broker": "bridges departments: betweenness in the top 10%, constraint at or below the "
    "median, and ties into at least 3 departments",
    "central_connector": "many people rely on them: ties in the top 10%, and at least 5",
    "peripheral": "one or two ties",
    "isolated": "no tie in the period",
    "overloaded": "interaction volume in the top 5% and at least three times the median: a "
    "likely bottleneck",
}
# How a count of people in a role reads: "1 broker", "3 isolated people".
ROLE_COUNTED = {
    "broker": ("broker", "brokers"),
    "central_connector": ("central connector", "central connectors"),
    "peripheral": ("peripheral person", "peripheral people"),
    "isolated": ("isolated person", "isolated people"),
    "overloaded": ("overloaded person", "overloaded people"),
}
METRICS = {
    "degree": "Ties",
    "volume": "Interactions (sent and received)",
    "betweenness": "Betweenness",
    "pagerank": "PageRank",
    "constraint": "Constraint",
    "effective_size": "Effective size",
    "breadth": "Departments reached",
}
INTEGER_METRICS = ("degree", "breadth")
DIRECTIONS = {
    "up": "Up (to a manager)",
    "down": "Down (to a report)",
    "peer": "Peers (same manager)",
    "lateral": "Lateral (same department)",
    "cross_department": "Across departments",
}
# The timeline's lines, as the chart legend names them. The E–I index of a window counts the
# ties within that window, not those of the whole period that the headline figure counts: two
# figures with different values need different names.
TIMELINE_LABELS = {
    "interactions": "interactions",
    "ties": "ties",
    "active_people": "active people",
    "ei_index": "E–I index per window",
    "department_modularity": "department modularity",
    "churn": "churn",
}
HISTOGRAM_BINS = 20
HIGH_CHURN = 0.5
CHURN_JUMP = 1.25  # times the median churn of the analysis' windows


def overview(report: dict[str, Any]) -> dict[str, Any]:
    """Organisation-level figures, tables and chart data of one report."""
    minimum = int(report["meta"]["min_group_size"])
    organisation = report["organisation"]
    shown = {d["name"] for d in report["departments"] if not d["suppressed"]}
    too_small = organisation["people"] < minimum
    return {
        "min_group_size": minimum,
        "too_small": too_small,
        "organisation": organisation,
        "departments": [_department_row(d) for d in report["departments"]],
        "roles": _role_counts(report["people"]),
        "changes": _changes(report["timeline"], shown),
        "meta": report["meta"],
        "charts": {
            "matrix": organisation["department_matrix"],
            "directions": _directions(organisation["directions"]),
            "distributions": {} if too_small else distributions(report["people"]),
            "timeline": _timeline_series(report["timeline"]),
        },
    }


def _department_row(department: dict[str, Any]) -> dict[str, Any]:
    if department["suppressed"]:
        return {"name": department["name"], "suppressed": True}
    partners = ", ".join(f"{p['department']} ({p['ties']})" for p in department["top_partners"])
    return {**department, "partners": partners}


def _role_counts(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = Counter(role for person in people for role in person["roles"])
    return [
        {
            "role": role,
            "count": counts.get(role, 0),
            "label": ROLE_COUNTED[role][0 if counts.get(role, 0) == 1 else 1],
            "rule": ROLE_RULES[role],
        }
        for role in ROLE_LABELS
    ]


def _directions(directions: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "share": directions.get(key)}
        for key, label in DIRECTIONS.items()
    ]


def _timeline_series(windows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("interactions", "active_people", "ties", "ei_index", "department_modularity")
    series: dict[str, Any] = {"start": [w["start"][:10] for w in windows]}
    series["end"] = [w["end"][:10] for w in windows]
    for key in (*keys, "churn", "communities"):
        series[key] = [w.get(key) for w in windows]
    # Silos are reported only for departments of the minimum group size, so names are safe.
    series["silos"] = [w["silos_formed"] for w in windows]
    series["labels"] = TIMELINE_LABELS
    return series


def _changes(windows: list[dict[str, Any]], shown: set[str]) -> list[dict[str, Any]]:
    """What changed from each window to the next, in sentences, newest first."""
    churns = sorted(w["churn"] for w in windows[1:] if w.get("churn") is not None)
    usual = churns[len(churns) // 2] if churns else 0.0
    changes = []
    for window in windows[1:]:
        items = _window_changes(window, shown, usual)
        if items:
            changes.append(
                {"start": window["start"][:10], "end": window["end"][:10], "items": items}
            )
    return list(reversed(changes))


def _window_changes(window: dict[str, Any], shown: set[str], usual_churn: float) -> list[str]:
    items = [f"Silo formed: {name} now talks mostly to itself." for name in window["silos_formed"]]
    bridges = [f"{a} – {b}" for a, b in window["new_bridge_examples"] if a in shown and b in shown]
    if bridges:
        items.append("New bridges between departments: " + "; ".join(bridges) + ".")
    if window["became_isolated"]:
        items.append(f"{_people(window['became_isolated'])} lost every tie.")
    churn = window.get("churn")
    # Ties come and go all the time; only churn well above this organisation's usual is news.
    if churn is not None and churn >= HIGH_CHURN and churn >= CHURN_JUMP * usual_churn:
        items.append(
            f"Unusual churn: {round(100 * churn)}% of ties formed or dissolved "
            f"({window['ties_formed']} formed, {window['ties_dissolved']} dissolved; usually "
            f"{round(100 * usual_churn)}%)."
        )
    groups = [
        f"{window[key]} {verb}"
        for key, verb in (("communities_split", "split"), ("communities_merged", "merged"))
        if window[key]
    ]
    if groups:
        items.append("Informal groups (communities): " + ", ".join(groups) + ".")
    return items


def _people(count: int) -> str:
    return f"{count} {_plural(count, 'person', 'people')}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# Distributions -------------------------------------------------------------------------


def distributions(people: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A histogram per metric: bin edges and counts, nothing that names anyone."""
    return {
        key: {"label": label, **histogram([p.get(key) for p in people], key in INTEGER_METRICS)}
        for key, label in METRICS.items()
    }


def histogram(values: list[Any], integer: bool) -> dict[str, Any]:
    numbers = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    if not numbers:
        return {"edges": [], "counts": [], "missing": len(values)}
    low, high = numbers[0], numbers[-1]
    if integer and high - low < HISTOGRAM_BINS * 2:
        edges = [low - 0.5 + step for step in range(int(high - low) + 2)]
    else:
        width = (high - low) / HISTOGRAM_BINS or 1.0
        edges = [low + width * step for step in range(HISTOGRAM_BINS + 1)]
    counts = [0] * (len(edges) - 1)
    for value in numbers:
        counts[min(max(bisect_right(edges, value) - 1, 0), len(counts) - 1)] += 1
    return {"edges": edges, "counts": counts, "missing": len(values) - len(numbers)}


# Small groups --------------------------------------------------------------------------


def small_groups(report: dict[str, Any]) -> set[str]:
    """Groups under the analysis' minimum group size, as the report marks them."""
    return {d["name"] for d in report["departments"] if d["suppressed"]}


def small_group_label(report: dict[str, Any]) -> str:
    """What stands for the name of any group under the minimum size beside a figure."""
    return f"A group under {int(report['meta']['min_group_size'])} people"


def without_small_groups(report: dict[str, Any]) -> dict[str, Any]:
    """The report as it may leave Sixfold: no group under the minimum size named by a figure.

    People keep their figures, under the shared label instead of their group's name; new
    bridges that touch a small group are left out of the examples (their count stays, as on
    the organisation page). Departments already carry no figures when suppressed.
    """
    small = small_groups(report)
    label = small_group_label(report)
    people = [
        {**person, "department": label} if person["department"] in small else person
        for person in report["people"]
    ]
    timeline = [
        {
            **window,
            "new_bridge_examples": [
                pair for pair in window["new_bridge_examples"] if not small.intersection(pair)
            ],
        }
        for window in report["timeline"]
    ]
    return {**report, "people": people, "timeline": timeline}


# People --------------------------------------------------------------------------------


def people_rows(report: dict[str, Any], chart: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per person: the report's figures with the name and directory link.

    A person in a group under the minimum size shows the shared label as their department,
    so neither the tables nor the charts built from these rows name that group.
    """
    small = small_groups(report)
    label = small_group_label(report)
    rows = []
    for index, (figures, entry) in enumerate(zip(report["people"], chart, strict=True)):
        hidden = figures["department"] in small
        rows.append(
            {
                **figures,
                **_identity(entry),
                "department": label if hidden else figures["department"],
                "small_group": hidden,
                "index": index,
                "role_labels": _role_labels(figures),
            }
        )
    return rows


def _identity(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": entry["person_id"],
        "name": entry["name"],
        "title": entry["title"],
        "team_id": entry["team_id"],
    }


def _role_labels(figures: dict[str, Any]) -> list[str]:
    return [ROLE_LABELS.get(role, role) for role in figures["roles"]]


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows by one column; people without a value (a constraint without ties) come last."""
    present = [row for row in rows if row.get(key) is not None]
    missing = [row for row in rows if row.get(key) is None]
    return sorted(present, key=lambda row: row[key], reverse=descending) + missing


def mentors(report: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {row["id"]: row for row in rows}
    return [
        {**by_id[m["id"]], "score": m["score"], "reasons": m["reasons"]}
        for m in report["mentor_candidates"]
        if m["id"] in by_id
    ]


def percentiles(rows: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, float | None]:
    """Per metric, the share of connected people at or below this person's value."""
    connected = [r for r in rows if r["degree"] > 0]
    result: dict[str, float | None] = {}
    for key in METRICS:
        values = sorted(r[key] for r in connected if r.get(key) is not None)
        value = row.get(key)
        result[key] = (
            None if value is None or not values else bisect_right(values, value) / len(values)
        )
    return result


def neighbourhood(
    rows: list[dict[str, Any]], ties: list[tuple[int, int, float]], index: int, limit: int = 40
) -> dict[str, Any]:
    """The person's ties (strongest first), ties by department, and their ego network."""
    mine = sorted(
        ((v if u == index else u, w) for u, v, w in ties if index in (u, v)),
        key=lambda pair: -pair[1],
    )
    by_department = Counter(rows[other]["department"] for other, _ in mine)
    drawn = {other for other, _ in mine[:limit]}
    among = [(u, v, w) for u, v, w in ties if u in drawn and v in drawn]
    return {
        "ties": [{**rows[other], "weight": weight} for other, weight in mine],
        "by_department": sorted(by_department.items(), key=lambda item: (-item[1], item[0])),
        "ego": {
            "nodes": [_node(rows[index], 0.0)] + [_node(rows[o], w) for o, w in mine[:limit]],
            "edges": [[u, v, w] for u, v, w in among],
            "centre": index,
        },
    }


def _node(row: dict[str, Any], weight: float) -> dict[str, Any]:
    return {
        "index": row["index"],
        "label": row["name"],
        "department": row["department"],
        "weight": weight,
    }
