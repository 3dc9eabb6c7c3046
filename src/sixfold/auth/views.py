"""Sign-in, sign-out, the profile page and the roles page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold.auth import service
from sixfold.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from sixfold.auth.service import Principal
from sixfold.errors import AuthenticationFailed, DomainError, ValidationFailed
from sixfold.inputs import Id, parse_id
from sixfold.org import service as org_service
from sixfold.org.models import Person
from sixfold.web.access import (
    SESSION_COOKIE,
    DbSession,
    MaybeSignedIn,
    Require,
    SignedIn,
    client_ip,
    session_signer,
    settings_of,
)
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanAssignRoles = Annotated[Principal, Require(Permission.ASSIGN_ROLES).as_dependency()]
CanViewRoles = Annotated[Principal, Require(Permission.VIEW_ROLES).as_dependency()]


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login is a phishing tool."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, principal: MaybeSignedIn, next: str = "/") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "login.html",
        next=safe_next(next),
        error=None,
        email="",
        oidc=settings_of(request).oidc_enabled,
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: DbSession,
    _principal: MaybeSignedIn,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    settings = settings_of(request)
    try:
        person = service.authenticate(
            db, email, password, settings=settings, ip_address=client_ip(request)
        )
    except AuthenticationFailed as error:
        db.commit()  # the failure count and its audit entry must stick
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            error=str(error),
            email=email,
            oidc=settings.oidc_enabled,
        )
    return sign_in_response(request, db, person, target=safe_next(next), method="password")


def sign_in_response(
    request: Request, db: Session, person: Person, *, target: str, method: str
) -> Response:
    settings = settings_of(request)
    web_session = service.start_session(
        db,
        person,
        settings=settings,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        method=method,
    )
    db.commit()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_signer(settings).dumps(web_session.id),
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, principal: SignedIn, db: DbSession) -> Response:
    if principal.session_id:
        service.end_session(db, principal.session_id, actor=principal.actor(client_ip(request)))
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/logout/everywhere")
def logout_everywhere(request: Request, principal: SignedIn, db: DbSession) -> Response:
    service.end_all_sessions(db, principal.person, actor=principal.actor(client_ip(request)))
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _profile(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    new_token: str | None = None,
) -> HTMLResponse:
    person = principal.person
    return render(
        request,
        "profile.html",
        status_code=status_code,
        person=person,
        assignments=service.assignments_of(db, person),
        sessions=service.sessions_of(db, person),
        tokens=service.tokens_of(db, person),
        current_session=principal.session_id,
        error=error,
        notice=notice,
        new_token=new_token,
        chain=org_service.reporting_chain(db, person),
    )


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, principal: SignedIn, db: DbSession) -> HTMLResponse:
    return _profile(request, db, principal)


@router.post("/profile/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    principal: SignedIn,
    db: DbSession,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> HTMLResponse:
    if new != confirm:
        return _profile(
            request,
            db,
            principal,
            status_code=422,
            error="The new password and its confirmation differ.",
        )
    try:
        service.change_password(
            db,
            principal.person,
            current,
            new,
            settings=settings_of(request),
            actor=principal.actor(client_ip(request)),
        )
    except DomainError as error:
        db.rollback()
        return _profile(request, db, principal, status_code=422, error=str(error))
    db.commit()
    return _profile(request, db, principal, notice="Your password was changed.")


@router.post("/profile/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    principal: SignedIn,
    db: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    try:
        _token, secret = service.create_api_token(
            db, principal.person, name, actor=principal.actor(client_ip(request))
        )
    except DomainError as error:
        db.rollback()
        return _profile(request, db, principal, status_code=422, error=str(error))
    db.commit()
    return _profile(
        request,
        db,
        principal,
        new_token=secret,
        notice="Token created. Copy it now: it is shown only once.",
    )


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: Id, principal: SignedIn, db: DbSession) -> Response:
    service.revoke_api_token(
        db, principal.person, token_id, actor=principal.actor(client_ip(request))
    )
    db.commit()
    return RedirectResponse("/profile", status_code=303)


@router.get("/roles", response_class=HTMLResponse)
def roles_page(request: Request, principal: CanViewRoles, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    holders = service.role_holders(db, organisation)
    return render(
        request,
        "roles.html",
        roles=list(Role),
        role_permissions=ROLE_PERMISSIONS,
        permissions=list(Permission),
        holders=holders,
        team_names=org_service.team_names(db, organisation),
    )


@router.post("/people/{person_id}/roles")
def grant_role(
    request: Request,
    person_id: Id,
    principal: CanAssignRoles,
    db: DbSession,
    role: Annotated[Role, Form()],
    team_id: Annotated[str, Form()] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    person = org_service.get_person(db, organisation, person_id)
    team = None
    if team_id:  # empty: the whole organisation
        number = parse_id(team_id)
        if number is None:
            raise ValidationFailed("Choose the scope from the list: the organisation or a team.")
        team = org_service.get_team(db, organisation, number)
    service.assign_role(
        db,
        person,
        role,
        team=team,
        actor=principal.actor(client_ip(request)),
        by=principal.grants,
    )
    db.commit()
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/roles/{assignment_id}/revoke")
def revoke_role(
    request: Request,
    person_id: Id,
    assignment_id: Id,
    principal: CanAssignRoles,
    db: DbSession,
) -> Response:
    service.revoke_role(
        db,
        assignment_id,
        person_id=person_id,
        actor=principal.actor(client_ip(request)),
        by=principal.grants,
    )
    db.commit()
    return RedirectResponse(f"/people/{person_id}", status_code=303)


def register(app: FastAPI) -> None:
    add_routes(app, router)
