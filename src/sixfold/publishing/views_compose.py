"""The composer page: write a post once, per channel where needed, with live risk feedback.

The page works as a plain form (save, save and submit, attach an image); composer.js adds
autosave, live counters, risk highlighting, uploads and the link preview on top, through the
JSON routes in api_compose.py. Whatever fails, the text the person typed comes back to them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import DomainError, ValidationFailed
from sixfold.guardrails import service as guardrails
from sixfold.inputs import Id, ascii_int, parse_id
from sixfold.org.clock import organisation_zone
from sixfold.publishing import access, drafts, editing, highlight, limits, review
from sixfold.publishing.access import EditMode
from sixfold.publishing.models import Post, PostStatus, PublishMode
from sixfold.web.access import DbSession, Require, client_ip, settings_of
from sixfold.web.templating import render

router = APIRouter()
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]


@dataclass
class ComposerState:
    """What the composer shows: a saved post, or what the person just sent."""

    text: str = ""
    chosen: dict[int, str | None] = field(default_factory=dict)
    publish_mode: str = PublishMode.NOW
    publish_at: str = ""  # as the datetime-local input holds it, in the organisation's zone
    base_version: int | None = None
    alt_texts: dict[int, str] = field(default_factory=dict)


def state_of(post: Post, zone: ZoneInfo) -> ComposerState:
    return ComposerState(
        text=post.text,
        chosen={t.channel_id: t.text for t in post.targets},
        publish_mode=post.publish_mode,
        publish_at=editing.local_input(post.publish_at, zone),
        base_version=post.version,
        alt_texts={m.id: m.alt_text for m in post.media},
    )


def state_from_form(form: FormData) -> ComposerState:
    """Everything typed, read leniently: nothing here can fail, so it can always be shown
    again; `input_of` validates."""
    chosen: dict[int, str | None] = {}
    for raw in form.getlist("channel_ids"):
        channel_id = parse_id(str(raw))
        if channel_id is not None:
            chosen[channel_id] = str(form.get(f"channel_text_{raw}", "")) or None
    alt_texts = {
        media_id: str(value)
        for key, value in form.multi_items()
        if key.startswith("alt_") and (media_id := parse_id(key[4:])) is not None
    }
    return ComposerState(
        text=str(form.get("text", "")),
        chosen=chosen,
        publish_mode=str(form.get("publish_mode", PublishMode.NOW)),
        publish_at=str(form.get("publish_at", "")),
        base_version=ascii_int(str(form.get("base_version", ""))),
        alt_texts=alt_texts,
    )


def input_of(state: ComposerState, zone: ZoneInfo) -> drafts.DraftInput:
    return drafts.DraftInput(
        text=state.text,
        channel_ids=list(state.chosen),
        channel_texts={k: v for k, v in state.chosen.items() if v},
        publish_mode=state.publish_mode,
        publish_at=(
            editing.parse_when(state.publish_at, zone)
            if state.publish_mode == PublishMode.AT
            else None
        ),
    )


def render_composer(
    request: Request,
    db: DbSession,
    principal: Principal,
    post: Post | None,
    state: ComposerState,
    *,
    status_code: int = 200,
    error: str | None = None,
    conflict: drafts.DraftConflict | None = None,
) -> HTMLResponse:
    organisation = editing.organisation_of(db, principal)
    zone = organisation_zone(organisation)
    verdict = guardrails.check(
        db,
        organisation,
        state.text,
        when=_risk_time(state, zone),
        alt_texts=list(state.alt_texts.values()),
    )
    mode = access.edit_mode(db, principal, post) if post is not None else EditMode.AUTHOR
    settings = review.settings_of(db, organisation.id)
    choices = editing.channel_choices(db, organisation, state.chosen)
    return render(
        request,
        "publishing/compose.html",
        status_code=status_code,
        post=post,
        state=state,
        mode=mode,
        choices=choices,
        counts=_counts(choices, state),
        zone=zone.key,
        verdict=verdict,
        segments=highlight.segments(state.text, [f.to_dict() for f in verdict.findings]),
        alt_required=settings.alt_text_required,
        alt_limit=editing.alt_text_limit(choices),
        alt_max=drafts.ALT_TEXT_MAX_CHARS,
        media=post.media if post is not None else [],
        problems=editing.problems(db, post) if post is not None else [],
        error=error,
        conflict=conflict,
        done=request.query_params.get("done"),
        max_mib=drafts.MEDIA_MAX_BYTES // 2**20,
        link_previews=settings_of(request).link_preview_enabled,
    )


def _counts(choices: list[editing.ChannelChoice], state: ComposerState) -> dict[int, int]:
    """Each channel's text counted as its network counts it (composer.js keeps them current)."""
    counts = (limits.character_count(c.channel, c.custom_text or state.text) for c in choices)
    return {c.channel_id: c.count for c in counts if c is not None}


def _risk_time(state: ComposerState, zone: ZoneInfo) -> datetime | None:
    """The moment the risk check looks at; a time that does not parse is shown as typed,
    with its error, and checked as "now"."""
    if state.publish_mode != PublishMode.AT:
        return None
    try:
        return editing.parse_when(state.publish_at, zone)
    except ValidationFailed:
        return None


@router.get("/posts/new", response_class=HTMLResponse, include_in_schema=False)
def new_post_page(request: Request, db: DbSession, principal: CanDraft) -> HTMLResponse:
    organisation = editing.organisation_of(db, principal)
    offered = editing.channel_choices(db, organisation, {})
    # With one channel there is nothing to choose: it is ticked already.
    chosen: dict[int, str | None] = {offered[0].channel.id: None} if len(offered) == 1 else {}
    return render_composer(request, db, principal, None, ComposerState(chosen=chosen))


@router.post("/posts/new", include_in_schema=False)
async def create_post_form(request: Request, db: DbSession, principal: CanDraft) -> Response:
    async with _posted_form(request) as form:
        return await _create_from(request, db, principal, form)


async def _create_from(
    request: Request, db: DbSession, principal: Principal, form: FormData
) -> Response:
    state = state_from_form(form)
    zone = organisation_zone(editing.organisation_of(db, principal))
    actor = principal.actor(client_ip(request))
    try:
        post = editing.create(db, principal, input_of(state, zone), actor=actor)
        await _media_changes(db, principal, post, form, state)
        db.commit()
    except DomainError as error:
        db.rollback()
        return render_composer(
            request, db, principal, None, state, status_code=error.status_code, error=str(error)
        )
    return _after_save(request, db, principal, post, str(form.get("intent", "save")))


@router.get("/posts/{post_id}/edit", response_class=HTMLResponse, include_in_schema=False)
def edit_post_page(request: Request, post_id: Id, db: DbSession, principal: CanDraft) -> Response:
    post = access.visible_post(db, principal, post_id)
    if access.edit_mode(db, principal, post) is None:
        return RedirectResponse(f"/posts/{post.id}?done=locked", status_code=303)
    zone = organisation_zone(editing.organisation_of(db, principal))
    return render_composer(request, db, principal, post, state_of(post, zone))


@router.post("/posts/{post_id}/edit", include_in_schema=False)
async def save_post_form(
    request: Request, post_id: Id, db: DbSession, principal: CanDraft
) -> Response:
    post = access.visible_post(db, principal, post_id)
    async with _posted_form(request) as form:
        return await _save_from(request, db, principal, post, form)


async def _save_from(
    request: Request, db: DbSession, principal: Principal, post: Post, form: FormData
) -> Response:
    state = state_from_form(form)
    zone = organisation_zone(editing.organisation_of(db, principal))
    try:
        await _media_changes(db, principal, post, form, state)
        editing.save(
            db,
            principal,
            post,
            input_of(state, zone),
            base_version=state.base_version if state.base_version is not None else post.version,
            autosave=False,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
        )
        db.commit()
    except drafts.DraftConflict as conflict:
        db.rollback()
        # Saving the form again now means "keep mine": it starts from their version.
        state.base_version = conflict.current_version
        return render_composer(
            request, db, principal, post, state, status_code=409, conflict=conflict
        )
    except DomainError as error:
        db.rollback()
        return render_composer(
            request, db, principal, post, state, status_code=error.status_code, error=str(error)
        )
    return _after_save(request, db, principal, post, str(form.get("intent", "save")))


async def _media_changes(
    db: DbSession, principal: Principal, post: Post, form: FormData, state: ComposerState
) -> None:
    """The form's image changes (the page without script): alt texts, removal, an upload."""
    described = {
        m.id: state.alt_texts[m.id]
        for m in post.media
        if m.id in state.alt_texts and state.alt_texts[m.id] != m.alt_text
    }
    removed = parse_id(str(form.get("remove_media", "")))
    upload = _upload(form)
    if not described and removed is None and upload is None:
        return
    editing.media_editable(db, principal, post)
    for media_id, alt_text in described.items():
        drafts.set_alt_text(db, post, media_id, alt_text)
    if removed is not None:
        drafts.remove_media(db, post, removed)
    if upload is not None:
        content = await upload.read(drafts.MEDIA_MAX_BYTES + 1)
        drafts.attach_media(
            db,
            post,
            principal.person,
            filename=upload.filename or "image",
            content=content,
            alt_text=str(form.get("new_alt_text", "")),
        )


@asynccontextmanager
async def _posted_form(request: Request) -> AsyncIterator[FormData]:
    """The request's form, its uploaded files closed afterwards (parsed here, not by a
    route parameter, because its field names depend on the channels and images)."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


def _upload(form: FormData) -> UploadFile | None:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload
    return None


def _after_save(
    request: Request, db: DbSession, principal: Principal, post: Post, intent: str
) -> Response:
    if intent != "submit" or post.author_id != principal.person.id:
        done = "edited" if post.status == PostStatus.IN_REVIEW else "saved"
        target = f"/posts/{post.id}" if done == "edited" else f"/posts/{post.id}/edit"
        return RedirectResponse(f"{target}?done={done}", status_code=303)
    try:
        status = review.submit(
            db,
            post,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
        )
        db.commit()
    except DomainError as error:
        # The draft was committed before the submit: only the submit is undone.
        db.rollback()
        zone = organisation_zone(editing.organisation_of(db, principal))
        return render_composer(
            request,
            db,
            principal,
            post,
            state_of(post, zone),
            status_code=error.status_code,
            error=str(error),
        )
    done = "submitted" if status == PostStatus.IN_REVIEW else "scheduled"
    return RedirectResponse(f"/posts/{post.id}?done={done}", status_code=303)
