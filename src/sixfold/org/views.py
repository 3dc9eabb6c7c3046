"""People and teams pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Permission, Role
from sixfold.auth.service import Principal
from sixfold.inputs import Id
from sixfold.org import service
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanViewDirectory = Annotated[Principal, Require(Permission.VIEW_DIRECTORY).as_dependency()]
CanManagePeople = Annotated[Principal, Require(Permission.MANAGE_PEOPLE).as_dependency()]


@router.get("/people", response_class=HTMLResponse)
def people(
    request: Request,
    principal: CanViewDirectory,
    db: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    team: Id | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    organisation = service.current_organisation(db)
    result = service.search_people(db, organisation, query=q, team_id=team, page=page)
    return render(
        request,
        "people.html",
        result=result,
        q=q,
        team=team,
        team_names=service.team_names(db, organisation),
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request, person_id: Id, principal: CanViewDirectory, db: DbSession
) -> HTMLResponse:
    organisation = service.current_organisation(db)
    person = service.get_person(db, organisation, person_id)
    assignments = auth_service.assignments_of(db, person)
    return render(
        request,
        "person.html",
        person=person,
        chain=service.reporting_chain(db, person),
        reports=service.direct_reports(db, person),
        assignments=assignments,
        team_names=service.team_names(db, organisation),
        # Only what this person may hand out or take away (auth.service.may_change_role).
        roles=[r for r in Role if auth_service.may_change_role(principal.grants, r, scoped=True)],
        revocable={
            a.id
            for a in assignments
            if auth_service.may_change_role(
                principal.grants, Role(a.role), scoped=a.team_id is not None
            )
        },
        can_assign=principal.grants.has_anywhere(Permission.ASSIGN_ROLES),
        can_manage=principal.grants.has_anywhere(Permission.MANAGE_PEOPLE),
        locked_until=auth_service.locked_until(db, person),
        done=request.query_params.get("done"),
    )


@router.post("/people/{person_id}/standing")
def set_standing(
    request: Request,
    person_id: Id,
    principal: CanManagePeople,
    db: DbSession,
    without_review: Annotated[bool, Form()] = False,
) -> Response:
    organisation = service.current_organisation(db)
    person = service.get_person(db, organisation, person_id)
    service.set_publish_without_review(
        db, person, without_review, actor=principal.actor(client_ip(request))
    )
    db.commit()
    return RedirectResponse(f"/people/{person_id}?done=standing", status_code=303)


@router.post("/people/{person_id}/unlock")
def unlock(request: Request, person_id: Id, principal: CanManagePeople, db: DbSession) -> Response:
    organisation = service.current_organisation(db)
    person = service.get_person(db, organisation, person_id)
    auth_service.unlock(db, person, actor=principal.actor(client_ip(request)))
    db.commit()
    return RedirectResponse(f"/people/{person_id}?done=unlocked", status_code=303)


@router.get("/teams", response_class=HTMLResponse)
def teams(request: Request, principal: CanViewDirectory, db: DbSession) -> HTMLResponse:
    organisation = service.current_organisation(db)
    tree = service.team_tree(db, organisation)
    return render(request, "teams.html", rows=service.team_rows(tree))


@router.get("/teams/{team_id}", response_class=HTMLResponse)
def team_page(
    request: Request, team_id: Id, principal: CanViewDirectory, db: DbSession
) -> HTMLResponse:
    organisation = service.current_organisation(db)
    team = service.get_team(db, organisation, team_id)
    members = service.search_people(db, organisation, team_id=team.id, page_size=500)
    return render(
        request,
        "team.html",
        team=team,
        members=members,
        team_names=service.team_names(db, organisation),
    )


def register(app: FastAPI) -> None:
    add_routes(app, router)
