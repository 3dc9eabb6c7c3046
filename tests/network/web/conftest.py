"""A small organisation with a network to analyse, and a worker to step."""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth import service as auth_service
from sixfold.auth.grants import Grants
from sixfold.auth.permissions import Role
from sixfold.jobs import Runner
from sixfold.network.store import NetworkAnalysis
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person
from tests import factories

# The web fixtures (an app on the test database, its client and settings) for the page tests.
from tests.web.conftest import app, client, settings  # noqa: F401 - fixtures, used by name

# Sales (two teams of five) and Ops (six) are shown; Tiny (two people) is below the minimum
# group size. Everyone's manager is their team's first member; team leads report to Ada.
TEAMS = {"Sales/North": 5, "Sales/South": 5, "Ops": 6, "Tiny": 2}
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAYS = 85  # three whole 28-day windows


@dataclass
class NetworkWorld:
    organisation: Organisation
    people: dict[str, list[Person]]  # by team path
    ceo: Person

    def everyone(self) -> list[Person]:
        return [self.ceo] + [p for members in self.people.values() for p in members]


@pytest.fixture
def network_world(db: Session) -> NetworkWorld:
    org = factories.organisation(db)
    ceo = org_service.create_person(
        db,
        org,
        name="Ada Chief",
        email="ada@example.org",
        actor=factories.ACTOR,
        team=factories.team(db, org, "Executive"),
    )
    people: dict[str, list[Person]] = {}
    for path, size in TEAMS.items():
        team = factories.team(db, org, path)
        members: list[Person] = []
        for n in range(size):
            slug = path.lower().replace("/", "-")
            members.append(
                org_service.create_person(
                    db,
                    org,
                    name=f"{path.split('/')[-1]} Person {n}",
                    email=f"{slug}-{n}@example.org",
                    team=team,
                    manager=members[0] if members else ceo,
                    external_id=f"HR-{slug}-{n}",
                    actor=factories.ACTOR,
                )
            )
        people[path] = members
    db.flush()
    return NetworkWorld(org, people, ceo)


def interactions_csv(world: NetworkWorld, *, seed: int = 1, per_day: int = 30) -> bytes:
    """Mostly within teams, some across Sales, a bridge (Ops 0) to Sales, Tiny with Sales."""
    rng = random.Random(seed)
    teams = world.people
    sales = teams["Sales/North"] + teams["Sales/South"]
    lines = ["timestamp,source,target,kind"]
    for day in range(DAYS):
        when = START + timedelta(days=day)
        for _ in range(per_day):
            group = rng.choice([teams["Sales/North"], teams["Sales/South"], teams["Ops"], sales])
            a, b = rng.sample(group, 2)
            lines.append(f"{when.isoformat()},{a.email},{b.email},email")
        bridge = teams["Ops"][0]
        lines.append(f"{when.isoformat()},{bridge.email},{rng.choice(sales).email},reply")
        lines.append(f"{when.isoformat()},{rng.choice(sales).email},{bridge.email},reply")
        lines.append(f"{when.isoformat()},{teams['Tiny'][day % 2].email},{sales[0].email},email")
    return ("\n".join(lines) + "\n").encode()


def zip_bomb() -> bytes:
    """A ZIP whose one member inflates a thousandfold: what a Slack export must never be."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("general/2026-01-05.json", b"[" + b" " * (20 * 1024**2) + b"]")
    return buffer.getvalue()


def org_wide_analyst(db: Session, world: NetworkWorld) -> tuple[Person, Grants]:
    analyst = factories.person(db, world.organisation, roles=(Role.NETWORK_ANALYST,), password=None)
    return analyst, auth_service.grants_for(db, analyst)


def run_worker(session_factory: sessionmaker[Session], cycles: int = 5) -> None:
    """Step the worker until the analyses have nothing left to do."""
    runner = Runner(session_factory, models=[NetworkAnalysis])
    for _ in range(cycles):
        if runner.run_single_cycle() == 0:
            return
