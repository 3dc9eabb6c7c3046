"""JSON API of governed publishing: read posts, move them through review, schedule, pause.

Creating and editing posts, media and the risk check live in `api_compose.py`. Every route
here checks a permission (`Require`), then the object-level rules of `access.py`: a post the
caller may not see, or may see but not act on in that way, answers 404 (as the pages do).
Reviewers who are not asked at the current step hear why, with a 403, from `review`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query, Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.db import utcnow
from sixfold.errors import Conflict, ValidationFailed
from sixfold.inputs import AwareMoment, Id
from sixfold.org import service as org_service
from sixfold.publishing import access, drafts, editing, pause, review, schedule
from sixfold.publishing.api_models import (
    ApproveIn,
    OverrideIn,
    PauseIn,
    PauseOut,
    PostFilter,
    PostOut,
    PostPage,
    PostSummary,
    PublicationOut,
    PublicationPage,
    RejectIn,
    ResumeIn,
    ResumeOut,
    ScheduleIn,
    pause_out,
    post_out,
    publication_out,
    summary_fields,
)
from sixfold.publishing.models import Post, PostStatus, PostTarget, PublishMode
from sixfold.publishing.publisher import Publication, PublicationState
from sixfold.web.access import DbSession, Require, SignedIn, client_ip, settings_of
from sixfold.web.routing import add_routes

router = APIRouter(prefix="/api/v1", tags=["publishing"])
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]
CanReview = Annotated[Principal, Require(Permission.REVIEW_POSTS).as_dependency()]
CanOverride = Annotated[Principal, Require(Permission.OVERRIDE_BLOCK).as_dependency()]
CanPause = Annotated[Principal, Require(Permission.PAUSE_PUBLISHING).as_dependency()]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]
# The states a timing change is allowed in; a scheduled post is moved per publication.
TIMING_CHANGEABLE = frozenset(
    {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.IN_REVIEW}
)


# Helpers -----------------------------------------------------------------------------------


def _page(db: Session, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return list(db.scalars(query.limit(limit).offset(offset))), int(total or 0)


def _is_author(principal: Principal, post: Post) -> bool:
    return post.author_id == principal.person.id


def _timing(body: ScheduleIn) -> datetime | None:
    if body.mode != PublishMode.AT:
        if body.at is not None:
            raise ValidationFailed("A time goes with the mode 'at' only.")
        return None
    if body.at is None:
        raise ValidationFailed("Give the time to publish at, with its offset (ISO 8601).")
    if body.at <= utcnow():
        raise ValidationFailed(drafts.PAST_TIME)
    return body.at


# Posts -------------------------------------------------------------------------------------


@router.get("/posts", response_model=PostPage, summary="List the posts you may see")
def list_posts(
    principal: CanDraft,
    db: DbSession,
    status: PostStatus | None = None,
    author: Annotated[PostFilter | None, Query(description="me: only your own.")] = None,
    channel: Annotated[Id | None, Query(description="Only posts to this channel id.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PostPage:
    """Newest change first: your own posts and those you review or publish."""
    organisation = org_service.current_organisation(db)
    query = select(Post).where(
        Post.organisation_id == organisation.id, access.visible_posts_clause(db, principal)
    )
    if status is not None:
        query = query.where(Post.status == status)
    if author == PostFilter.ME:
        query = query.where(Post.author_id == principal.person.id)
    if channel is not None:
        targets = select(PostTarget.post_id).where(PostTarget.channel_id == channel)
        query = query.where(Post.id.in_(targets))
    query = query.order_by(Post.updated_at.desc(), Post.id.desc()).options(
        selectinload(Post.targets), selectinload(Post.author)
    )
    posts, total = _page(db, query, limit, offset)
    items = [PostSummary(**summary_fields(p)) for p in posts]
    return PostPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/posts/{post_id}", response_model=PostOut, summary="One post with its review")
def get_post(post_id: Id, principal: CanDraft, db: DbSession) -> PostOut:
    """Targets, media, risk verdict and findings, review state, and publications."""
    return post_out(db, access.visible_post(db, principal, post_id))


@router.post("/posts/{post_id}/submit", response_model=PostOut, summary="Submit a post")
def submit_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> PostOut:
    """The author sends a draft on: to review when policy asks for it, else to its schedule."""
    post = access.visible_post(db, principal, post_id)
    access.require(_is_author(principal, post))
    actor = principal.actor(client_ip(request))
    review.submit(db, post, actor=actor, base_url=settings_of(request).base_url)
    db.commit()
    return post_out(db, post)


@router.post("/posts/{post_id}/approve", response_model=PostOut, summary="Approve a post")
def approve_post(
    request: Request,
    post_id: Id,
    principal: CanReview,
    db: DbSession,
    body: Annotated[ApproveIn | None, Body()] = None,
) -> PostOut:
    """Approve the current version at the step waiting; the last step schedules the post."""
    post = access.visible_post(db, principal, post_id)
    review.approve(
        db,
        post,
        principal.person,
        comment=body.comment if body else "",
        actor=principal.actor(client_ip(request)),
        base_url=settings_of(request).base_url,
        version=body.version if body else None,
    )
    db.commit()
    return post_out(db, post)


@router.post("/posts/{post_id}/reject", response_model=PostOut, summary="Ask for changes")
def reject_post(
    request: Request, post_id: Id, body: RejectIn, principal: CanReview, db: DbSession
) -> PostOut:
    """Send the post back to its author with a comment saying what to change."""
    post = access.visible_post(db, principal, post_id)
    review.reject(
        db,
        post,
        principal.person,
        comment=body.comment,
        actor=principal.actor(client_ip(request)),
        base_url=settings_of(request).base_url,
        version=body.version,
    )
    db.commit()
    return post_out(db, post)


@router.post("/posts/{post_id}/override", response_model=PostOut, summary="Override a block")
def override_post(
    request: Request, post_id: Id, body: OverrideIn, principal: CanOverride, db: DbSession
) -> PostOut:
    """A leader lets a blocked version go to review, with a written reason (audit-logged).

    The override holds for this version only: an edit makes the block apply again."""
    post = access.visible_post(db, principal, post_id)
    access.require(access.may_override(db, principal, post))
    review.override_block(
        db, post, principal.person, reason=body.reason, actor=principal.actor(client_ip(request))
    )
    db.commit()
    return post_out(db, post)


@router.post("/posts/{post_id}/schedule", response_model=PostOut, summary="Choose when")
def schedule_post(
    request: Request, post_id: Id, body: ScheduleIn, principal: CanDraft, db: DbSession
) -> PostOut:
    """Set when a post not yet scheduled goes out: now, at a time, or in the channels' queue.

    A post in review is reviewed again (the risk verdict depends on the day). A scheduled
    post keeps its publications: reschedule those one by one."""
    post = access.visible_post(db, principal, post_id)
    access.require(_is_author(principal, post))
    if post.status not in TIMING_CHANGEABLE:
        raise Conflict(
            f"This post is {post.status.replace('_', ' ')}: change the time of each of its "
            "publications instead."
        )
    editing.change_timing(
        db,
        post,
        principal.person,
        mode=body.mode,
        at=_timing(body),
        actor=principal.actor(client_ip(request)),
        base_url=settings_of(request).base_url,
    )
    db.commit()
    return post_out(db, post)


@router.post("/posts/{post_id}/cancel", response_model=PostOut, summary="Cancel a post")
def cancel_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> PostOut:
    """Stop a post for good; publications that have not gone out are cancelled.

    The author, and whoever publishes for the author's team, may cancel."""
    post = access.visible_post(db, principal, post_id)
    access.require(access.may_withdraw(db, principal, post))
    if post.status == PostStatus.CANCELLED:
        raise Conflict("This post is cancelled already.")
    schedule.withdraw(db, post, actor=principal.actor(client_ip(request)), to=PostStatus.CANCELLED)
    db.commit()
    return post_out(db, post)


# Publications ------------------------------------------------------------------------------


@router.get("/publications", response_model=PublicationPage, summary="List publications")
def list_publications(
    principal: CanDraft,
    db: DbSession,
    state: Annotated[
        str | None, Query(description=f"One of: {', '.join(PublicationState.states)}.")
    ] = None,
    channel: Id | None = None,
    due_from: AwareMoment | None = None,
    due_to: AwareMoment | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PublicationPage:
    """One row per post and channel, latest due first, for the posts you may see."""
    if state is not None and state not in PublicationState.states:
        raise ValidationFailed(f"{state!r} is not a publication state.")
    organisation = org_service.current_organisation(db)
    query = (
        select(Publication)
        .join(Post, Post.id == Publication.post_id)
        .where(
            Publication.organisation_id == organisation.id,
            access.visible_posts_clause(db, principal),
        )
    )
    if state is not None:
        query = query.where(Publication.state == state)
    if channel is not None:
        query = query.where(Publication.channel_id == channel)
    if due_from is not None:
        query = query.where(Publication.due_at >= due_from)
    if due_to is not None:
        query = query.where(Publication.due_at < due_to)
    query = query.order_by(Publication.due_at.desc(), Publication.id.desc())
    rows, total = _page(db, query.options(selectinload(Publication.channel)), limit, offset)
    items = [publication_out(r) for r in rows]
    return PublicationPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/publications/{publication_id}/retry",
    response_model=PublicationOut,
    summary="Retry a failed publication",
)
def retry_publication(
    request: Request, publication_id: Id, principal: CanDraft, db: DbSession
) -> PublicationOut:
    """Send a failed publication again, now, with the text that was approved."""
    row = access.visible_publication(db, principal, publication_id)
    access.require(access.may_withdraw(db, principal, row.post))
    if row.state != "failed":
        raise Conflict(f"Only a failed publication is retried; this one is {row.state}.")
    schedule.publish_now(db, row, actor=principal.actor(client_ip(request)))
    db.commit()
    return publication_out(row)


# Crisis pause ------------------------------------------------------------------------------


@router.get("/publishing/pauses", response_model=list[PauseOut], summary="Active pauses")
def list_pauses(principal: SignedIn, db: DbSession) -> list[PauseOut]:
    """Pauses in force: organisation-wide (channel_id null) or per channel."""
    organisation = org_service.current_organisation(db)
    return [pause_out(p) for p in pause.active_pauses(db, organisation.id)]


@router.post(
    "/publishing/pause", response_model=PauseOut, status_code=201, summary="Pause publishing"
)
def pause_publishing(
    request: Request, body: PauseIn, principal: CanPause, db: DbSession
) -> PauseOut:
    """Stop publishing everywhere, or on one channel; the reason is shown to everyone."""
    row = pause.pause(
        db,
        org_service.current_organisation(db),
        reason=body.reason,
        channel_id=body.channel_id,
        actor=principal.actor(client_ip(request)),
    )
    db.commit()
    return pause_out(row)


@router.post("/publishing/resume", response_model=ResumeOut, summary="Resume publishing")
def resume_publishing(
    request: Request,
    principal: CanPause,
    db: DbSession,
    body: Annotated[ResumeIn | None, Body()] = None,
) -> ResumeOut:
    """End the pause on a scope; answers the publications it held, to handle one by one."""
    held = pause.resume(
        db,
        org_service.current_organisation(db),
        channel_id=body.channel_id if body else None,
        actor=principal.actor(client_ip(request)),
    )
    db.commit()
    return ResumeOut(held=[publication_out(r) for r in held])


def register(app: FastAPI) -> None:
    add_routes(app, router)
