"""Connector discovery: every installed package may add networks through an entry point.

A third party ships a package whose pyproject.toml declares::

    [project.entry-points."sixfold.connectors"]
    myspace = "sixfold_myspace:MySpaceConnector"

and the network appears in "Connect a channel" without any change to Sixfold itself.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from sixfold.channels.base import Connector, ConnectorContext
from sixfold.errors import NotFound

ENTRY_POINT_GROUP = "sixfold.connectors"


class ConnectorLoadError(RuntimeError):
    """An entry point names something that is not a connector."""


@cache
def connector_types() -> dict[str, type[Connector]]:
    """Installed connector classes by kind, loaded once per process."""
    found: dict[str, type[Connector]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        cls = entry.load()
        missing = [
            name
            for name in ("kind", "label", "limits", "idempotent", "publish", "fetch_own_posts")
            if not hasattr(cls, name)
        ]
        if missing:
            raise ConnectorLoadError(f"{entry.value} is not a connector: no {', '.join(missing)}")
        if cls.kind != entry.name:
            raise ConnectorLoadError(
                f"{entry.value}.kind is {cls.kind!r}, registered {entry.name!r}"
            )
        found[entry.name] = cls
    return found


def connector_type(kind: str) -> type[Connector]:
    try:
        return connector_types()[kind]
    except KeyError:
        raise NotFound(f"No connector for {kind!r} is installed.") from None


def build_connector(kind: str, context: ConnectorContext) -> Connector:
    cls: type = connector_type(kind)
    connector: Connector = cls(context)
    return connector
