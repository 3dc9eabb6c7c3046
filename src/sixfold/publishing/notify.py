"""Who hears about what happens to a post, in words they can act on."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.auth.models import RoleAssignment
from sixfold.auth.permissions import Permission, Role, permissions_for
from sixfold.notifications.service import notify, resolve
from sixfold.org.models import Person
from sixfold.publishing.models import Post

if TYPE_CHECKING:
    from sixfold.publishing.publisher import Publication


def _excerpt(text: str, length: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def _review_topic(post: Post) -> str:
    return f"post:{post.id}:review"


def review_requested(
    session: Session, post: Post, step_name: str, reviewers: Sequence[Person], *, base_url: str
) -> None:
    notify(
        session,
        reviewers,
        kind="review_requested",
        message=f"{post.author.name} asks you to review “{_excerpt(post.text)}” ({step_name}).",
        link=f"/posts/{post.id}",
        base_url=base_url,
        topic=_review_topic(post),
    )


def review_settled(session: Session, post: Post, *, people: Collection[int] | None = None) -> int:
    """The requests to review `post` (of `people`, or of everyone asked) no longer wait for
    anyone: the step passed, or the post left review. Their unsent e-mails stay unsent."""
    return resolve(session, _review_topic(post), people=people)


def post_approved(session: Session, post: Post, reviewer: Person, *, base_url: str) -> None:
    notify(
        session,
        [post.author],
        kind="post_approved",
        message=f"{reviewer.name} approved “{_excerpt(post.text)}”; it is scheduled.",
        link=f"/posts/{post.id}",
        base_url=base_url,
    )


def post_rejected(
    session: Session, post: Post, reviewer: Person, comment: str, *, base_url: str
) -> None:
    notify(
        session,
        [post.author],
        kind="post_rejected",
        message=f"{reviewer.name} asks for changes to “{_excerpt(post.text)}”: {comment}",
        link=f"/posts/{post.id}",
        base_url=base_url,
    )


def publication_failed(session: Session, publication: Publication) -> None:
    """The author and the people who run publishing hear that a post did not go out."""
    post = session.get(Post, publication.post_id)
    if post is None:
        return
    roles = [r.value for r in Role if Permission.PUBLISH_POSTS in permissions_for(r, scoped=False)]
    publishers = session.scalars(
        select(Person)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            Person.organisation_id == post.organisation_id,
            RoleAssignment.role.in_(roles),
            RoleAssignment.team_id.is_(None),
        )
    ).all()
    channel_name = publication.channel.name if publication.channel else "a channel"
    notify(
        session,
        [post.author, *publishers],
        kind="publish_failed",
        message=(
            f"“{_excerpt(post.text)}” was not published on {channel_name}: "
            f"{publication.error_message or 'unknown error'}"
        ),
        link=f"/posts/{post.id}",
    )
