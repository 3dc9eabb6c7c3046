"""Who may see a post: the object-level rule shared by the pages and the JSON API.

A post is visible to its author, to people who review or publish posts for the author's team
(a team-scoped grant covers the team and its sub-teams), and to holders of those rights
organisation-wide (leaders, administrators). Everyone else is told the post does not exist:
a 404, never a 403, so that ids reveal nothing.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.channels.models import Channel
from sixfold.errors import NotFound
from sixfold.org import service as org_service
from sixfold.org.models import Person
from sixfold.publishing import review
from sixfold.publishing.models import Media, Post, PostStatus
from sixfold.publishing.publisher import Publication

INTERNAL_KIND = "internal"

# Rights over other people's posts that come with seeing them.
OVERSIGHT = (Permission.REVIEW_POSTS, Permission.PUBLISH_POSTS)


def has_for_author(
    principal: Principal, post: Post, session: Session, permission: Permission
) -> bool:
    """`permission` held organisation-wide or for the post author's team or an ancestor."""
    ancestry = org_service.team_ancestry(session, post.author.team_id)
    return principal.grants.has(permission, team_ancestry=ancestry)


def can_view_post(principal: Principal, post: Post, session: Session) -> bool:
    if post.organisation_id != principal.person.organisation_id:
        return False
    if post.author_id == principal.person.id:
        return True
    return any(has_for_author(principal, post, session, p) for p in OVERSIGHT)


def visible_post(session: Session, principal: Principal, post_id: int) -> Post:
    """The post, if this person may see it; NotFound otherwise (existence is not revealed)."""
    post = session.get(Post, post_id)
    if post is None or not can_view_post(principal, post, session):
        raise NotFound("No such post.")
    return post


def visible_posts_clause(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The same rule as `can_view_post`, as a WHERE clause over `Post` for list queries."""
    grants = principal.grants
    own = Post.author_id == principal.person.id
    if any(p in grants.organisation for p in OVERSIGHT):
        return or_(own, true())
    teams: set[int] = set()
    for team_id, held in grants.by_team.items():
        if any(p in held for p in OVERSIGHT):
            teams.update(org_service.subtree_ids(session, team_id))
    if not teams:
        return own
    authors = select(Person.id).where(Person.team_id.in_(sorted(teams)))
    return or_(own, Post.author_id.in_(authors))


# What a person may do with a post they can see ---------------------------------------------
#
# A person who can see a post but may not take an action on it gets a 404 from the action as
# well: the page never offers them the button, so only a crafted request gets there, and the
# answer reveals nothing the page did not.


class EditMode(StrEnum):
    AUTHOR = "author"  # the author's own draft: saved with drafts.save_draft, autosaved
    REVIEW = "review"  # a reviewer's edit: review.edit_in_review, which restarts review


AUTHOR_EDITABLE = frozenset({PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED})


def edit_mode(session: Session, principal: Principal, post: Post) -> EditMode | None:
    """How this person may change the post now, or None when they may not."""
    if post.author_id == principal.person.id:
        return EditMode.AUTHOR if post.status in AUTHOR_EDITABLE else None
    if reviewing_step(session, principal, post) is not None:
        return EditMode.REVIEW
    return None


def not_editable_reason(post: Post, principal: Principal) -> str:
    status = post.status.replace("_", " ")
    if post.author_id == principal.person.id:
        if post.status == PostStatus.IN_REVIEW:
            return "This post is in review: move it back to draft to change it."
        return f"This post is {status}: move it back to draft to change it."
    if post.status == PostStatus.IN_REVIEW:
        return "Only the reviewers of the current step may edit this post."
    return "Only the author edits a draft; reviewers edit it once it is submitted."


def reviewing_step(session: Session, principal: Principal, post: Post) -> review.Step | None:
    """The step this person may decide now: the post is in review, they are among the
    step's reviewers (never the author) and have not approved this version yet."""
    if post.status != PostStatus.IN_REVIEW or post.author_id == principal.person.id:
        return None
    step = review.current_step(session, post)
    if step is None:
        return None
    if principal.person.id not in {p.id for p in review.reviewers_for(session, post, step)}:
        return None
    given = review.approvals(session, post)
    if any(r.reviewer_id == principal.person.id and r.step == step.index for r in given):
        return None
    return step


def may_withdraw(session: Session, principal: Principal, post: Post) -> bool:
    """Back to draft or cancel: the author, or whoever publishes for the author's team."""
    return post.author_id == principal.person.id or has_for_author(
        principal, post, session, Permission.PUBLISH_POSTS
    )


def may_override(session: Session, principal: Principal, post: Post) -> bool:
    return has_for_author(principal, post, session, Permission.OVERRIDE_BLOCK)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotFound("No such post.")


def visible_media(session: Session, principal: Principal, media_id: int) -> Media:
    """An image, for people who may see its post or read it on the internal stream."""
    media = session.get(Media, media_id)
    if media is None or media.organisation_id != principal.person.organisation_id:
        raise NotFound("No such image.")
    post = session.get(Post, media.post_id) if media.post_id is not None else None
    if post is not None and (
        can_view_post(principal, post, session) or _on_internal_stream(session, post)
    ):
        return media
    raise NotFound("No such image.")


def _on_internal_stream(session: Session, post: Post) -> bool:
    """Published on an internal channel, where every member of the organisation reads it."""
    found = session.scalar(
        select(Publication.id)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(
            Publication.post_id == post.id,
            Publication.state == "confirmed",
            Channel.kind == INTERNAL_KIND,
        )
        .limit(1)
    )
    return found is not None


def visible_publication(session: Session, principal: Principal, publication_id: int) -> Publication:
    row = session.get(Publication, publication_id)
    post = session.get(Post, row.post_id) if row is not None else None
    if row is None or post is None or not can_view_post(principal, post, session):
        raise NotFound("No such publication.")
    return row
