"""Fixtures for publishing: an organisation with an internal stream, an author, reviewers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.channels.models import Channel
from sixfold.config import Settings
from sixfold.db import utcnow
from sixfold.jobs import Runner
from sixfold.org.models import Organisation, Person
from sixfold.publishing import drafts
from sixfold.publishing.models import Post
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.jobs.conftest import FakeClock
from tests.publishing.fakes import ScriptedNetwork, install_scripted_connectors

SETTINGS = Settings(secret_key="publishing-tests-secret-key")


@dataclass
class Newsroom:
    org: Organisation
    stream: Channel
    author: Person
    mentor: Person
    leader: Person

    def draft(
        self, db: Session, text: str = "Our new trail guide is out today.", **kw: object
    ) -> Post:
        data = drafts.DraftInput(text=text, channel_ids=[self.stream.id], **kw)  # type: ignore[arg-type]
        return drafts.create_draft(db, self.org, self.author, data, actor=factories.ACTOR)


@pytest.fixture
def newsroom(db: Session) -> Newsroom:
    org = factories.organisation(db)
    stream = channels.create_channel(
        db, org, kind="internal", name="Internal stream", actor=factories.ACTOR
    )
    return Newsroom(
        org=org,
        stream=stream,
        author=factories.person(db, org, roles=(Role.CONTRIBUTOR,), password=None),
        mentor=factories.person(db, org, roles=(Role.COMMUNITY_MENTOR,), password=None),
        leader=factories.person(db, org, roles=(Role.LEADER,), password=None),
    )


@pytest.fixture
def runner(session_factory: sessionmaker[Session]) -> Runner:
    return Runner(session_factory, [Publication], services={"settings": SETTINGS})


# The publisher's tests step workers by hand on a fake clock against scripted networks.
LEASE_SECONDS = 60
MakeRunner = Callable[..., Runner]


@pytest.fixture
def clock() -> FakeClock:
    # Ahead of the wall clock, so posts scheduled "now" (by the real clock) are due.
    return FakeClock(utcnow() + timedelta(minutes=5))


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[ScriptedNetwork]:
    with install_scripted_connectors(monkeypatch, ScriptedNetwork(clock)) as installed:
        yield installed


@pytest.fixture
def make_runner(session_factory: sessionmaker[Session], clock: FakeClock) -> MakeRunner:
    def make(worker_id: str = "worker-a") -> Runner:
        return Runner(
            session_factory,
            [Publication],
            worker_id=worker_id,
            lease_seconds=LEASE_SECONDS,
            clock=clock,
            services={"settings": SETTINGS},
        )

    return make
