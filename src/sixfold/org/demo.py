"""The demo organisation: about 200 people in 8 departments, every role held by someone.

Names are generated from a fixed seed so the demo looks the same on every machine. Each
role's demo login gets a random password, kept in the data folder (mode 0600) so that
`make run` can print the logins again on later starts.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.network.demo import seed_network
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person, Team
from sixfold.publishing.demo import seed_publishing

DEMO_SLUG = "northwind"
DEMO_NAME = "Northwind Outdoor Co."
LOGINS_FILE = "demo-logins.json"
SEED = 20130215  # the day of the Chelyabinsk meteor, and of a famous tone-deaf brand post
SYSTEM = audit.Actor(id=None, label="demo")

DEPARTMENTS: dict[str, list[str]] = {
    "Executive Office": [],
    "Marketing": ["Brand", "Social Media", "Campaigns"],
    "Communications": ["Press Office", "Internal Communications"],
    "Customer Care": ["Support", "Community"],
    "Product": ["Footwear", "Apparel"],
    "Engineering": ["Platform", "Web"],
    "Finance": ["Investor Relations", "Controlling"],
    "People": ["Talent", "Learning"],
}
FIRST = [
    "Ava",
    "Ben",
    "Chloé",
    "Daniel",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samir",
    "Tove",
    "Uma",
    "Viktor",
    "Wanjiru",
    "Xavier",
    "Yara",
    "Zoltan",
    "Amara",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esther",
    "Felix",
    "Grace",
    "Hamid",
    "Ingrid",
    "Jamal",
    "Keiko",
    "Luca",
    "Mei",
    "Noah",
]
LAST = [
    "Andersen",
    "Baptiste",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Takahashi",
    "Underwood",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Abebe",
    "Brennan",
    "Castillo",
    "Demir",
]
LOCATIONS = ("Amsterdam", "Berlin", "Lisbon", "Remote", "Stockholm")
ROLE_LOGINS = {
    Role.ADMINISTRATOR: (
        "Alex Admin",
        "admin@northwind.example",
        "Executive Office",
        "Platform Administrator",
    ),
    Role.LEADER: (
        "Lea Leader",
        "leader@northwind.example",
        "Executive Office",
        "Chief Executive Officer",
    ),
    Role.COMMUNITY_MENTOR: (
        "Mo Mentor",
        "mentor@northwind.example",
        "Marketing/Social Media",
        "Community Mentor",
    ),
    Role.CONTENT_CURATOR: (
        "Cora Curator",
        "curator@northwind.example",
        "Communications/Internal Communications",
        "Content Curator",
    ),
    Role.NETWORK_ANALYST: (
        "Nils Analyst",
        "analyst@northwind.example",
        "People/Learning",
        "Organisational Network Analyst",
    ),
    Role.CONTRIBUTOR: (
        "Cam Contributor",
        "contributor@northwind.example",
        "Customer Care/Community",
        "Community Manager",
    ),
}


def seed_demo(session: Session, *, settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo organisation once; return the role logins (role, e-mail, password)."""
    existing = session.scalars(select(Organisation).where(Organisation.slug == DEMO_SLUG)).first()
    if existing is not None:
        return read_logins(settings.data_dir)
    organisation = org_service.ensure_organisation(session, DEMO_NAME, DEMO_SLUG)
    teams = _create_teams(session, organisation)
    rng = random.Random(SEED)
    heads = _create_people(session, organisation, teams, rng)
    logins = _create_role_logins(session, organisation, teams, heads, settings)
    seed_publishing(session, organisation, settings=settings)
    seed_network(session, organisation, SYSTEM)
    audit.record(
        session,
        SYSTEM,
        "demo.seeded",
        target_type="organisation",
        target_id=organisation.id,
        target=organisation.name,
    )
    write_logins(settings.data_dir, logins)
    return logins


def _create_teams(session: Session, organisation: Organisation) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for department, subteams in DEPARTMENTS.items():
        teams[department] = org_service.ensure_team_path(session, organisation, department)
        for sub in subteams:
            path = f"{department}/{sub}"
            teams[path] = org_service.ensure_team_path(session, organisation, path)
    return teams


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in used:
            used.add(name)
            return name


def _email(name: str) -> str:
    local = name.lower().replace(" ", ".")
    return local.encode("ascii", "ignore").decode() + "@northwind.example"


def _add(
    session: Session,
    organisation: Organisation,
    *,
    name: str,
    title: str,
    team: Team,
    manager: Person | None,
    rng: random.Random,
) -> Person:
    person = Person(
        organisation_id=organisation.id,
        external_id=f"NW{len(session.new) + 1}",
        name=name,
        email=_email(name),
        title=title,
        team_id=team.id,
        manager_id=manager.id if manager else None,
        location=rng.choice(LOCATIONS),
        attributes={},
    )
    session.add(person)
    session.flush()
    person.external_id = f"NW{person.id:05d}"
    return person


def _create_people(
    session: Session, organisation: Organisation, teams: dict[str, Team], rng: random.Random
) -> dict[str, Person]:
    used: set[str] = set()
    ceo = _add(
        session,
        organisation,
        name=_name(rng, used),
        title="Managing Director",
        team=teams["Executive Office"],
        manager=None,
        rng=rng,
    )
    heads = {"Executive Office": ceo}
    for department, subteams in DEPARTMENTS.items():
        if department == "Executive Office":
            continue
        head = _add(
            session,
            organisation,
            name=_name(rng, used),
            title=f"Head of {department}",
            team=teams[department],
            manager=ceo,
            rng=rng,
        )
        heads[department] = head
        for sub in subteams:
            lead = _add(
                session,
                organisation,
                name=_name(rng, used),
                title=f"{sub} Lead",
                team=teams[f"{department}/{sub}"],
                manager=head,
                rng=rng,
            )
            heads[f"{department}/{sub}"] = lead
            for _ in range(rng.randint(10, 13)):
                _add(
                    session,
                    organisation,
                    name=_name(rng, used),
                    title=f"{sub} Specialist",
                    team=teams[f"{department}/{sub}"],
                    manager=lead,
                    rng=rng,
                )
    return heads


def _create_role_logins(
    session: Session,
    organisation: Organisation,
    teams: dict[str, Team],
    heads: dict[str, Person],
    settings: Settings,
) -> list[tuple[str, str, str]]:
    logins = []
    for role, (name, email, team_path, title) in ROLE_LOGINS.items():
        manager = heads.get(team_path) or heads["Executive Office"]
        person = Person(
            organisation_id=organisation.id,
            external_id=email,
            name=name,
            email=email,
            title=title,
            team_id=teams[team_path].id,
            manager_id=manager.id,
            location="Amsterdam",
            attributes={},
        )
        session.add(person)
        session.flush()
        password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
        auth_service.set_password(session, person, password, settings=settings, actor=SYSTEM)
        auth_service.assign_role(session, person, role, team=None, actor=SYSTEM, by=None)
        logins.append((role.value, email, password))
    return logins


def write_logins(data_dir: Path, logins: list[tuple[str, str, str]]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOGINS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump([list(login) for login in logins], handle, indent=1)


def read_logins(data_dir: Path) -> list[tuple[str, str, str]]:
    path = data_dir / LOGINS_FILE
    if not path.exists():
        return []
    return [(str(r), str(e), str(p)) for r, e, p in json.loads(path.read_text("utf-8"))]
