"""The "Connect a channel" pages, reconnecting, and the test post.

/channels/connect/{kind} asks for the network's setup fields and Sixfold's own channel
settings. A "form" network is connected on the spot. An "oauth2" network gets the person
sent to it (by a page that follows its link at once), with the flow sealed in a cookie
scoped to /channels/connect; the network answers at /channels/connect/{kind}/callback, where
the state (not a CSRF token, which the network cannot send) proves the answer belongs to a
flow this browser started.
"""

from __future__ import annotations

import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import connect, connect_oauth, service, testpost, views
from sixfold.channels.base import Connector
from sixfold.channels.connect import ChannelOptions, auth_flow_of
from sixfold.channels.models import Channel
from sixfold.channels.registry import connector_types
from sixfold.db import utcnow
from sixfold.errors import DomainError
from sixfold.inputs import Id
from sixfold.org import service as org_service
from sixfold.org.models import Organisation
from sixfold.web.access import DbSession, Require, client_ip, settings_of
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanManage = Annotated[Principal, Require(Permission.MANAGE_SETTINGS).as_dependency()]

FLOW_COOKIE = "sixfold_connect"
FLOW_PATH = "/channels/connect"
# Browsers drop cookies past about 4 KB without a word; refuse rather than lose the flow.
COOKIE_LIMIT = 3800
FIELD_PREFIX = "field_"
# A web address in a connector's step, without the sentence's closing punctuation.
_ADDRESS = re.compile(r"(https://[^\s<>\"']*[^\s<>\"'.,;:!?)])")


async def _form_fields(request: Request) -> dict[str, str]:
    # The setup fields differ per network, so they are read from the form as a whole.
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


@router.get(FLOW_PATH + "/{kind}", response_class=HTMLResponse)
def connect_page(request: Request, kind: str, principal: CanManage, db: DbSession) -> HTMLResponse:
    cls = connect.connectable_type(kind)
    organisation = org_service.current_organisation(db)
    options = ChannelOptions(name="", timezone=organisation.timezone or "UTC")
    return _connect_page(request, cls, values={}, options=options)


@router.post(FLOW_PATH + "/{kind}")
def connect_channel(
    request: Request, kind: str, principal: CanManage, db: DbSession, form: FormFields
) -> Response:
    cls = connect.connectable_type(kind)
    organisation = org_service.current_organisation(db)
    options, typed = _options(form), _setup_values(form)
    actor = principal.actor(client_ip(request))
    try:
        values = connect.read_values(cls, typed)
        if auth_flow_of(cls) == "oauth2":
            url, flow = connect_oauth.start_oauth(
                db,
                organisation,
                kind,
                values,
                options,
                person_id=principal.person.id,
                redirect_uri=redirect_uri(request, kind),
                now=time.time(),
            )
            return _send_to_network(request, url, flow)
        channel = connect.connect_with_form(
            db, organisation, kind, values, options, settings=settings_of(request), actor=actor
        )
    except DomainError as error:
        _fail(db, actor, kind, error)
        return _connect_page(
            request, cls, values=typed, options=options, error=error, status_code=error.status_code
        )
    db.commit()
    return RedirectResponse(f"/channels/{channel.id}?connected=1", status_code=303)


@router.get(FLOW_PATH + "/{kind}/callback")
def connect_callback(
    request: Request,
    kind: str,
    principal: CanManage,
    db: DbSession,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    actor = principal.actor(client_ip(request))
    flow: connect_oauth.Flow | None = None
    try:
        flow = connect_oauth.open_flow(settings_of(request), request.cookies.get(FLOW_COOKIE))
        connect_oauth.check_flow(
            flow,
            state=state,
            kind=kind,
            organisation_id=organisation.id,
            person_id=principal.person.id,
            now=time.time(),
        )
        # Believed only now that the state matched: a forged error link is just a bad link.
        if error:
            raise connect_oauth.network_said_no(kind, error, error_description)
        channel = connect_oauth.finish_oauth(
            db,
            organisation,
            flow,
            code=code,
            redirect_uri=redirect_uri(request, kind),
            settings=settings_of(request),
            actor=actor,
        )
    except DomainError as failure:
        return _callback_failed(request, db, organisation, kind, flow, failure, actor)
    db.commit()
    done = "reconnected" if flow.channel_id is not None else "connected"
    return _forget_flow(RedirectResponse(f"/channels/{channel.id}?{done}=1", status_code=303))


@router.post("/channels/{channel_id}/reconnect")
def reconnect_channel(
    request: Request, channel_id: Id, principal: CanManage, db: DbSession, form: FormFields
) -> Response:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    cls = connect.connectable_type(channel.kind)
    settings, actor = settings_of(request), principal.actor(client_ip(request))
    try:
        values = connect.reconnect_values(channel, _setup_values(form), settings=settings)
        if auth_flow_of(cls) == "oauth2":
            url, flow = connect_oauth.start_oauth(
                db,
                organisation,
                channel.kind,
                values,
                ChannelOptions(name=channel.name),
                person_id=principal.person.id,
                redirect_uri=redirect_uri(request, channel.kind),
                now=time.time(),
                channel=channel,
            )
            return _send_to_network(request, url, flow)
        connect.reconnect_with_form(db, channel, values, settings=settings, actor=actor)
    except DomainError as error:
        return _reconnect_failed(request, db, organisation, channel_id, error, actor)
    db.commit()
    return RedirectResponse(f"/channels/{channel.id}?reconnected=1", status_code=303)


@router.post("/channels/{channel_id}/test-post")
def send_test_post(
    request: Request, channel_id: Id, principal: CanManage, db: DbSession
) -> Response:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    outcome = testpost.send_test_post(
        db,
        channel,
        settings=settings_of(request),
        actor=principal.actor(client_ip(request)),
        now=utcnow(),
    )
    db.commit()
    return _after_test_post(request, db, channel, outcome, "tested")


@router.post("/channels/{channel_id}/test-post/delete")
def delete_test_post(
    request: Request,
    channel_id: Id,
    principal: CanManage,
    db: DbSession,
    remote_id: Annotated[str, Form()] = "",
) -> Response:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    outcome = testpost.delete_test_post(
        db,
        channel,
        remote_id,
        settings=settings_of(request),
        actor=principal.actor(client_ip(request)),
    )
    db.commit()
    return _after_test_post(request, db, channel, outcome, "test_deleted")


def redirect_uri(request: Request, kind: str) -> str:
    """Where the network sends the person back: the configured public address when there is
    one (behind a proxy the request's own address is an internal one), else the request's."""
    settings = settings_of(request)
    configured = "base_url" in settings.model_fields_set
    base = settings.base_url if configured else str(request.base_url)
    return f"{base.rstrip('/')}{FLOW_PATH}/{kind}/callback"


# Helpers -----------------------------------------------------------------------------------


def _options(form: dict[str, str]) -> ChannelOptions:
    return ChannelOptions(
        name=form.get("name", ""),
        timezone=form.get("timezone", "") or "UTC",
        queue_slots=form.get("queue_slots", ""),
        requires_review=form.get("requires_review") == "true",
    )


def _setup_values(form: dict[str, str]) -> dict[str, str]:
    # Prefixed in the page, so a network's field can never shadow "name" or the CSRF token.
    return {k.removeprefix(FIELD_PREFIX): v for k, v in form.items() if k.startswith(FIELD_PREFIX)}


def _connect_page(
    request: Request,
    cls: type[Connector],
    *,
    values: dict[str, str],
    options: ChannelOptions,
    error: DomainError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "channels/connect_form.html",
        status_code=status_code,
        kind=cls.kind,
        label=cls.label,
        flow=auth_flow_of(cls),
        steps=[_linked(step) for step in connect.connect_steps(cls)],
        callback=redirect_uri(request, cls.kind),
        fields=connect.setup_fields(cls),
        # What was typed comes back, except the secrets: they are never sent to a browser.
        values=connect.public_values(cls, values),
        stored=set(),
        options=options,
        timezones=views.timezone_names(),
        error=str(error) if error else None,
    )


def _linked(step: str) -> list[tuple[str, bool]]:
    """A step as text and web addresses (the template links the addresses, escaping all)."""
    parts = _ADDRESS.split(step)
    return [(part, index % 2 == 1) for index, part in enumerate(parts) if part]


def _send_to_network(request: Request, url: str, flow: connect_oauth.Flow) -> Response:
    """A page that goes on to the network at once, with the flow in its cookie.

    Not a redirect: browsers hold every redirect of a form's navigation to the page's
    `form-action 'self'` policy, so a 303 to the network would be blocked.
    """
    settings = settings_of(request)
    sealed = connect_oauth.seal_flow(settings, flow)
    if len(sealed) > COOKIE_LIMIT:
        raise connect.NetworkFailed("The network's sign-in needs more room than a cookie has.")
    label = connector_types()[flow.kind].label
    response = render(request, "channels/connect_continue.html", url=url, label=label)
    response.set_cookie(
        FLOW_COOKIE,
        sealed,
        max_age=connect_oauth.FLOW_SECONDS,
        path=FLOW_PATH,
        httponly=True,
        # Lax, not Strict: the network sends the person back with a cross-site navigation.
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _forget_flow(response: Response) -> Response:
    # One flow, one callback: a replayed callback finds no cookie.
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    response.headers["Cache-Control"] = "no-store"
    return response


def _fail(
    db: Session, actor: audit.Actor, kind: str, error: DomainError, channel_id: int = 0
) -> None:
    """Undo the attempt, then audit the failure in a transaction of its own."""
    db.rollback()
    channel = db.get(Channel, channel_id) if channel_id else None
    connect.record_failure(db, actor, kind, error, channel=channel)
    db.commit()


def _callback_failed(
    request: Request,
    db: Session,
    organisation: Organisation,
    kind: str,
    flow: connect_oauth.Flow | None,
    failure: DomainError,
    actor: audit.Actor,
) -> Response:
    _fail(db, actor, kind, failure, (flow.channel_id or 0) if flow else 0)
    if flow is not None and flow.channel_id is not None:
        channel = service.get_channel(db, organisation, flow.channel_id)
        response: Response = views.form_page(
            request,
            db,
            channel=channel,
            form=views.channel_values(channel),
            status_code=failure.status_code,
            reconnect_error=str(failure),
        )
    elif (cls := connector_types().get(kind)) is None or auth_flow_of(cls) is None:
        response = render(
            request,
            "error.html",
            status_code=failure.status_code,
            status=failure.status_code,
            message=str(failure),
        )
    else:
        options = ChannelOptions(**flow.options) if flow else ChannelOptions(name="")
        response = _connect_page(
            request,
            cls,
            values=flow.values if flow else {},
            options=options,
            error=failure,
            status_code=failure.status_code,
        )
    # A link with someone else's state must not end the connection this browser has under way.
    if isinstance(failure, connect_oauth.StateMismatch):
        return response
    return _forget_flow(response)


def _reconnect_failed(
    request: Request,
    db: Session,
    organisation: Organisation,
    channel_id: int,
    error: DomainError,
    actor: audit.Actor,
) -> HTMLResponse:
    channel = service.get_channel(db, organisation, channel_id)
    _fail(db, actor, channel.kind, error, channel_id)
    channel = service.get_channel(db, organisation, channel_id)
    return views.form_page(
        request,
        db,
        channel=channel,
        form=views.channel_values(channel),
        status_code=error.status_code,
        reconnect_error=str(error),
    )


def _after_test_post(
    request: Request, db: Session, channel: Channel, outcome: testpost.Outcome, done: str
) -> Response:
    if outcome.ok:
        return RedirectResponse(f"/channels/{channel.id}?{done}=1#test-post", status_code=303)
    return views.form_page(
        request,
        db,
        channel=channel,
        form=views.channel_values(channel),
        status_code=outcome.status_code,
        outcome=outcome,
    )
