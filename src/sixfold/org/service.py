"""Use cases of the organisation: the directory, teams and people. No HTTP here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.org.models import MAX_TEAM_DEPTH, Organisation, Person, Team

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PAGE_SIZE = 50


def current_organisation(session: Session) -> Organisation:
    """The organisation this installation serves (one per installation for now)."""
    organisation = session.scalars(select(Organisation).order_by(Organisation.id)).first()
    if organisation is None:
        raise NotFound("No organisation yet: run `sixfold demo` or `sixfold user create`.")
    return organisation


def ensure_organisation(session: Session, name: str, slug: str) -> Organisation:
    organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is None:
        organisation = Organisation(name=name, slug=slug)
        session.add(organisation)
        session.flush()
    return organisation


@dataclass(frozen=True)
class DirectoryStats:
    people: int
    teams: int
    managers: int


def directory_stats(session: Session, organisation: Organisation) -> DirectoryStats:
    people = (
        session.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.organisation_id == organisation.id, Person.is_active)
        )
        or 0
    )
    teams = (
        session.scalar(
            select(func.count()).select_from(Team).where(Team.organisation_id == organisation.id)
        )
        or 0
    )
    managers = (
        session.scalar(
            select(func.count(func.distinct(Person.manager_id))).where(
                Person.organisation_id == organisation.id, Person.manager_id.is_not(None)
            )
        )
        or 0
    )
    return DirectoryStats(people=people, teams=teams, managers=managers)


def team_names(session: Session, organisation: Organisation) -> dict[int, str]:
    query = select(Team.id, Team.path).where(Team.organisation_id == organisation.id)
    return {row.id: row.path for row in session.execute(query)}


def active_people(session: Session, organisation: Organisation) -> list[Person]:
    """Everyone currently in the organisation, in a stable order (by id)."""
    query = select(Person).where(Person.organisation_id == organisation.id, Person.is_active)
    return list(session.scalars(query.order_by(Person.id)))


@dataclass(frozen=True)
class Page:
    items: list[Person]
    total: int
    page: int
    pages: int


def search_people(
    session: Session,
    organisation: Organisation,
    *,
    query: str = "",
    team_id: int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page:
    conditions: list[Any] = [Person.organisation_id == organisation.id]
    if query.strip():
        like = f"%{query.strip().lower()}%"
        conditions.append(
            or_(
                func.lower(Person.name).like(like),
                func.lower(Person.email).like(like),
                func.lower(Person.title).like(like),
            )
        )
    if team_id is not None:
        conditions.append(Person.team_id.in_(subtree_ids(session, team_id)))
    total = session.scalar(select(func.count()).select_from(Person).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    items = list(
        session.scalars(
            select(Person)
            .where(*conditions)
            .order_by(Person.name)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return Page(items=items, total=total, page=page, pages=pages)


def get_person(session: Session, organisation: Organisation, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.organisation_id != organisation.id:
        raise NotFound("No such person.")
    return person


def direct_reports(session: Session, person: Person) -> list[Person]:
    return list(
        session.scalars(select(Person).where(Person.manager_id == person.id).order_by(Person.name))
    )


def reporting_chain(session: Session, person: Person, limit: int = 50) -> list[Person]:
    """The person's managers, nearest first (bounded: imports reject cycles, but be safe)."""
    chain: list[Person] = []
    current = person.manager
    while current is not None and len(chain) < limit and current is not person:
        chain.append(current)
        current = current.manager
    return chain


def get_team(session: Session, organisation: Organisation, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.organisation_id != organisation.id:
        raise NotFound("No such team.")
    return team


def team_ancestry(session: Session, team_id: int | None) -> list[int]:
    """The team and its ancestors, nearest first: what a team-scoped role is checked against."""
    parents = dict(session.execute(select(Team.id, Team.parent_id)).all())
    chain: list[int] = []
    while team_id is not None and team_id not in chain:
        chain.append(team_id)
        team_id = parents.get(team_id)
    return chain


def subtree_ids(session: Session, team_id: int) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for child, parent in session.execute(select(Team.id, Team.parent_id)).all():
        children.setdefault(parent, []).append(child)
    found, stack = [], [team_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


@dataclass
class TeamNode:
    team: Team
    direct_members: int
    members: int = 0
    children: list[TeamNode] = field(default_factory=list)


def team_tree(session: Session, organisation: Organisation) -> list[TeamNode]:
    """Teams as a tree with direct and total (subtree) member counts."""
    counts = dict(
        session.execute(
            select(Person.team_id, func.count())
            .where(Person.organisation_id == organisation.id, Person.is_active)
            .group_by(Person.team_id)
        ).all()
    )
    teams = session.scalars(
        select(Team).where(Team.organisation_id == organisation.id).order_by(Team.name)
    ).all()
    nodes = {team.id: TeamNode(team=team, direct_members=counts.get(team.id, 0)) for team in teams}
    roots: list[TeamNode] = []
    for node in nodes.values():
        parent = nodes.get(node.team.parent_id) if node.team.parent_id else None
        (parent.children if parent else roots).append(node)
    # Children come after their parent in the walk, so counting from its end adds each
    # sub-team's total before its parent's. No recursion: a tree imported before teams had a
    # depth limit may be hundreds of levels deep.
    for node, _depth in reversed(walk(roots)):
        node.members = node.direct_members + sum(child.members for child in node.children)
    return roots


def walk(roots: list[TeamNode]) -> list[tuple[TeamNode, int]]:
    """Every node with its depth, each before its sub-teams, in the order of the tree."""
    order: list[tuple[TeamNode, int]] = []
    stack = [(node, 0) for node in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        order.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return order


@dataclass(frozen=True)
class TeamRow:
    """A team of the tree as one row of nested lists, for a page that writes them without
    recursion: `opens` starts a list of sub-teams before the row, `closes` ends as many
    lists after it."""

    node: TeamNode
    depth: int
    opens: bool
    closes: int


def team_rows(roots: list[TeamNode]) -> list[TeamRow]:
    order = walk(roots)
    depths = [0, *(depth for _, depth in order), 0]
    return [
        TeamRow(node, depth, opens=depth > depths[i], closes=max(depth - depths[i + 2], 0))
        for i, (node, depth) in enumerate(order)
    ]


def ensure_team_path(session: Session, organisation: Organisation, path: str) -> Team:
    """The team at a slash-separated path, created with its parents when missing."""
    parts = [part.strip() for part in path.split("/") if part.strip()]
    if not parts:
        raise ValidationFailed("A team needs a name.")
    if len(parts) > MAX_TEAM_DEPTH:
        raise ValidationFailed(
            f"The team path has {len(parts)} levels; at most {MAX_TEAM_DEPTH} are allowed."
        )
    parent: Team | None = None
    for depth in range(1, len(parts) + 1):
        sub_path = "/".join(parts[:depth])
        team = session.scalars(
            select(Team).where(Team.organisation_id == organisation.id, Team.path == sub_path)
        ).first()
        if team is None:
            team = Team(
                organisation_id=organisation.id,
                name=parts[depth - 1],
                path=sub_path,
                parent_id=parent.id if parent else None,
            )
            session.add(team)
            session.flush()
        parent = team
    assert parent is not None
    return parent


def create_person(
    session: Session,
    organisation: Organisation,
    *,
    name: str,
    email: str,
    title: str = "",
    team: Team | None = None,
    manager: Person | None = None,
    external_id: str | None = None,
    actor: audit.Actor,
) -> Person:
    name, email = name.strip(), email.strip().lower()
    if not name:
        raise ValidationFailed("A person needs a name.")
    if not EMAIL.match(email):
        raise ValidationFailed(f"'{email}' is not a valid e-mail address.")
    clash = session.scalars(
        select(Person).where(
            Person.organisation_id == organisation.id, func.lower(Person.email) == email
        )
    ).first()
    if clash is not None:
        raise Conflict(f"{email} already belongs to {clash.name}.")
    person = Person(
        organisation_id=organisation.id,
        external_id=external_id or email,
        name=name,
        email=email,
        title=title.strip(),
        team_id=team.id if team else None,
        manager_id=manager.id if manager else None,
        attributes={},
    )
    session.add(person)
    session.flush()
    audit.record(
        session, actor, "person.created", target_type="person", target_id=person.id, target=email
    )
    return person


def set_publish_without_review(
    session: Session, person: Person, allowed: bool, *, actor: audit.Actor
) -> None:
    person.may_publish_without_review = allowed
    audit.record(
        session,
        actor,
        "person.publishing_standing",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"without_review": allowed},
    )
