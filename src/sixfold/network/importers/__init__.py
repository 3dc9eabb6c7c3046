"""Importers: each turns one kind of source into the common interaction table."""

from sixfold.network.importers.base import (
    INTERACTION_SCHEMA,
    ImportAborted,
    ImportLimits,
    ImportProblem,
    InteractionImport,
)
from sixfold.network.importers.edge_list import load_labelled_edge_list
from sixfold.network.importers.interactions_csv import load_interactions_csv
from sixfold.network.importers.mattermost import load_mattermost_export
from sixfold.network.importers.mbox import load_mbox
from sixfold.network.importers.people import load_people
from sixfold.network.importers.slack import load_slack_export

__all__ = [
    "INTERACTION_SCHEMA",
    "ImportAborted",
    "ImportLimits",
    "ImportProblem",
    "InteractionImport",
    "load_interactions_csv",
    "load_labelled_edge_list",
    "load_mattermost_export",
    "load_mbox",
    "load_people",
    "load_slack_export",
]
