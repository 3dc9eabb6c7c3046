"""Test data builders: a person with roles and a password, an organisation with teams."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person, Team

ACTOR = audit.Actor(id=None, label="tests")
PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def organisation(db: Session) -> Organisation:
    return org_service.ensure_organisation(db, "Test Org", "test-org")


def team(db: Session, org: Organisation, path: str = "Marketing/Social") -> Team:
    return org_service.ensure_team_path(db, org, path)


def person(
    db: Session,
    org: Organisation,
    *,
    roles: tuple[Role, ...] = (),
    settings: Settings | None = None,
    name: str | None = None,
    email: str | None = None,
    team_: Team | None = None,
    password: str | None = PASSWORD,
) -> Person:
    n = next(_sequence)
    someone = org_service.create_person(
        db,
        org,
        name=name or f"Person {n}",
        email=email or f"person{n}@example.org",
        team=team_,
        actor=ACTOR,
    )
    if password is not None:
        auth_service.set_password(
            db, someone, password, settings=settings or Settings(), actor=ACTOR
        )
    for role in roles:
        auth_service.assign_role(db, someone, role, team=None, actor=ACTOR)
    db.flush()
    return someone
