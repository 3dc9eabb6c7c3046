"""Fixtures the channel tests share: the pages, an organisation and its administrator.
(The connect tests' fake networks are installed by an autouse fixture in each of their
modules: here it would reach every channel test.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth.permissions import Role
from sixfold.org.models import Organisation, Person
from tests import factories
from tests.publishing.pages import Pages, open_pages


@pytest.fixture
def pages(db: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Pages]:
    yield from open_pages(db, session_factory, tmp_path)


@pytest.fixture
def org(db: Session) -> Organisation:
    return factories.organisation(db)


@pytest.fixture
def admin(db: Session, org: Organisation) -> Person:
    person = factories.person(db, org, roles=(Role.ADMINISTRATOR,), password=None)
    db.commit()
    return person
