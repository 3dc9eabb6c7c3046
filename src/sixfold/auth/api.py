"""JSON API of accounts."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from sixfold.web.access import SignedIn
from sixfold.web.routing import add_routes

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class RoleOut(BaseModel):
    role: str
    team_id: int | None


class MeOut(BaseModel):
    id: int
    name: str
    email: str
    roles: list[RoleOut]
    permissions: list[str]
    via: str


@router.get("/me", response_model=MeOut)
def me(principal: SignedIn) -> MeOut:
    person, grants = principal.person, principal.grants
    return MeOut(
        id=person.id,
        name=person.name,
        email=person.email,
        via=principal.via,
        roles=[RoleOut(role=role.value, team_id=team) for role, team in grants.roles],
        permissions=sorted(p.value for p in grants.organisation),
    )


def register(app: FastAPI) -> None:
    add_routes(app, router)
