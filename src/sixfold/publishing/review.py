"""Review: whether a post needs it, who reviews at each step, and their decisions.

Policy: a post is reviewed when its author may not publish without review, when its risk
verdict is one the organisation reviews, when a channel requires review, or when a leader
overrode a block. The workflow is a list of steps; every step must pass, in order. A step
passes when any one (mode "any") or every one (mode "all") of its reviewers approved the
CURRENT version in the current round: an edit makes a new version, and a post taken back
and submitted again starts a new round, so approvals lapse by construction. A change of the
workflow's steps starts a new round for every post in review: approvals are matched to steps
by position, so they would count for the wrong step, or for none. Authors never review their
own posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.models import RoleAssignment
from sixfold.auth.permissions import Permission, Role, permissions_for
from sixfold.channels.models import Channel
from sixfold.db import utcnow
from sixfold.errors import Conflict, Forbidden, ValidationFailed
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person
from sixfold.publishing import drafts, limits, notify, post_audit
from sixfold.publishing.models import (
    Post,
    PostStatus,
    PublishingSettings,
    Review,
    ReviewDecision,
)
from sixfold.publishing.schedule import schedule_post

DEFAULT_STEPS: list[dict[str, Any]] = [{"name": "Review", "mode": "any"}]
DEFAULT_REVIEW_VERDICTS = ["review", "block"]
COMMENT_MAX_CHARS = 4000


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    mode: str  # "any" or "all"
    role: str | None
    people: tuple[int, ...]


def settings_of(session: Session, organisation_id: int) -> PublishingSettings:
    row = session.get(PublishingSettings, organisation_id)
    if row is None:
        row = PublishingSettings(
            organisation_id=organisation_id,
            review_steps=list(DEFAULT_STEPS),
            review_verdicts=list(DEFAULT_REVIEW_VERDICTS),
            alt_text_required=True,
        )
    return row


def parse_steps(data: Any) -> list[Step]:
    """Validate the workflow as stored or submitted; errors name the step."""
    if not isinstance(data, list) or not data:
        raise ValidationFailed("The review workflow needs at least one step.")
    steps = []
    for index, item in enumerate(data):
        where = f"Step {index + 1}"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} is not a step.")
        mode = str(item.get("mode", "any"))
        if mode not in ("any", "all"):
            raise ValidationFailed(f"{where}: mode is 'any' or 'all', not {mode!r}.")
        role = item.get("role") or None
        if role is not None and role not in {r.value for r in Role}:
            raise ValidationFailed(f"{where}: {role!r} is not a role.")
        people = item.get("people") or []
        if not isinstance(people, list) or not all(isinstance(p, int) for p in people):
            raise ValidationFailed(f"{where}: people is a list of person ids.")
        if role and people:
            raise ValidationFailed(f"{where}: name a role or people, not both.")
        name = str(item.get("name") or f"Step {index + 1}")[:200]
        steps.append(Step(index, name, mode, role, tuple(people)))
    return steps


def steps_for(session: Session, organisation_id: int) -> list[Step]:
    return parse_steps(settings_of(session, organisation_id).review_steps)


@dataclass(frozen=True)
class ReviewNeed:
    needed: bool
    reasons: tuple[str, ...]


def review_need(session: Session, post: Post) -> ReviewNeed:
    settings = settings_of(session, post.organisation_id)
    reasons = []
    if not post.author.may_publish_without_review:
        reasons.append(f"{post.author.name} is not yet cleared to publish without review.")
    if post.risk_verdict in settings.review_verdicts:
        reasons.append(f"The risk check says {post.risk_verdict}.")
    if post.override_version == post.version:
        reasons.append("A leader overrode the risk engine's block.")
    for target in post.targets:
        channel = session.get(Channel, target.channel_id)
        if channel is not None and channel.requires_review:
            reasons.append(f"Every post to {channel.name} is reviewed.")
    return ReviewNeed(bool(reasons), tuple(reasons))


def reviewers_for(session: Session, post: Post, step: Step) -> list[Person]:
    """Who may decide at `step`: holders of review rights for the author's team, minus
    the author."""
    if step.people:
        people = session.scalars(
            select(Person).where(Person.id.in_(step.people), Person.is_active.is_(True))
        )
        return [p for p in people if p.id != post.author_id]
    ancestry = set(org_service.team_ancestry(session, post.author.team_id))
    roles = [
        r
        for r in Role
        if (step.role is None or r.value == step.role)
        and Permission.REVIEW_POSTS in permissions_for(r, scoped=False)
    ]
    rows = session.execute(
        select(Person, RoleAssignment.role, RoleAssignment.team_id)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            Person.organisation_id == post.organisation_id,
            Person.is_active.is_(True),
            RoleAssignment.role.in_([r.value for r in roles]),
        )
        .order_by(Person.name)
    ).all()
    found: dict[int, Person] = {}
    for person, role, team_id in rows:
        scoped_ok = team_id is None or team_id in ancestry
        if scoped_ok and Permission.REVIEW_POSTS in permissions_for(
            Role(role), scoped=team_id is not None
        ):
            found.setdefault(person.id, person)
    return [p for p in found.values() if p.id != post.author_id]


def approvals(session: Session, post: Post) -> list[Review]:
    """Approvals of the current version in the current round (since the last submission, or
    the workflow's last change while the post was in review).

    An author who takes a post back, from review or from the schedule, may have reasons the
    reviewers never heard; submitted again, even unchanged, it is reviewed again. Should a
    server's clock step back, an approval may read as older than the round and be asked for
    again: never the other way round."""
    since = post.review_started_at  # migration 0007 gave every earlier round its start
    if since is None:
        return []
    return list(
        session.scalars(
            select(Review).where(
                Review.post_id == post.id,
                Review.version == post.version,
                Review.decision == ReviewDecision.APPROVED,
                Review.created_at >= since,
            )
        )
    )


def step_passed(session: Session, post: Post, step: Step, given: list[Review]) -> bool:
    approvers = {r.reviewer_id for r in given if r.step == step.index}
    if step.mode == "any":
        return bool(approvers)
    expected = {p.id for p in reviewers_for(session, post, step)}
    return bool(expected) and expected <= approvers


def current_step(session: Session, post: Post) -> Step | None:
    """The first step not yet passed on this version; None when every step passed."""
    given = approvals(session, post)
    for step in steps_for(session, post.organisation_id):
        if not step_passed(session, post, step, given):
            return step
    return None


def history(session: Session, post: Post) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.post_id == post.id).order_by(Review.id))
    )


# Decisions ------------------------------------------------------------------------------


def submit(session: Session, post: Post, *, actor: audit.Actor, base_url: str = "") -> str:
    """Send the post on: to review, or straight to its schedule. Returns the new status."""
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        raise Conflict(f"This post is {post.status.replace('_', ' ')} already.")
    problems = _readiness_problems(session, post)
    if problems:
        raise ValidationFailed(" ".join(problems))
    drafts.refresh_verdict(session, post)
    if drafts.is_blocked(post):
        raise Forbidden(
            "The risk check blocks this post. Change the text, or ask a leader to override "
            "the block with a written reason."
        )
    post.submitted_at = post.review_started_at = utcnow()
    need = review_need(session, post)
    post_audit.record(
        session,
        actor,
        "post.submitted",
        post_id=post.id,
        text=post.text,
        version=post.version,
        verdict=post.risk_verdict,
        review=list(need.reasons),
    )
    if need.needed:
        post.status = PostStatus.IN_REVIEW
        _ask_first_step(session, post, base_url=base_url)
        return post.status
    schedule_post(session, post, actor=actor)
    return post.status


def _readiness_problems(session: Session, post: Post) -> list[str]:
    problems = []
    if not post.text.strip() and not any(t.text for t in post.targets):
        problems.append("The post has no text.")
    if not post.targets:
        problems.append("Choose at least one channel.")
    problems += limits.limit_problems(session, post)
    if settings_of(session, post.organisation_id).alt_text_required:
        missing = drafts.missing_alt_text(post)
        if missing:
            names = ", ".join(m.filename for m in missing)
            problems.append(
                f"Describe every image for people who cannot see it (alt text): {names}."
            )
    return problems


def _ask_step(session: Session, post: Post, step: Step, *, base_url: str) -> None:
    """Ask the reviewers of `step`; whoever was asked before (an earlier step, an earlier
    round) is no longer waited for."""
    notify.review_settled(session, post)
    notify.review_requested(
        session, post, step.name, reviewers_for(session, post, step), base_url=base_url
    )


def _ask_first_step(session: Session, post: Post, *, base_url: str) -> None:
    """A new round or a new version has no approvals yet: review starts at the first step."""
    first = steps_for(session, post.organisation_id)[0]
    _ask_step(session, post, first, base_url=base_url)


def approve(
    session: Session,
    post: Post,
    reviewer: Person,
    *,
    comment: str = "",
    actor: audit.Actor,
    base_url: str = "",
    version: int | None = None,
) -> str:
    """Approve the current version; `version`, when given, is the one the reviewer read."""
    step = _decidable_step(session, post, reviewer, version)
    if drafts.is_blocked(post):
        # An edit made while in review (a new publishing time can meet a sensitive event)
        # may turn the verdict into a block: approving it would skip the leader's override.
        raise Forbidden(
            "The risk check blocks this version: ask for changes, or ask a leader to override "
            "the block first."
        )
    session.add(
        Review(
            post_id=post.id,
            version=post.version,
            step=step.index,
            reviewer_id=reviewer.id,
            decision=ReviewDecision.APPROVED,
            comment=_comment(comment, required=False),
        )
    )
    session.flush()
    post_audit.record(
        session,
        actor,
        "post.approved",
        post_id=post.id,
        text=post.text,
        version=post.version,
        step=step.name,
        comment=comment[:500],
    )
    following = current_step(session, post)
    if following is None:
        notify.review_settled(session, post)
        schedule_post(session, post, actor=actor)
        notify.post_approved(session, post, reviewer, base_url=base_url)
    elif following.index != step.index:
        _ask_step(session, post, following, base_url=base_url)
    else:
        # A step every reviewer must pass: the others are still asked, this one is done.
        notify.review_settled(session, post, people=[reviewer.id])
    return post.status


def reject(
    session: Session,
    post: Post,
    reviewer: Person,
    *,
    comment: str,
    actor: audit.Actor,
    base_url: str = "",
    version: int | None = None,
) -> None:
    step = _decidable_step(session, post, reviewer, version)
    text = _comment(comment, required=True)
    session.add(
        Review(
            post_id=post.id,
            version=post.version,
            step=step.index,
            reviewer_id=reviewer.id,
            decision=ReviewDecision.REJECTED,
            comment=text,
        )
    )
    post.status = PostStatus.CHANGES_REQUESTED
    notify.review_settled(session, post)
    post_audit.record(
        session,
        actor,
        "post.rejected",
        post_id=post.id,
        text=post.text,
        version=post.version,
        step=step.name,
        comment=text[:500],
    )
    notify.post_rejected(session, post, reviewer, text, base_url=base_url)


def edit_in_review(
    session: Session,
    post: Post,
    reviewer: Person,
    data: drafts.DraftInput,
    *,
    base_version: int,
    actor: audit.Actor,
    base_url: str = "",
) -> None:
    """A reviewer's edit: saved as a version, and review starts again from the first step."""
    if post.status != PostStatus.IN_REVIEW:
        raise Conflict("Only a post in review can be edited by its reviewer.")
    step = _decidable_step(session, post, reviewer)
    before = post.version
    drafts.save_draft(
        session, post, reviewer, data, base_version=base_version, reason="review_edit"
    )
    if post.version == before:
        return
    session.add(
        Review(
            post_id=post.id,
            version=post.version,
            step=step.index,
            reviewer_id=reviewer.id,
            decision=ReviewDecision.EDITED,
            comment="",
        )
    )
    post_audit.record(
        session,
        actor,
        "post.edited_in_review",
        post_id=post.id,
        text=post.text,
        version=post.version,
    )
    review_again(session, post, base_url=base_url)


def review_again(session: Session, post: Post, *, base_url: str) -> None:
    """A post changed in review is reviewed again from the first step. One the change made
    blocked (a new time can meet a sensitive event) goes back to its author instead:
    approving it would skip a leader's override."""
    if drafts.is_blocked(post):
        post.status = PostStatus.CHANGES_REQUESTED
        notify.review_settled(session, post)
        return
    _ask_first_step(session, post, base_url=base_url)


def restart_reviews(session: Session, organisation_id: int, *, base_url: str = "") -> list[int]:
    """Start every post in review again at the first step of the (changed) workflow; return
    their ids. Their approvals lapse, the first step's reviewers are asked, and the earlier
    requests are settled."""
    # Locked, so an approval decided at the same moment is either counted before the round
    # restarts (and lapses with it) or decided afterwards against the new workflow.
    posts = session.scalars(
        select(Post)
        .where(Post.organisation_id == organisation_id, Post.status == PostStatus.IN_REVIEW)
        .order_by(Post.id)
        .with_for_update()
    ).all()
    now = utcnow()
    for post in posts:
        post.review_started_at = now
        _ask_first_step(session, post, base_url=base_url)
    return [post.id for post in posts]


def override_block(
    session: Session,
    post: Post,
    leader: Person,
    *,
    reason: str,
    actor: audit.Actor,
    version: int | None = None,
) -> None:
    """Let the blocked version the leader read go to review; `version` is the one read."""
    session.flush()
    session.refresh(post, with_for_update=True)
    _check_read_version(post, version)
    if post.risk_verdict != "block":
        raise Conflict("The risk check does not block this post; there is nothing to override.")
    post.override_reason = _comment(reason, required=True)
    post.override_by_id = leader.id
    post.override_version = post.version
    post_audit.record(
        session,
        actor,
        "post.block_overridden",
        post_id=post.id,
        text=post.text,
        version=post.version,
        reason=post.override_reason[:1000],
        findings=[f["message"] for f in post.risk_findings][:10],
    )


def _decidable_step(
    session: Session, post: Post, reviewer: Person, version: int | None = None
) -> Step:
    # Locked, so an edit saved at the same moment cannot slip between reading and deciding.
    # Flushed first: a refresh would otherwise drop this session's own unsaved changes.
    session.flush()
    session.refresh(post, with_for_update=True)
    _check_read_version(post, version)
    if post.status != PostStatus.IN_REVIEW:
        raise Conflict(f"This post is {post.status.replace('_', ' ')}, not in review.")
    if reviewer.id == post.author_id:
        raise Forbidden("Authors never review their own posts.")
    step = current_step(session, post)
    if step is None:
        raise Conflict("Every review step has already passed.")
    if reviewer.id not in {p.id for p in reviewers_for(session, post, step)}:
        raise Forbidden(f"You are not a reviewer of the step '{step.name}' for this post.")
    already = any(
        r.reviewer_id == reviewer.id and r.step == step.index for r in approvals(session, post)
    )
    if already:
        raise Conflict("You have already approved this version.")
    return step


def _check_read_version(post: Post, version: int | None) -> None:
    """A decision is about the version the person read; a newer one must be read first."""
    if version is not None and version != post.version:
        raise Conflict(
            f"The post changed while you were reading it (it is now version {post.version}). "
            "Read it again before you decide."
        )


def _comment(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise ValidationFailed("Write a comment: the author needs to know what to change.")
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationFailed(f"The comment is longer than {COMMENT_MAX_CHARS} characters.")
    return text


def queue_for(session: Session, organisation: Organisation, reviewer: Person) -> list[Post]:
    """Posts in review whose current step this person may decide."""
    posts = session.scalars(
        select(Post)
        .where(Post.organisation_id == organisation.id, Post.status == PostStatus.IN_REVIEW)
        .order_by(Post.submitted_at)
    )
    mine = []
    for post in posts:
        step = current_step(session, post)
        if step is not None and reviewer.id in {p.id for p in reviewers_for(session, post, step)}:
            mine.append(post)
    return mine
