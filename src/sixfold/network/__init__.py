"""Organisational network analysis: importers, tie graph, metrics, roles, timeline, reports.

A pure library (no database, no web): the CLI (`sixfold network`) and the web app call it.
The definitions it implements are a contract, documented in docs/network.md.
"""

from sixfold.network.analysis import NetworkReport, analyze
from sixfold.network.config import AnalysisConfig
from sixfold.network.generator import SyntheticSpec, generate_organisation
from sixfold.network.orgchart import OrgChart, Person, build_orgchart
from sixfold.network.privacy import Pseudonymiser
from sixfold.network.report_html import render_html
from sixfold.network.report_json import to_json_dict

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
