"""Driving the web pages as one person or another, without the slow password sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from sixfold.config import Settings
from sixfold.org.models import Person
from sixfold.web.app import create_app
from tests.web.conftest import sign_in_directly

CSRF = "pages-test-csrf-token"


class Pages:
    """A browser with a session cookie for whoever `as_` names; forms carry the CSRF token."""

    def __init__(self, client: TestClient, db: Session, settings: Settings) -> None:
        self.client, self.db, self.settings = client, db, settings

    def as_(self, person: Person | None) -> Pages:
        sign_in_directly(self.client, self.db, self.settings, person, csrf=CSRF)
        return self

    def get(self, url: str, **params: Any) -> httpx.Response:
        # An empty `params` would replace a query string written into `url`.
        return self.client.get(url, params=params or None)

    def post(self, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """A form post; a list value sends the field once per item (a multiple select)."""
        return self.client.post(url, data={**(data or {}), "csrf_token": CSRF})


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="pages-tests-" + "k" * 32)


def open_pages(
    db: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> Iterator[Pages]:
    """For a module's `pages` fixture: `yield from open_pages(db, session_factory, tmp_path)`."""
    settings = settings_for(tmp_path)
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as client:
        yield Pages(client, db, settings)
