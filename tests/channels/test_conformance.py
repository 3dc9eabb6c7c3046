"""Every installed connector (the `sixfold.connectors` entry points) passes every check.

Installing a package that adds a connector adds it here: its tests fail until it has a
context factory in tests/channels/conformance.py and behaves as the checks say.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sixfold.channels import service as channels
from sixfold.channels.base import ConnectorContext
from sixfold.channels.registry import ENTRY_POINT_GROUP, build_connector, connector_types
from sixfold.config import Settings
from sixfold.db import utcnow
from tests import factories
from tests.channels.conformance import CHECKS, CONTEXT_FACTORIES, ConformanceEnv, Subject
from tests.publishing.fakes import SCRIPTED_CONNECTORS, ScriptedConnector, ScriptedNetwork

INSTALLED = sorted(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP))
SETTINGS = Settings(secret_key="conformance-tests-secret-key")


def test_the_connectors_that_ship_with_sixfold_are_installed() -> None:
    assert {"internal", "null", "file"} <= set(INSTALLED)


@pytest.mark.parametrize("kind", INSTALLED)
def test_every_installed_connector_has_a_context_factory(kind: str) -> None:
    assert kind in CONTEXT_FACTORIES, (
        f"connector {kind!r} is installed but the conformance suite cannot build it: "
        "register a context factory with @context_factory in tests/channels/conformance.py"
    )


@pytest.fixture(params=INSTALLED)
def installed(request: pytest.FixtureRequest, db: Session, tmp_path: Path) -> Iterator[Subject]:
    kind: str = request.param
    factory = CONTEXT_FACTORIES.get(kind)
    if factory is None:
        pytest.fail(f"no conformance context factory for installed connector {kind!r}")
    org = factories.organisation(db)
    channel = channels.create_channel(
        db, org, kind=kind, name=f"Conformance {kind}", actor=factories.ACTOR
    )
    env = ConformanceEnv(db, tmp_path, channel, SETTINGS)
    with env.resources:
        yield Subject(kind, connector_types()[kind], lambda: build_connector(kind, factory(env)))


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_installed_connector_conforms(installed: Subject, check: str) -> None:
    CHECKS[check](installed)


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("cls", SCRIPTED_CONNECTORS, ids=lambda c: c.kind)
def test_the_publisher_tests_scripted_connectors_conform(
    cls: type[ScriptedConnector], check: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The publisher's tests prove exactly-once against these fakes: they must behave like
    # a real connector, or the proof proves nothing.
    monkeypatch.setattr(cls, "network", ScriptedNetwork(utcnow), raising=False)
    context = ConnectorContext(channel_id=1, settings={}, credentials={})
    CHECKS[check](Subject(cls.kind, cls, lambda: cls(context)))
