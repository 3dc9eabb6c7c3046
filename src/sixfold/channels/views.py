"""Channel settings pages: list, connect, edit, disable and verify channels."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import manage, service, testpost
from sixfold.channels.connect import auth_flow_of, setup_fields, stored_credentials, summary_of
from sixfold.channels.models import Channel
from sixfold.channels.registry import connector_types
from sixfold.errors import DomainError, ValidationFailed
from sixfold.inputs import Id
from sixfold.org import service as org_service
from sixfold.org.clock import parse_moment
from sixfold.org.models import Organisation
from sixfold.publishing.calendar import counts_by_channel
from sixfold.web.access import DbSession, Require, client_ip, settings_of
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanManage = Annotated[Principal, Require(Permission.MANAGE_SETTINGS).as_dependency()]
Text = Annotated[str, Form()]


@cache
def timezone_names() -> list[str]:
    return sorted(available_timezones())


def _kinds() -> dict[str, str]:
    return {kind: cls.label for kind, cls in sorted(connector_types().items())}


def _plain_kinds() -> dict[str, str]:
    """Kinds set up by the plain form: no account to sign in to (internal, null, file)."""
    types = connector_types()
    return {kind: label for kind, label in _kinds().items() if auth_flow_of(types[kind]) is None}


def _networks() -> list[dict[str, str]]:
    """A card per installed connector on "Connect a channel", networks first."""
    cards = [
        {
            "kind": kind,
            "label": cls.label,
            "summary": summary_of(cls),
            "href": f"/channels/connect/{kind}"
            if auth_flow_of(cls)
            else f"/channels/new?kind={kind}",
        }
        for kind, cls in sorted(connector_types().items())
    ]
    return sorted(cards, key=lambda card: card["href"].startswith("/channels/new"))


@router.get("/channels", response_class=HTMLResponse)
def channel_list(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    return render(
        request,
        "channels/list.html",
        channels=service.list_channels(db, organisation, include_disabled=True),
        counts=counts_by_channel(db, organisation.id),
        kinds=_kinds(),
        format_slots=service.format_queue_slots,
    )


def form_page(
    request: Request,
    db: Session,
    *,
    channel: Channel | None,
    form: dict[str, Any],
    status_code: int = 200,
    error: str | None = None,
    verification: manage.Verification | None = None,
    outcome: testpost.Outcome | None = None,
    reconnect_error: str | None = None,
) -> HTMLResponse:
    """A channel's page (or the plain form for a new one), with what the page last did."""
    test_post = testpost.last_test_post(channel) if channel else None
    return render(
        request,
        "channels/form.html",
        status_code=status_code,
        channel=channel,
        form=form,
        kinds=_kinds(),
        plain_kinds=_plain_kinds(),
        timezones=timezone_names(),
        error=error,
        verification=verification,
        outcome=outcome,
        reconnect_error=reconnect_error,
        reconnect=_reconnect_form(request, channel) if channel else None,
        test_post=test_post,
        test_post_at=parse_moment(str(test_post.get("at", ""))) if test_post else None,
        file_dir=str(settings_of(request).data_dir / manage.FILE_CHANNELS_DIR),
    )


def _reconnect_form(request: Request, channel: Channel) -> dict[str, Any] | None:
    """The network's setup fields, filled with what may be shown again; secrets are only
    named (a stored one may be left empty to keep it)."""
    cls = connector_types().get(channel.kind)
    if cls is None or auth_flow_of(cls) is None:
        return None
    stored = stored_credentials(settings_of(request), channel)
    return {
        "flow": auth_flow_of(cls),
        "label": cls.label,
        "fields": setup_fields(cls),
        "values": {k: str(v) for k, v in (channel.settings or {}).items() if isinstance(v, str)},
        "stored": {name for name, value in stored.items() if value},
    }


def channel_values(channel: Channel) -> dict[str, Any]:
    return {
        "kind": channel.kind,
        "name": channel.name,
        "timezone": channel.timezone,
        "queue_slots": service.format_queue_slots(channel.queue_slots),
        "requires_review": channel.requires_review,
        "path": (channel.settings or {}).get("path", ""),
    }


@router.get("/channels/new", response_class=HTMLResponse)
def new_channel(
    request: Request, principal: CanManage, db: DbSession, kind: str = ""
) -> HTMLResponse:
    """The choice of network; a kind without an account to sign in to gets the plain form."""
    if kind not in _plain_kinds():
        return render(request, "channels/connect_choose.html", networks=_networks())
    organisation = org_service.current_organisation(db)
    form = {"kind": kind, "name": "", "timezone": organisation.timezone or "UTC", "path": ""}
    return form_page(request, db, channel=None, form=form | {"queue_slots": ""})


def _channel_settings(request: Request, kind: str, path: str) -> dict[str, Any]:
    if kind == "file":
        return {"path": manage.file_path_setting(settings_of(request).data_dir, path)}
    return {}


def _create(
    request: Request,
    db: Session,
    organisation: Organisation,
    form: dict[str, Any],
    actor: audit.Actor,
) -> Channel:
    kind = form["kind"]
    if kind not in _plain_kinds():
        raise ValidationFailed("Choose what kind of channel to connect.")
    return service.create_channel(
        db,
        organisation,
        kind=kind,
        name=form["name"],
        actor=actor,
        settings=settings_of(request),
        channel_settings=_channel_settings(request, kind, form["path"]),
        timezone=form["timezone"].strip() or "UTC",
        queue_slots=service.parse_queue_slots(form["queue_slots"]),
        requires_review=form["requires_review"],
    )


@router.post("/channels")
def create_channel(
    request: Request,
    principal: CanManage,
    db: DbSession,
    kind: Text = "",
    name: Text = "",
    timezone: Text = "",
    queue_slots: Text = "",
    path: Text = "",
    requires_review: Annotated[bool, Form()] = False,
) -> Response:
    organisation = org_service.current_organisation(db)
    form = {
        "kind": kind,
        "name": name,
        "timezone": timezone,
        "queue_slots": queue_slots,
        "path": path,
        "requires_review": requires_review,
    }
    try:
        channel = _create(request, db, organisation, form, principal.actor(client_ip(request)))
    except DomainError as error:
        db.rollback()
        return form_page(
            request, db, channel=None, form=form, status_code=error.status_code, error=str(error)
        )
    db.commit()
    return RedirectResponse(f"/channels/{channel.id}?saved=1", status_code=303)


@router.get("/channels/{channel_id}", response_class=HTMLResponse)
def channel_page(
    request: Request, channel_id: Id, principal: CanManage, db: DbSession
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    return form_page(request, db, channel=channel, form=channel_values(channel))


@router.post("/channels/{channel_id}")
def update_channel(
    request: Request,
    channel_id: Id,
    principal: CanManage,
    db: DbSession,
    name: Text = "",
    timezone: Text = "",
    queue_slots: Text = "",
    path: Text = "",
    requires_review: Annotated[bool, Form()] = False,
) -> Response:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    form = channel_values(channel) | {
        "name": name,
        "timezone": timezone,
        "queue_slots": queue_slots,
        "path": path,
        "requires_review": requires_review,
    }
    try:
        changes = manage.ChannelChanges(
            name=name,
            timezone=timezone,
            queue_slots=queue_slots,
            requires_review=requires_review,
            channel_settings=_channel_settings(request, channel.kind, path),
        )
        manage.update_channel(db, channel, changes, actor=principal.actor(client_ip(request)))
    except DomainError as error:
        db.rollback()
        channel = service.get_channel(db, organisation, channel_id)
        return form_page(
            request, db, channel=channel, form=form, status_code=error.status_code, error=str(error)
        )
    db.commit()
    return RedirectResponse(f"/channels/{channel.id}?saved=1", status_code=303)


@router.post("/channels/{channel_id}/disable")
def disable_channel(
    request: Request, channel_id: Id, principal: CanManage, db: DbSession
) -> Response:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    manage.disable_channel(db, channel, actor=principal.actor(client_ip(request)))
    db.commit()
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/{channel_id}/verify", response_class=HTMLResponse)
def verify_channel(
    request: Request, channel_id: Id, principal: CanManage, db: DbSession
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    channel = service.get_channel(db, organisation, channel_id)
    result = manage.verify_channel(
        db, channel, settings=settings_of(request), actor=principal.actor(client_ip(request))
    )
    db.commit()
    return form_page(
        request, db, channel=channel, form=channel_values(channel), verification=result
    )


def register(app: FastAPI) -> None:
    # Imported here: the connect pages render this module's channel page.
    from sixfold.channels import views_connect

    add_routes(app, views_connect.router)
    add_routes(app, router)
