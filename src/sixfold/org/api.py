"""JSON API of the organisation directory."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.inputs import Id
from sixfold.org import service
from sixfold.org.models import Person
from sixfold.web.access import DbSession, Require
from sixfold.web.routing import add_routes

router = APIRouter(prefix="/api/v1", tags=["organisation"])
CanViewDirectory = Annotated[Principal, Require(Permission.VIEW_DIRECTORY).as_dependency()]


class PersonOut(BaseModel):
    id: int
    external_id: str
    name: str
    email: str
    title: str
    location: str
    team_id: int | None
    team: str | None
    manager_id: int | None
    active: bool
    attributes: dict[str, Any]


class PeoplePage(BaseModel):
    items: list[PersonOut]
    total: int
    page: int
    pages: int


class TeamOut(BaseModel):
    id: int
    name: str
    path: str
    parent_id: int | None
    members: int
    direct_members: int


def _person_out(person: Person, teams: dict[int, str]) -> PersonOut:
    return PersonOut(
        id=person.id,
        external_id=person.external_id,
        name=person.name,
        email=person.email,
        title=person.title,
        location=person.location,
        team_id=person.team_id,
        team=teams.get(person.team_id) if person.team_id else None,
        manager_id=person.manager_id,
        active=person.is_active,
        attributes=person.attributes,
    )


@router.get("/people", response_model=PeoplePage)
def list_people(
    principal: CanViewDirectory,
    db: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    team: Id | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PeoplePage:
    organisation = service.current_organisation(db)
    result = service.search_people(
        db, organisation, query=q, team_id=team, page=page, page_size=page_size
    )
    teams = service.team_names(db, organisation)
    return PeoplePage(
        items=[_person_out(p, teams) for p in result.items],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


@router.get("/people/{person_id}", response_model=PersonOut)
def get_person(person_id: Id, principal: CanViewDirectory, db: DbSession) -> PersonOut:
    organisation = service.current_organisation(db)
    person = service.get_person(db, organisation, person_id)
    return _person_out(person, service.team_names(db, organisation))


@router.get("/teams", response_model=list[TeamOut])
def list_teams(principal: CanViewDirectory, db: DbSession) -> list[TeamOut]:
    organisation = service.current_organisation(db)
    return [
        TeamOut(
            id=node.team.id,
            name=node.team.name,
            path=node.team.path,
            parent_id=node.team.parent_id,
            members=node.members,
            direct_members=node.direct_members,
        )
        for node, _ in service.walk(service.team_tree(db, organisation))
    ]


def register(app: FastAPI) -> None:
    add_routes(app, router)
