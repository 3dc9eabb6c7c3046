"""Settings pages of the risk engine: the sensitive-event register, the policy, feed suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import DomainError
from sixfold.guardrails import policy_service, settings_service, suggestions
from sixfold.guardrails.categories import categories_by_scanner, event_kinds
from sixfold.guardrails.forms import FormInvalid, local_today
from sixfold.guardrails.models import SensitiveEvent
from sixfold.guardrails.service import settings_of
from sixfold.guardrails.settings_service import EventInput
from sixfold.inputs import Id, parse_id
from sixfold.org import service as org_service
from sixfold.org.models import Organisation
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(prefix="/settings/risk", include_in_schema=False)
CanManage = Annotated[Principal, Require(Permission.MANAGE_GUARDRAILS).as_dependency()]
# Messages after a redirect are chosen by key, so nothing from the address is echoed.
NOTICES = {
    "added": "The event was added. Posts are checked against it from its first day.",
    "saved": "The event was saved.",
    "ended": "The event was ended. Posts are checked against it until the end of today.",
    "policy": "The policy was saved. The next check uses it.",
    "queued": "The feed will be read in the background. Reload this page to see the result.",
    "dismissed": "The suggestion was dismissed.",
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


@router.get("", response_class=HTMLResponse)
def overview(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    today = local_today(organisation)
    return render(
        request,
        "guardrails/overview.html",
        today=today,
        builtin_active=settings_service.builtin_active(today),
        events=settings_service.events_by_status(db, organisation, today),
        policy=settings_of(db, organisation.id),
        pending=settings_service.pending_suggestions(db, organisation),
        fetch=suggestions.latest_fetch(db, organisation),
        notice=_notice(request),
    )


def _event_form(
    request: Request,
    organisation: Organisation,
    data: EventInput,
    *,
    row: SensitiveEvent | None = None,
    error: DomainError | None = None,
) -> HTMLResponse:
    """The event form: empty, filled in from a suggestion, or editing `row`."""
    today = local_today(organisation)
    problems = error.problems if isinstance(error, FormInvalid) else {}
    return render(
        request,
        "guardrails/event.html",
        status_code=error.status_code if error else 200,
        data=data,
        event_id=row.id if row else None,
        status=settings_service.event_status(row, today) if row else "",
        can_end=row is not None and settings_service.end_problem(row, today) is None,
        kinds=event_kinds(),
        problems=problems,
        error=str(error) if error and (not problems or "form" in problems) else None,
        notice=_notice(request),
    )


def _event_input(form: FormData) -> EventInput:
    return EventInput(
        name=_text(form, "name"),
        kind=_text(form, "kind"),
        starts_on=_text(form, "starts_on"),
        ends_on=_text(form, "ends_on"),
        recurs_yearly=_text(form, "recurs_yearly") == "yes",
        keywords=_text(form, "keywords"),
        source_url=_text(form, "source_url"),
        suggestion_id=parse_id(_text(form, "suggestion_id")),
    )


@router.get("/events/new", response_class=HTMLResponse)
def new_event(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    data = EventInput(starts_on=local_today(organisation).isoformat())
    return _event_form(request, organisation, data)


@router.post("/events")
async def add_event(request: Request, principal: CanManage, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    data = _event_input(await request.form())
    try:
        row = settings_service.add_event(
            db,
            organisation,
            data,
            actor=principal.actor(client_ip(request)),
            person=principal.person,
        )
    except DomainError as error:
        db.rollback()
        return _event_form(request, organisation, data, error=error)
    db.commit()
    return RedirectResponse(f"/settings/risk/events/{row.id}?done=added", status_code=303)


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: Id, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    row = settings_service.get_event(db, organisation, event_id)
    return _event_form(request, organisation, EventInput.of(row), row=row)


@router.post("/events/{event_id}")
async def change_event(
    request: Request, event_id: Id, principal: CanManage, db: DbSession
) -> Response:
    organisation = org_service.current_organisation(db)
    data = _event_input(await request.form())
    try:
        settings_service.change_event(
            db, organisation, event_id, data, actor=principal.actor(client_ip(request))
        )
    except FormInvalid as error:
        db.rollback()
        row = settings_service.get_event(db, organisation, event_id)
        return _event_form(request, organisation, data, row=row, error=error)
    db.commit()
    return RedirectResponse(f"/settings/risk/events/{event_id}?done=saved", status_code=303)


@router.post("/events/{event_id}/end")
def end_event(request: Request, event_id: Id, principal: CanManage, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    settings_service.end_event(
        db, organisation, event_id, actor=principal.actor(client_ip(request))
    )
    db.commit()
    return RedirectResponse(f"/settings/risk/events/{event_id}?done=ended", status_code=303)


@router.get("/try", response_class=HTMLResponse)
def try_page(request: Request, principal: CanManage) -> HTMLResponse:
    """The form alone: what a reload of a result page, or a shared address of one, shows.
    Results answer a POST, so sample texts (often confidential terms being tried) stay out
    of addresses, histories and server logs."""
    return render(request, "guardrails/try.html", result=None, text="", day="", problems={})


@router.post("/try", response_class=HTMLResponse)
async def try_post(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    form = await request.form()
    text, day = _text(form, "text"), _text(form, "day")
    try:
        result = settings_service.try_text(db, organisation, text, day=day)
    except FormInvalid as error:
        return render(
            request,
            "guardrails/try.html",
            status_code=error.status_code,
            result=None,
            text=text,
            day=day,
            problems=error.problems,
        )
    return render(request, "guardrails/try.html", result=result, text=text, day=day, problems={})


def _policy_page(
    request: Request,
    data: policy_service.PolicyInput,
    *,
    error: FormInvalid | None = None,
) -> HTMLResponse:
    return render(
        request,
        "guardrails/policy.html",
        status_code=error.status_code if error else 200,
        data=data,
        groups=categories_by_scanner(),
        choices=policy_service.VERDICT_CHOICES,
        regions=policy_service.phone_regions(),
        problems=error.problems if error else {},
        notice=_notice(request),
    )


@router.get("/policy", response_class=HTMLResponse)
def policy_page(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    row = settings_of(db, organisation.id)
    return _policy_page(request, policy_service.PolicyInput.of(row))


@router.post("/policy")
async def save_policy(request: Request, principal: CanManage, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    form = await request.form()
    data = policy_service.PolicyInput(
        confidential_terms=_text(form, "confidential_terms"),
        allowed_domains=_text(form, "allowed_domains"),
        public_contacts=_text(form, "public_contacts"),
        phone_region=_text(form, "phone_region"),
        news_feed_url=_text(form, "news_feed_url"),
        verdicts={
            key.removeprefix("verdict."): _text(form, key)
            for key in form
            if key.startswith("verdict.")
        },
    )
    try:
        policy_service.save_policy(
            db, organisation, data, actor=principal.actor(client_ip(request))
        )
    except FormInvalid as error:
        db.rollback()
        return _policy_page(request, data, error=error)
    db.commit()
    return RedirectResponse("/settings/risk/policy?done=policy", status_code=303)


def _suggestions_page(
    request: Request,
    db: Session,
    organisation: Organisation,
    *,
    error: DomainError | None = None,
) -> HTMLResponse:
    fetch = suggestions.latest_fetch(db, organisation)
    return render(
        request,
        "guardrails/suggestions.html",
        status_code=error.status_code if error else 200,
        feed_url=settings_of(db, organisation.id).news_feed_url,
        fetch=fetch,
        fetch_problem=suggestions.fetch_problem(fetch),
        next_fetch_at=suggestions.next_fetch_at(db, organisation),
        open=suggestions.open_suggestions(db, organisation),
        handled=suggestions.handled_suggestions(db, organisation),
        error=str(error) if error else None,
        notice=_notice(request),
    )


@router.get("/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    return _suggestions_page(request, db, org_service.current_organisation(db))


@router.post("/feed/fetch")
def fetch_feed(request: Request, principal: CanManage, db: DbSession) -> Response:
    organisation = org_service.current_organisation(db)
    try:
        suggestions.queue_feed_fetch(
            db, organisation, actor=principal.actor(client_ip(request)), person=principal.person
        )
    except DomainError as error:
        db.rollback()
        return _suggestions_page(request, db, organisation, error=error)
    db.commit()
    return RedirectResponse("/settings/risk/suggestions?done=queued", status_code=303)


@router.post("/suggestions/{suggestion_id}/confirm", response_class=HTMLResponse)
def confirm_suggestion(
    request: Request, suggestion_id: Id, principal: CanManage, db: DbSession
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    today = local_today(organisation)
    data = suggestions.event_draft(db, organisation, suggestion_id, today=today)
    return _event_form(request, organisation, data)


@router.post("/suggestions/{suggestion_id}/dismiss")
def dismiss_suggestion(
    request: Request, suggestion_id: Id, principal: CanManage, db: DbSession
) -> Response:
    organisation = org_service.current_organisation(db)
    suggestions.dismiss(db, organisation, suggestion_id, actor=principal.actor(client_ip(request)))
    db.commit()
    return RedirectResponse("/settings/risk/suggestions?done=dismissed", status_code=303)


def register(app: FastAPI) -> None:
    add_routes(app, router)
