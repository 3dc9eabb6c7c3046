"""Publishing pages: lists of posts, the review queue and the internal stream; `register`
adds the composer and the post page as well."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels.models import Channel, StreamPost
from sixfold.db import utcnow
from sixfold.publishing import access, api_compose, editing, review, views_compose, views_post
from sixfold.publishing.models import Media, Post, PostStatus
from sixfold.publishing.publisher import Publication
from sixfold.web.access import DbSession, Require, SignedIn
from sixfold.web.routing import add_routes
from sixfold.web.templating import query_without_page, render

router = APIRouter()
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]
CanReview = Annotated[Principal, Require(Permission.REVIEW_POSTS).as_dependency()]
Page = Annotated[int, Query(ge=1, le=100_000)]
POSTS_PER_PAGE = 25
STREAM_PER_PAGE = 20


def _paged(db: Session, query: Select[Any], page: int, size: int) -> tuple[list[Any], int]:
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(db.scalars(query.limit(size).offset((page - 1) * size)))
    return rows, max(1, math.ceil(total / size))


def excerpt(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def age(moment: datetime | None) -> str:
    """How long something has waited, the way people say it."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    minutes = int((utcnow() - aware).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


@router.get("/posts", response_class=HTMLResponse, include_in_schema=False)
def posts_page(
    request: Request,
    principal: CanDraft,
    db: DbSession,
    status: PostStatus | None = None,
    scope: Annotated[str, Query(pattern="^(mine|all)$")] = "mine",
    page: Page = 1,
) -> HTMLResponse:
    """Your posts, newest change first; people who review or publish may see all they can."""
    organisation = editing.organisation_of(db, principal)
    oversight = any(principal.grants.has_anywhere(p) for p in access.OVERSIGHT)
    query = select(Post).where(Post.organisation_id == organisation.id)
    if scope == "all" and oversight:
        query = query.where(access.visible_posts_clause(db, principal))
    else:
        scope = "mine"
        query = query.where(Post.author_id == principal.person.id)
    if status is not None:
        query = query.where(Post.status == status)
    query = query.order_by(Post.updated_at.desc(), Post.id.desc()).options(
        selectinload(Post.targets), selectinload(Post.author)
    )
    posts, pages = _paged(db, query, page, POSTS_PER_PAGE)
    ids = {t.channel_id for p in posts for t in p.targets}
    return render(
        request,
        "publishing/posts.html",
        posts=posts,
        page=page,
        pages=pages,
        status=status.value if status else "",
        statuses=list(PostStatus),
        scope=scope,
        oversight=oversight,
        names=editing.channel_names(db, ids),
        editable={p.id for p in posts if access.edit_mode(db, principal, p) is not None},
        excerpt=excerpt,
        query=query_without_page(request),
    )


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
def review_queue_page(request: Request, principal: CanReview, db: DbSession) -> HTMLResponse:
    """The posts whose current review step this person may decide, oldest first."""
    organisation = editing.organisation_of(db, principal)
    posts = review.queue_for(db, organisation, principal.person)
    steps = {p.id: review.current_step(db, p) for p in posts}
    ids = {t.channel_id for p in posts for t in p.targets}
    return render(
        request,
        "publishing/review.html",
        posts=posts,
        steps=steps,
        names=editing.channel_names(db, ids),
        excerpt=excerpt,
        age=age,
    )


@router.get("/stream", response_class=HTMLResponse, include_in_schema=False)
def stream_page(
    request: Request, principal: SignedIn, db: DbSession, page: Page = 1
) -> HTMLResponse:
    """The organisation's internal stream, newest first: every member reads it."""
    organisation = editing.organisation_of(db, principal)
    query = (
        select(StreamPost)
        .join(Channel, Channel.id == StreamPost.channel_id)
        .where(
            Channel.organisation_id == organisation.id,
            Channel.kind == access.INTERNAL_KIND,
            StreamPost.deleted_at.is_(None),
        )
        .order_by(StreamPost.published_at.desc(), StreamPost.id.desc())
    )
    items, pages = _paged(db, query, page, STREAM_PER_PAGE)
    return render(
        request,
        "publishing/stream.html",
        items=items,
        page=page,
        pages=pages,
        media=_stream_media(db, items),
        names=editing.channel_names(db, {i.channel_id for i in items}),
    )


def _stream_media(db: Session, items: list[StreamPost]) -> dict[int, list[Media]]:
    """The images of each stream post, found through the publication that put it there."""
    keys = {i.idempotency_key: i.id for i in items}
    if not keys:
        return {}
    rows = db.execute(
        select(Publication.idempotency_key, Media)
        .join(Media, Media.post_id == Publication.post_id)
        .where(Publication.idempotency_key.in_(keys))
        .order_by(Media.position)
    )
    found: dict[int, list[Media]] = {}
    for key, media in rows:
        found.setdefault(keys[key], []).append(media)
    return found


def register(app: FastAPI) -> None:
    # The composer first: "/posts/new" must not be taken for the post with id "new".
    add_routes(app, views_compose.router)
    add_routes(app, views_post.router)
    add_routes(app, router)
    api_compose.register(app)
