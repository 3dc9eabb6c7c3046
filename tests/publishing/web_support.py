"""A signed-in browser for the publishing pages: sessions are started directly (argon2 is
slow on purpose), with a known CSRF token for forms and the composer's script."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from sixfold.config import Settings
from sixfold.org.models import Person
from sixfold.web.app import create_app
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.web.conftest import sign_in_directly

CSRF = "csrf-test-token"


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    settings: Settings
    db: Session
    room: Newsroom

    def as_(self, person: Person | None) -> Site:
        """Sign this browser in as `person` (None: signed out)."""
        sign_in_directly(self.client, self.db, self.settings, person, csrf=CSRF)
        return self

    def form(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": CSRF, **(data or {})}, **kw)

    def json(self, method: str, url: str, body: Any = None, **kw: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": CSRF, "Accept": "application/json", **kw.pop("headers", {})}
        return self.client.request(method, url, json=body, headers=headers, **kw)

    def person(self, *roles: Any, name: str | None = None) -> Person:
        someone = factories.person(self.db, self.room.org, roles=roles, password=None, name=name)
        self.db.commit()
        return someone


def make_site(
    db: Session,
    session_factory: sessionmaker[Session],
    room: Newsroom,
    tmp_path: Path,
    **settings: Any,
) -> Iterator[Site]:
    config = Settings(data_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32, **settings)
    app = create_app(config, session_factory=session_factory)
    db.commit()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield Site(app=app, client=client, settings=config, db=db, room=room)
