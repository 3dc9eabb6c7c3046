"""Organisational network analysis: importers, tie graph, metrics, roles, timeline, reports.

A pure library (no database, no web): the CLI (`sixfold network`) and the web app call it.
The definitions it implements are a contract, documented in docs/network.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sixfold.network.analysis import NetworkReport, analyze
    from sixfold.network.config import AnalysisConfig
    from sixfold.network.generator import SyntheticSpec, generate_organisation
    from sixfold.network.orgchart import OrgChart, Person, build_orgchart
    from sixfold.network.privacy import Pseudonymiser
    from sixfold.network.report_html import render_html
    from sixfold.network.report_json import to_json_dict

# The public names load on first use: NetworKit and scikit-learn take about a second to
# import, which every `sixfold` command would otherwise pay just to list its subcommands.
_HOMES = {
    "AnalysisConfig": "config",
    "NetworkReport": "analysis",
    "OrgChart": "orgchart",
    "Person": "orgchart",
    "Pseudonymiser": "privacy",
    "SyntheticSpec": "generator",
    "analyze": "analysis",
    "build_orgchart": "orgchart",
    "generate_organisation": "generator",
    "render_html": "report_html",
    "to_json_dict": "report_json",
}
__all__ = [
    "AnalysisConfig",
    "NetworkReport",
    "OrgChart",
    "Person",
    "Pseudonymiser",
    "SyntheticSpec",
    "analyze",
    "build_orgchart",
    "generate_organisation",
    "render_html",
    "to_json_dict",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sixfold.network' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sixfold.network.{home}"), name)
