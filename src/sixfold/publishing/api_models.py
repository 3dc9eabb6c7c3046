"""The JSON shapes of the publishing API: what a post, its review and its publications look
like to a script, and the bodies the routes accept."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.channels.models import Channel
from sixfold.inputs import AwareMoment, Id
from sixfold.publishing import pause, review, schedule
from sixfold.publishing.models import (
    Post,
    PostStatus,
    PublishingPause,
    PublishMode,
    Review,
)
from sixfold.publishing.publisher import Publication

# Output models -----------------------------------------------------------------------------


class TargetOut(BaseModel):
    channel_id: int
    channel: str
    text: str | None = Field(description="Text written for this channel; null: the post's text.")


class MediaOut(BaseModel):
    id: int
    filename: str
    content_type: str
    alt_text: str
    width: int | None
    height: int | None


class FindingOut(BaseModel):
    scanner: str
    category: str
    severity: str
    score: float
    start: int
    end: int
    message: str


class RiskOut(BaseModel):
    verdict: str = Field(description="ok, review or block.")
    score: float
    findings: list[FindingOut]


class OverrideOut(BaseModel):
    by_id: int | None
    reason: str
    version: int | None
    applies: bool = Field(description="False once the text changed after the override.")


class StepOut(BaseModel):
    index: int
    name: str
    mode: str = Field(description="any: one reviewer's approval; all: every reviewer's.")
    passed: bool


class DecisionOut(BaseModel):
    reviewer_id: int
    reviewer: str
    step: int
    version: int
    decision: str = Field(description="approved, rejected or edited.")
    comment: str
    at: datetime


class ReviewOut(BaseModel):
    needed: bool
    needed_because: list[str]
    steps: list[StepOut]
    current_step: StepOut | None = Field(description="The step waiting; null unless in review.")
    approvals: list[DecisionOut] = Field(description="Approvals of the current version.")
    history: list[DecisionOut]


class PublicationOut(BaseModel):
    id: int
    post_id: int
    channel_id: int
    channel: str
    state: str
    due_at: datetime
    confirmed_at: datetime | None
    remote_id: str | None
    remote_url: str | None
    error: str | None = Field(description="The network's own words, or why it is held.")
    attempts: int


class PostSummary(BaseModel):
    id: int
    status: str
    version: int
    text: str
    author_id: int
    author: str
    channel_ids: list[int]
    risk_verdict: str
    publish_mode: str
    publish_at: datetime | None
    submitted_at: datetime | None
    updated_at: datetime


class PostOut(PostSummary):
    targets: list[TargetOut]
    media: list[MediaOut]
    risk: RiskOut
    override: OverrideOut | None
    review: ReviewOut
    publications: list[PublicationOut]


class PostPage(BaseModel):
    items: list[PostSummary]
    total: int
    limit: int
    offset: int


class PublicationPage(BaseModel):
    items: list[PublicationOut]
    total: int
    limit: int
    offset: int


class PauseOut(BaseModel):
    id: int
    channel_id: int | None = Field(description="null: the whole organisation is paused.")
    reason: str
    started_by: str | None
    started_at: datetime


class ResumeOut(BaseModel):
    held: list[PublicationOut] = Field(
        description="Publications the pause stopped; overdue now: publish, reschedule or cancel."
    )


# Input models ------------------------------------------------------------------------------


class ApproveIn(BaseModel):
    comment: str = Field(default="", max_length=review.COMMENT_MAX_CHARS)
    version: int | None = Field(
        default=None, description="The version you read; a newer one answers 409."
    )


class RejectIn(BaseModel):
    comment: str = Field(max_length=review.COMMENT_MAX_CHARS, description="What to change.")
    version: int | None = Field(
        default=None, description="The version you read; a newer one answers 409."
    )


class OverrideIn(BaseModel):
    reason: str = Field(max_length=review.COMMENT_MAX_CHARS, description="Why, for the record.")


class ScheduleIn(BaseModel):
    mode: PublishMode = Field(description="now, at a time, or the channels' queue slots.")
    at: AwareMoment | None = Field(default=None, description="ISO 8601 with an offset.")


class PauseIn(BaseModel):
    reason: str = Field(max_length=pause.REASON_MAX_CHARS, description="Shown to everyone.")
    channel_id: Id | None = Field(default=None, description="Omit to pause everything.")


class ResumeIn(BaseModel):
    channel_id: Id | None = None


class PostFilter(StrEnum):
    ME = "me"


# Converters --------------------------------------------------------------------------------


def summary_fields(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "status": post.status,
        "version": post.version,
        "text": post.text,
        "author_id": post.author_id,
        "author": post.author.name,
        "channel_ids": [t.channel_id for t in post.targets],
        "risk_verdict": post.risk_verdict,
        "publish_mode": post.publish_mode,
        "publish_at": post.publish_at,
        "submitted_at": post.submitted_at,
        "updated_at": post.updated_at,
    }


def publication_out(row: Publication) -> PublicationOut:
    return PublicationOut(
        id=row.id,
        post_id=row.post_id,
        channel_id=row.channel_id,
        channel=row.channel.name,
        state=row.state,
        due_at=row.due_at,
        confirmed_at=row.confirmed_at,
        remote_id=row.remote_id,
        remote_url=row.remote_url,
        error=row.error_message,
        attempts=row.attempts,
    )


def decision_out(item: Review) -> DecisionOut:
    return DecisionOut(
        reviewer_id=item.reviewer_id,
        reviewer=item.reviewer.name,
        step=item.step,
        version=item.version,
        decision=item.decision,
        comment=item.comment,
        at=item.created_at,
    )


def review_out(db: Session, post: Post) -> ReviewOut:
    need = review.review_need(db, post)
    given = review.approvals(db, post)
    steps = [
        StepOut(
            index=s.index, name=s.name, mode=s.mode, passed=review.step_passed(db, post, s, given)
        )
        for s in review.steps_for(db, post.organisation_id)
    ]
    waiting = next((s for s in steps if not s.passed), None)
    return ReviewOut(
        needed=need.needed,
        needed_because=list(need.reasons),
        steps=steps,
        current_step=waiting if post.status == PostStatus.IN_REVIEW else None,
        approvals=[decision_out(r) for r in given],
        history=[decision_out(r) for r in review.history(db, post)],
    )


def post_out(db: Session, post: Post) -> PostOut:
    override = None
    if post.override_reason is not None:
        override = OverrideOut(
            by_id=post.override_by_id,
            reason=post.override_reason,
            version=post.override_version,
            applies=post.override_version == post.version,
        )
    names = channel_names(db, [t.channel_id for t in post.targets])
    return PostOut(
        **summary_fields(post),
        targets=[
            TargetOut(channel_id=t.channel_id, channel=names[t.channel_id], text=t.text)
            for t in post.targets
        ],
        media=[MediaOut.model_validate(m, from_attributes=True) for m in post.media],
        risk=RiskOut(
            verdict=post.risk_verdict,
            score=post.risk_score,
            findings=[FindingOut.model_validate(f) for f in post.risk_findings],
        ),
        override=override,
        review=review_out(db, post),
        publications=[publication_out(r) for r in schedule.publications_of(db, post)],
    )


def channel_names(db: Session, ids: list[int]) -> dict[int, str]:
    rows = db.execute(select(Channel.id, Channel.name).where(Channel.id.in_(ids)))
    return dict(rows.all())


def pause_out(row: PublishingPause) -> PauseOut:
    return PauseOut(
        id=row.id,
        channel_id=row.channel_id,
        reason=row.reason,
        started_by=row.started_by.name if row.started_by else None,
        started_at=row.started_at,
    )
