"""The self-contained HTML report: one file, no scripts or styles fetched from anywhere.

Written for a leader, not an analyst: findings in sentences first, then the pictures, then
the tables, then how every number is defined.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sixfold.network import report_figures as figures
from sixfold.network.analysis import NetworkReport
from sixfold.network.report_json import to_json_dict

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:.3em .5em;
border-bottom:1px solid #eee;text-align:left}th{cursor:pointer;background:#f6f6f6}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1em}
.finding{background:#f4f7fb;border-left:4px solid #4e79a7;padding:.5em 1em;margin:.5em 0}
.note{color:#555;font-size:.9em}
"""

# Sorting the tables is the one thing that needs script; the report reads fine without it.
_SORT = """
document.querySelectorAll('th').forEach(function(th){th.addEventListener('click',function(){
var t=th.closest('table'),i=Array.from(th.parentNode.children).indexOf(th),b=t.tBodies[0],
r=Array.from(b.rows),d=th.dataset.d==='1'?-1:1;th.dataset.d=d===1?'1':'0';
r.sort(function(x,y){var p=x.cells[i].dataset.v||x.cells[i].textContent,
q=y.cells[i].dataset.v||y.cells[i].textContent,m=parseFloat(p),n=parseFloat(q);
return (isNaN(m)||isNaN(n)?p.localeCompare(q):m-n)*d});r.forEach(function(x){b.appendChild(x)})
})});
"""


def render_html(report: NetworkReport) -> str:
    data = to_json_dict(report)
    sections = [
        _findings(report, data),
        _section(
            "Where conversation flows between departments",
            "<p>Each cell compares the interactions from one department (row) to another "
            "(column) with what equal mixing would give. Blue cells are colder than "
            "expected — a silo wall; red cells are hotter.</p>"
            + figures.department_heatmap(report),
        ),
        _section(
            "Departments as a network",
            "<p>Circle size: people; line width: ties; "
            "colour: E–I index (blue inward-looking, red outward-looking).</p>"
            + figures.department_network(report),
        ),
        _brokers(report),
        _section("Up, down or across", figures.direction_bar(report)),
        _section(
            "How metrics are spread",
            '<div class="grid">' + "".join(figures.distributions(report)) + "</div>",
        ),
        _timeline(report, data),
        _mentors(data),
        _departments(data),
        _definitions(),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Organisational network report</title>"
        f"<style>{_STYLE}</style></head><body><h1>Organisational network report</h1>"
        '<p class="note">Contains person-level results: for the network-analyst role. '
        f"Groups under {report.config.min_group_size} people are not shown.</p>"
        + "".join(sections)
        + f"<script>{_SORT}</script></body></html>"
    )


def _section(title: str, body: str) -> str:
    return f"<h2>{escape(title)}</h2>{body}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _findings(report: NetworkReport, data: dict[str, Any]) -> str:
    org = data["organisation"]
    communities = org["communities"]
    roles = [role for person in report.roles for role in person]
    shown = [d for d in data["departments"] if not d["suppressed"] and d["ei_index"] is not None]
    silos = sorted(shown, key=lambda d: d["ei_index"])[:3]
    sentences = [
        f"{org['people']} people, {org['ties']} ties from {org['interactions']} interactions "
        f"(a tie needs at least {report.config.min_interactions:g} interactions).",
        f"{_pct(org['directions']['cross_department'])} of interactions cross a department "
        f"boundary; {_pct(org['directions']['vertical_share'])} go up or down a reporting line.",
        f"Informal communities match the departments with adjusted Rand index "
        f"{communities['ari']} at resolution {communities['resolution']:g} (the best of a "
        "sweep; see definitions).",
        f"{roles.count('broker')} brokers, {roles.count('central_connector')} central "
        f"connectors, {roles.count('overloaded')} overloaded and {roles.count('isolated')} "
        "isolated people.",
    ]
    betweenness = org["betweenness"]
    if betweenness["method"] == "sampled":
        sentences.append(
            f"Betweenness was estimated from {betweenness['samples']} sampled people (exact "
            f"above 20,000 people takes hours): the top 1% are within "
            f"±{betweenness['top_1pct_median_relative_error_95']:.0%} (median, 95% confidence)."
        )
    if silos:
        sentences.append(
            "Most inward-looking departments (lowest E–I): "
            + ", ".join(f"{d['name']} ({d['ei_index']:+.2f})" for d in silos)
            + "."
        )
    return _section(
        "What stands out", "".join(f'<p class="finding">{escape(s)}</p>' for s in sentences)
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _brokers(report: NetworkReport) -> str:
    pictures = figures.broker_neighbourhoods(report)
    if not pictures:
        return _section("Brokers", "<p>No one meets the broker rule in this period.</p>")
    body = "".join(f"<div><h3>{escape(pid)}</h3>{picture}</div>" for pid, picture in pictures)
    return _section(
        "Brokers and their neighbourhoods",
        "<p>Brokers link departments that would otherwise barely talk; colours "
        f'are departments.</p><div class="grid">{body}</div>',
    )


def _timeline(report: NetworkReport, data: dict[str, Any]) -> str:
    if len(report.timeline) < 2:
        return _section("Over time", "<p>Only one period in the data: no trend to show.</p>")
    rows = [
        [
            w["start"][:10],
            w["ties"],
            w["ties_formed"],
            w["ties_dissolved"],
            w["churn"],
            w["new_bridges"],
            w["became_isolated"],
            ", ".join(w["silos_formed"]),
            w["communities_split"],
            w["communities_merged"],
        ]
        for w in data["timeline"]
    ]
    return _section(
        "Over time",
        figures.timeline_chart(report)
        + _table(
            [
                "window",
                "ties",
                "formed",
                "dissolved",
                "churn",
                "new bridges",
                "became isolated",
                "silos formed",
                "communities split",
                "merged",
            ],
            rows,
        ),
    )


def _mentors(data: dict[str, Any]) -> str:
    rows = [[m["id"], m["score"], "; ".join(m["reasons"])] for m in data["mentor_candidates"]]
    return _section("Community-mentor candidates", _table(["person", "score", "why"], rows))


def _departments(data: dict[str, Any]) -> str:
    rows = [
        [
            d["name"],
            d["size"],
            d["internal_ties"],
            d["external_ties"],
            d["ei_index"],
            d["density"],
            ", ".join(p["department"] for p in d["top_partners"]),
        ]
        for d in data["departments"]
        if not d["suppressed"]
    ]
    hidden = sum(1 for d in data["departments"] if d["suppressed"])
    note = (
        f'<p class="note">{hidden} departments below the minimum group size are not shown.</p>'
        if hidden
        else ""
    )
    return _section(
        "Departments",
        _table(
            [
                "department",
                "people",
                "internal ties",
                "external ties",
                "E–I",
                "density",
                "top partners",
            ],
            rows,
        )
        + note,
    )


def _definitions() -> str:
    terms = {
        "Tie": "two people whose interactions with each other in the period reach the minimum.",
        "E–I index": "(external − internal ties) ÷ all ties: −1 all inward, +1 all outward.",
        "Betweenness": "how often a person lies on the shortest paths between others.",
        "Constraint": "Burt's measure of how much a person's contacts are tied to each other; "
        "low means an open network that reaches separate groups.",
        "PageRank": "importance from being contacted by people who are themselves contacted.",
        "Communities": "groups found from the ties alone (Louvain), compared with departments.",
    }
    return _section(
        "Definitions",
        "<dl>"
        + "".join(f"<dt><b>{escape(k)}</b></dt><dd>{escape(v)}</dd>" for k, v in terms.items())
        + '</dl><p class="note">Full definitions: docs/network.md.</p>',
    )
