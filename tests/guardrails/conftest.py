"""Fixtures for the guardrails settings: an organisation, a leader who manages them, feeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.org.models import Organisation, Person
from sixfold.web.app import create_app
from tests import factories
from tests.web.conftest import sign_in_directly

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"


@dataclass
class Guardians:
    org: Organisation
    leader: Person

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(id=self.leader.id, label=self.leader.email)


@pytest.fixture
def guardians(db: Session) -> Guardians:
    org = factories.organisation(db)
    leader = factories.person(db, org, roles=(Role.LEADER,), password=None)
    return Guardians(org=org, leader=leader)


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


CSRF = "csrf-test-token"


@dataclass
class Browser:
    """A browser signed in directly (argon2 is slow on purpose), with a known CSRF token."""

    client: TestClient
    settings: Settings
    db: Session

    def as_(self, person: Person | None) -> Browser:
        sign_in_directly(self.client, self.db, self.settings, person, csrf=CSRF)
        return self

    def get(self, url: str) -> httpx.Response:
        return self.client.get(url)

    def form(self, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": CSRF, **(data or {})})


@pytest.fixture
def browser(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, tmp_path: Path
) -> Iterator[Browser]:
    settings = Settings(data_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32)
    app = create_app(settings, session_factory=session_factory)
    db.commit()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield Browser(client=client, settings=settings, db=db).as_(guardians.leader)
