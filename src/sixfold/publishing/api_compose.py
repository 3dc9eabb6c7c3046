"""The JSON routes the composer uses, open to API tokens as well: the live risk check,
character counts as each network counts them, creating and saving drafts (with autosave and
conflicts), images and their alt text, serving an image, and link previews.

Reading posts and moving them through review and scheduling live in `api.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels import service as channels
from sixfold.errors import NotFound
from sixfold.guardrails import service as guardrails
from sixfold.inputs import Id, Moment
from sixfold.org.clock import organisation_zone
from sixfold.publishing import access, drafts, editing, limits, link_preview
from sixfold.publishing.api_models import FindingOut, MediaOut, PostOut, RiskOut, post_out
from sixfold.publishing.models import Media, Post, PublishMode
from sixfold.web.access import DbSession, Require, SignedIn, client_ip, settings_of
from sixfold.web.routing import add_routes

router = APIRouter(tags=["composer"])
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]
TEXT_FIELD = Field(default="", max_length=drafts.TEXT_MAX_CHARS)


# Models ---------------------------------------------------------------------------------------


class RiskCheckIn(BaseModel):
    text: str = Field(max_length=drafts.TEXT_MAX_CHARS)
    channel_id: Id | None = Field(default=None, description="The channel it would go to.")
    when: Moment | None = Field(
        default=None,
        description="When it would go out (sensitive events depend on the day); ISO 8601. "
        "Without an offset it is read in the organisation's time zone. Default: now.",
    )


class CountIn(BaseModel):
    text: str = TEXT_FIELD
    channel_ids: list[Id] = Field(
        default_factory=list, max_length=100, description="The channels to count for."
    )
    channel_texts: dict[Id, Annotated[str, Field(max_length=drafts.TEXT_MAX_CHARS)]] = Field(
        default_factory=dict,
        max_length=100,
        description="Text written for a channel, by channel id; the others count `text`.",
    )


class CharacterCountOut(BaseModel):
    channel_id: int
    count: int = Field(description="The length as the channel's network counts it.")
    max_chars: int = Field(
        description="The most the channel accepts in one post: its server's limit where "
        "servers set their own (Mastodon), else the network's."
    )
    over: bool


class CountsOut(BaseModel):
    counts: list[CharacterCountOut] = Field(
        description="One per channel whose connector is installed."
    )


class DraftIn(BaseModel):
    text: str = TEXT_FIELD
    channel_ids: list[Id] = Field(default_factory=list, max_length=100)
    channel_texts: dict[Id, str] = Field(
        default_factory=dict, description="Text written for a channel, by channel id."
    )
    publish_mode: PublishMode = PublishMode.NOW
    publish_at: Moment | None = Field(
        default=None,
        description="With publish_mode 'at'. Without an offset: the organisation's time zone.",
    )


class DraftUpdateIn(DraftIn):
    base_version: int = Field(description="The version the editor started from.")
    autosave: bool = Field(
        default=False, description="Autosaves by the same person fold into one version."
    )


class DraftOut(PostOut):
    problems: list[str] = Field(description="What stops the post being submitted now.")


class DraftConflictOut(BaseModel):
    error: str
    current_version: int
    current_text: str
    editor_name: str


class UploadedMediaOut(MediaOut):
    size: int
    position: int
    url: str


class AltTextIn(BaseModel):
    alt_text: str = Field(max_length=drafts.ALT_TEXT_MAX_CHARS)


class LinkPreviewOut(BaseModel):
    url: str = Field(description="Where the page was found, after redirects.")
    site: str
    title: str
    description: str
    image: str | None


# Helpers ----------------------------------------------------------------------------------------


def _draft_input(db: Session, principal: Principal, body: DraftIn) -> drafts.DraftInput:
    zone = organisation_zone(editing.organisation_of(db, principal))
    return drafts.DraftInput(
        text=body.text,
        channel_ids=list(dict.fromkeys(body.channel_ids)),
        channel_texts=dict(body.channel_texts),
        publish_mode=body.publish_mode,
        # A time goes with "at" only; one sent with another mode is not read, nor refused.
        publish_at=(
            editing.parse_when(body.publish_at, zone)
            if body.publish_mode == PublishMode.AT
            else None
        ),
    )


def _draft_out(db: Session, post: Post) -> DraftOut:
    return DraftOut(**post_out(db, post).model_dump(), problems=editing.problems(db, post))


def _media_out(media: Media) -> UploadedMediaOut:
    return UploadedMediaOut(
        id=media.id,
        filename=media.filename,
        content_type=media.content_type,
        alt_text=media.alt_text,
        width=media.width,
        height=media.height,
        size=media.size,
        position=media.position,
        url=f"/media/{media.id}",
    )


# Risk -------------------------------------------------------------------------------------------


@router.post("/api/v1/risk/check", response_model=RiskOut, summary="Check a text for risks")
def risk_check(body: RiskCheckIn, principal: CanDraft, db: DbSession) -> RiskOut:
    """The risk engine's verdict on a text under the organisation's rules, with findings that
    point at spans of the text (offsets count Unicode code points)."""
    organisation = editing.organisation_of(db, principal)
    kind = ""
    if body.channel_id is not None:
        kind = channels.get_channel(db, organisation, body.channel_id).kind
    when = editing.parse_when(body.when, organisation_zone(organisation))
    verdict = guardrails.check(db, organisation, body.text, when=when, channel=kind)
    return RiskOut(
        verdict=verdict.verdict.value,
        score=round(verdict.score, 3),
        findings=[FindingOut.model_validate(f.to_dict()) for f in verdict.findings],
    )


@router.post(
    "/api/v1/character-counts",
    response_model=CountsOut,
    summary="Count characters as each network does",
)
def character_counts(body: CountIn, principal: CanDraft, db: DbSession) -> CountsOut:
    """How long a post is on each channel, counted by the channel's network's own rule (X
    counts a link as 23 and a CJK character as 2, Bluesky counts graphemes), with the limit
    it is counted against: the channel's own, which on Mastodon is what the account's server
    reported (500 by default, 5,000 on many). The composer shows these beside its own
    instant estimate."""
    organisation = editing.organisation_of(db, principal)
    texts = {i: body.channel_texts.get(i) or body.text for i in dict.fromkeys(body.channel_ids)}
    return CountsOut(
        counts=[
            CharacterCountOut(
                channel_id=c.channel_id,
                count=c.count,
                max_chars=c.max_chars,
                over=c.count > c.max_chars,
            )
            for c in limits.character_counts(db, organisation, texts)
        ]
    )


# Drafts -----------------------------------------------------------------------------------------


@router.post("/api/v1/posts", response_model=DraftOut, status_code=201, summary="Create a draft")
def create_post(request: Request, body: DraftIn, principal: CanDraft, db: DbSession) -> DraftOut:
    """A new draft by the caller; save further changes with PUT and the returned version."""
    data = _draft_input(db, principal, body)
    post = editing.create(db, principal, data, actor=principal.actor(client_ip(request)))
    db.commit()
    return _draft_out(db, post)


@router.put(
    "/api/v1/posts/{post_id}",
    response_model=DraftOut,
    summary="Save a draft",
    responses={409: {"model": DraftConflictOut, "description": "Saved by someone else since"}},
)
def update_post(
    request: Request, post_id: Id, body: DraftUpdateIn, principal: CanDraft, db: DbSession
) -> DraftOut | JSONResponse:
    """Save the whole draft as edited from `base_version`. When someone saved since, nothing
    is written and the answer (409) carries what they saved, to compare and decide.

    A reviewer's edit of a post in review is saved as their edit and review starts again."""
    post = access.visible_post(db, principal, post_id)
    data = _draft_input(db, principal, body)
    try:
        editing.save(
            db,
            principal,
            post,
            data,
            base_version=body.base_version,
            autosave=body.autosave,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
        )
    except drafts.DraftConflict as conflict:
        db.rollback()
        return JSONResponse(_conflict_out(conflict).model_dump(), status_code=409)
    db.commit()
    return _draft_out(db, post)


def _conflict_out(conflict: drafts.DraftConflict) -> DraftConflictOut:
    return DraftConflictOut(
        error=str(conflict),
        current_version=conflict.current_version,
        current_text=conflict.current_text,
        editor_name=conflict.editor_name,
    )


# Media ------------------------------------------------------------------------------------------


@router.post(
    "/api/v1/posts/{post_id}/media",
    response_model=UploadedMediaOut,
    status_code=201,
    summary="Attach an image",
)
async def upload_media(
    post_id: Id,
    principal: CanDraft,
    db: DbSession,
    file: Annotated[UploadFile, File(description="PNG, JPEG, GIF or WebP.")],
    alt_text: Annotated[str, Form(max_length=drafts.ALT_TEXT_MAX_CHARS)] = "",
) -> UploadedMediaOut:
    """Attach an image to the caller's draft; alt text describes it for people who cannot
    see it (the organisation may require it before a post is submitted)."""
    post = access.visible_post(db, principal, post_id)
    editing.media_editable(db, principal, post)
    # One byte past the limit is enough for the check to refuse an oversized file.
    content = await file.read(drafts.MEDIA_MAX_BYTES + 1)
    media = drafts.attach_media(
        db,
        post,
        principal.person,
        filename=file.filename or "image",
        content=content,
        alt_text=alt_text,
    )
    db.commit()
    return _media_out(media)


@router.patch(
    "/api/v1/posts/{post_id}/media/{media_id}",
    response_model=UploadedMediaOut,
    summary="Describe an image",
)
def describe_media(
    post_id: Id, media_id: Id, body: AltTextIn, principal: CanDraft, db: DbSession
) -> UploadedMediaOut:
    post = access.visible_post(db, principal, post_id)
    editing.media_editable(db, principal, post)
    media = drafts.set_alt_text(db, post, media_id, body.alt_text)
    db.commit()
    return _media_out(media)


@router.delete(
    "/api/v1/posts/{post_id}/media/{media_id}", status_code=204, summary="Remove an image"
)
def remove_media(post_id: Id, media_id: Id, principal: CanDraft, db: DbSession) -> Response:
    post = access.visible_post(db, principal, post_id)
    editing.media_editable(db, principal, post)
    drafts.remove_media(db, post, media_id)
    db.commit()
    return Response(status_code=204)


@router.get(
    "/media/{media_id}",
    response_class=Response,
    summary="An attached image",
    responses={200: {"content": {t: {} for t in drafts.MEDIA_TYPES.values()}}},
)
def serve_media(media_id: Id, principal: SignedIn, db: DbSession) -> Response:
    """An image, to people who may see its post (or read it on the internal stream).

    The type is the one the upload was verified as, never guessed from the bytes, and the
    image is shown inline but cannot run anything (nosniff, a sandboxing policy)."""
    media = access.visible_media(db, principal, media_id)
    return Response(
        content=media.content,
        media_type=media.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )


# Link previews ----------------------------------------------------------------------------------


@router.get("/api/v1/link-preview", response_model=LinkPreviewOut, summary="Preview a link")
def preview_link(
    request: Request,
    principal: CanDraft,
    url: Annotated[str, Query(min_length=1, max_length=link_preview.URL_MAX_CHARS)],
) -> LinkPreviewOut:
    """The title, description and image a page declares (Open Graph, or its <title>).
    Private and local addresses are refused; 502 when the page cannot be fetched."""
    settings = settings_of(request)
    if not settings.link_preview_enabled:
        raise NotFound("Link previews are turned off on this installation.")
    found = link_preview.preview(
        url,
        allow_private=settings.link_preview_allow_private,
        cache=request.app.state.link_previews,
    )
    return LinkPreviewOut(
        url=found.url,
        site=found.site,
        title=found.title,
        description=found.description,
        image=found.image,
    )


def register(app: FastAPI) -> None:
    app.state.link_previews = link_preview.PreviewCache()
    add_routes(app, router)
