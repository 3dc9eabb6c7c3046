"""Review: the policy that asks for it, multi-step workflows, decisions and who hears of them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import Actor, AuditEntry
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.errors import Conflict, Forbidden, ValidationFailed
from sixfold.notifications import service as notification_service
from sixfold.notifications.models import EmailMessage, Notification
from sixfold.org.models import Person, Team
from sixfold.publishing import drafts, review, schedule
from sixfold.publishing import workflow as workflow_settings
from sixfold.publishing.models import Post, PostStatus, PublishingSettings, ReviewDecision
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.publishing.conftest import Newsroom

BLOCKED_TEXT = "Pay with card 4111 1111 1111 1111 today"
REVIEW_TEXT = "Vote Republican this year"
MENTOR_STEP = {"name": "Mentor review", "mode": "any", "role": "community_mentor"}
LEADER_STEP = {"name": "Leader sign-off", "mode": "all", "role": "leader"}


def actor(person: Person) -> Actor:
    return Actor(id=person.id, label=person.email)


def workflow(db: Session, newsroom: Newsroom, *steps: dict[str, Any]) -> None:
    db.add(
        PublishingSettings(
            organisation_id=newsroom.org.id,
            review_steps=list(steps),
            review_verdicts=["review", "block"],
            alt_text_required=True,
        )
    )
    db.flush()


def submit(db: Session, post: Post) -> str:
    return review.submit(db, post, actor=actor(post.author), base_url="https://sixfold.test")


def approve(db: Session, post: Post, reviewer: Person) -> str:
    return review.approve(db, post, reviewer, actor=actor(reviewer))


def edit(db: Session, post: Post, text: str, editor: Person | None = None) -> None:
    data = drafts.DraftInput(text=text, channel_ids=[t.channel_id for t in post.targets])
    drafts.save_draft(db, post, editor or post.author, data, base_version=post.version)


def notified(db: Session, person: Person, kind: str) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification).where(
                Notification.person_id == person.id, Notification.kind == kind
            )
        )
    )


def mails_to(db: Session, person: Person) -> list[EmailMessage]:
    return list(db.scalars(select(EmailMessage).where(EmailMessage.to_address == person.email)))


def audit_actions(db: Session, post: Post) -> list[str]:
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "post", AuditEntry.target_id == str(post.id))
        .order_by(AuditEntry.seq)
    )
    return [r.action for r in rows]


# Policy ------------------------------------------------------------------------------------


def test_an_author_cleared_to_publish_skips_review(db: Session, newsroom: Newsroom) -> None:
    newsroom.author.may_publish_without_review = True
    post = newsroom.draft(db)

    assert review.review_need(db, post) == review.ReviewNeed(False, ())
    assert submit(db, post) == PostStatus.SCHEDULED
    assert len(db.scalars(select(Publication).where(Publication.post_id == post.id)).all()) == 1


def test_review_is_needed_because_of_standing_verdict_and_channel(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, REVIEW_TEXT)
    need = review.review_need(db, post)
    assert need.needed
    assert need.reasons == (
        f"{newsroom.author.name} is not yet cleared to publish without review.",
        "The risk check says review.",
    )

    newsroom.author.may_publish_without_review = True
    flagship = channels.create_channel(
        db, newsroom.org, kind="null", name="Flagship", requires_review=True, actor=factories.ACTOR
    )
    data = drafts.DraftInput(text="Plain news.", channel_ids=[flagship.id, newsroom.stream.id])
    plain = drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)
    assert review.review_need(db, plain).reasons == ("Every post to Flagship is reviewed.",)


def test_an_override_sends_a_cleared_author_to_review(db: Session, newsroom: Newsroom) -> None:
    newsroom.author.may_publish_without_review = True
    post = newsroom.draft(db, BLOCKED_TEXT)
    review.override_block(
        db, post, newsroom.leader, reason="Test card.", actor=actor(newsroom.leader)
    )

    assert review.review_need(db, post).reasons == (
        "The risk check says block.",
        "A leader overrode the risk engine's block.",
    )


# Workflows ---------------------------------------------------------------------------------


def test_every_step_must_pass_in_order(db: Session, newsroom: Newsroom) -> None:
    second_leader = factories.person(db, newsroom.org, roles=(Role.LEADER,), password=None)
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    assert submit(db, post) == PostStatus.IN_REVIEW

    with pytest.raises(Forbidden, match="Mentor review"):
        approve(db, post, newsroom.leader)  # not a reviewer of step 1
    assert approve(db, post, newsroom.mentor) == PostStatus.IN_REVIEW
    current = review.current_step(db, post)
    assert current is not None
    assert current.name == "Leader sign-off"

    # "all": one leader's approval is not enough, and nobody approves twice.
    assert approve(db, post, newsroom.leader) == PostStatus.IN_REVIEW
    with pytest.raises(Conflict, match="already approved"):
        approve(db, post, newsroom.leader)
    assert approve(db, post, second_leader) == PostStatus.SCHEDULED


def test_the_author_never_approves_their_own_post(db: Session, newsroom: Newsroom) -> None:
    auth_service.assign_role(
        db, newsroom.author, Role.COMMUNITY_MENTOR, team=None, actor=factories.ACTOR, by=None
    )
    post = newsroom.draft(db)
    submit(db, post)
    step = review.current_step(db, post)
    assert step is not None

    assert newsroom.author.id not in {p.id for p in review.reviewers_for(db, post, step)}
    with pytest.raises(Forbidden, match="own posts"):
        approve(db, post, newsroom.author)
    assert post not in review.queue_for(db, newsroom.org, newsroom.author)


def test_an_all_step_ignores_the_author_among_its_reviewers(
    db: Session, newsroom: Newsroom
) -> None:
    """A leader writing a post does not make "all leaders" impossible to satisfy."""
    other_leader = factories.person(db, newsroom.org, roles=(Role.LEADER,), password=None)
    workflow(db, newsroom, LEADER_STEP)
    data = drafts.DraftInput(text="Leaders' note.", channel_ids=[newsroom.stream.id])
    post = drafts.create_draft(db, newsroom.org, newsroom.leader, data, actor=factories.ACTOR)
    submit(db, post)

    assert approve(db, post, other_leader) == PostStatus.SCHEDULED


def test_an_approval_lapses_when_the_text_changes(db: Session, newsroom: Newsroom) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)
    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 1

    edit(db, post, "Our new trail guide is out today, with maps.")

    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 0
    assert review.approvals(db, post) == []
    # The mentor may approve the new version, though they approved the old one.
    approve(db, post, newsroom.mentor)
    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 1


def test_a_rejection_needs_a_comment_and_returns_the_post(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    submit(db, post)

    with pytest.raises(ValidationFailed, match="Write a comment"):
        review.reject(db, post, newsroom.mentor, comment="  ", actor=actor(newsroom.mentor))
    assert post.status == PostStatus.IN_REVIEW
    review.reject(
        db, post, newsroom.mentor, comment="Add the trail's name.", actor=actor(newsroom.mentor)
    )

    assert post.status == PostStatus.CHANGES_REQUESTED
    [told] = notified(db, newsroom.author, "post_rejected")
    assert "Add the trail's name." in told.message
    assert [m.subject for m in mails_to(db, newsroom.author)] == [f"[Sixfold] {told.message}"]
    # Edited and submitted again, it goes back to review.
    edit(db, post, "Our new Ridge Trail guide is out today.")
    assert submit(db, post) == PostStatus.IN_REVIEW


def test_a_reviewers_edit_restarts_review(db: Session, newsroom: Newsroom) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)
    asked_before = len(notified(db, newsroom.mentor, "review_requested"))

    data = drafts.DraftInput(text="Our trail guide is out.", channel_ids=[newsroom.stream.id])
    review.edit_in_review(
        db, post, newsroom.leader, data, base_version=post.version, actor=actor(newsroom.leader)
    )

    assert post.text == "Our trail guide is out."
    assert post.status == PostStatus.IN_REVIEW
    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 0
    assert review.history(db, post)[-1].decision == ReviewDecision.EDITED
    assert len(notified(db, newsroom.mentor, "review_requested")) == asked_before + 1


def test_a_post_taken_back_from_the_schedule_is_reviewed_again(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)
    schedule.withdraw(db, post, actor=actor(newsroom.author), to=PostStatus.DRAFT)

    # Submitted again unchanged: the author took it back, so the approval does not carry over.
    assert submit(db, post) == PostStatus.IN_REVIEW
    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 0
    assert review.queue_for(db, newsroom.org, newsroom.mentor) == [post]
    assert len(notified(db, newsroom.mentor, "review_requested")) == 2
    assert approve(db, post, newsroom.mentor) == PostStatus.SCHEDULED


def test_a_post_taken_back_from_review_starts_again_at_the_first_step(
    db: Session, newsroom: Newsroom
) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)
    schedule.withdraw(db, post, actor=actor(newsroom.author), to=PostStatus.DRAFT)

    submit(db, post)

    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 0
    assert review.approvals(db, post) == []
    assert review.queue_for(db, newsroom.org, newsroom.leader) == []


def change_workflow(db: Session, newsroom: Newsroom, *steps: dict[str, Any]) -> None:
    workflow_settings.save_settings(
        db,
        newsroom.org,
        steps=list(steps),
        review_verdicts=["review", "block"],
        alt_text_required=True,
        actor=factories.ACTOR,
        base_url="https://sixfold.test",
    )


def test_removing_the_step_a_post_waits_at_starts_its_review_again(
    db: Session, newsroom: Newsroom
) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)  # waits at step 2 of 2

    change_workflow(db, newsroom, MENTOR_STEP)

    current = review.current_step(db, post)
    assert current is not None  # not stranded with every step "passed" and nobody to ask
    assert current.index == 0
    assert review.approvals(db, post) == []
    assert review.queue_for(db, newsroom.org, newsroom.mentor) == [post]
    assert len(open_requests(db, newsroom.mentor)) == 1
    assert open_requests(db, newsroom.leader) == []  # the removed step asks nothing more
    assert approve(db, post, newsroom.mentor) == PostStatus.SCHEDULED


def test_reordered_steps_do_not_count_an_approval_for_another_step(
    db: Session, newsroom: Newsroom
) -> None:
    any_leader = LEADER_STEP | {"mode": "any"}
    workflow(db, newsroom, MENTOR_STEP, any_leader)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)

    change_workflow(db, newsroom, any_leader, MENTOR_STEP)

    current = review.current_step(db, post)
    assert current is not None
    assert current.name == "Leader sign-off"  # the mentor's approval was for their own step
    assert review.queue_for(db, newsroom.org, newsroom.leader) == [post]
    assert len(open_requests(db, newsroom.leader)) == 1
    approve(db, post, newsroom.leader)
    assert post.status == PostStatus.IN_REVIEW  # the mentor is asked again, after the leader
    assert approve(db, post, newsroom.mentor) == PostStatus.SCHEDULED


def test_a_changed_workflow_restarts_every_post_in_review_in_one_audit_entry(
    db: Session, newsroom: Newsroom
) -> None:
    workflow(db, newsroom, MENTOR_STEP)
    waiting, approved = newsroom.draft(db, "First news."), newsroom.draft(db, "Second news.")
    draft = newsroom.draft(db, "Third news.")
    for post in (waiting, approved):
        submit(db, post)
    approve(db, approved, newsroom.mentor)
    submitted_at = waiting.submitted_at

    change_workflow(db, newsroom, LEADER_STEP)

    [entry] = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "publishing.reviews_restarted")
    )
    assert entry.details == {"posts": 1, "post_ids": [waiting.id]}
    assert waiting.submitted_at == submitted_at  # when it was submitted stays true
    assert draft.status == PostStatus.DRAFT
    assert open_requests(db, newsroom.mentor) == []  # the old step's request is settled
    [asked] = open_requests(db, newsroom.leader)
    assert asked.link == f"/posts/{waiting.id}"
    assert [m.body for m in mails_to(db, newsroom.leader) if m.state == "queued"] == [
        f"{asked.message}\n\nhttps://sixfold.test/posts/{waiting.id}\n\n— Sixfold\n"
    ]


def test_renaming_a_step_asks_nobody_again(db: Session, newsroom: Newsroom) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)

    change_workflow(db, newsroom, MENTOR_STEP | {"name": "Mentors"}, LEADER_STEP)

    current = review.current_step(db, post)
    assert current is not None
    assert current.index == 1
    assert open_requests(db, newsroom.mentor) == []
    restarts = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "publishing.reviews_restarted")
    )
    assert list(restarts) == []


def test_team_scoped_mentors_review_only_their_teams(db: Session, newsroom: Newsroom) -> None:
    outdoors = factories.team(db, newsroom.org, "Marketing/Outdoors")
    finance = factories.team(db, newsroom.org, "Finance")
    scoped = factories.person(db, newsroom.org, password=None)
    auth_service.assign_role(
        db,
        scoped,
        Role.COMMUNITY_MENTOR,
        team=_parent(db, outdoors),
        actor=factories.ACTOR,
        by=None,
    )
    ours = _post_by_member_of(db, newsroom, outdoors)
    theirs = _post_by_member_of(db, newsroom, finance)
    for post in (ours, theirs):
        submit(db, post)

    assert review.queue_for(db, newsroom.org, scoped) == [ours]
    with pytest.raises(Forbidden, match="not a reviewer"):
        approve(db, theirs, scoped)
    approve(db, ours, scoped)
    assert ours.status == PostStatus.SCHEDULED


def _parent(db: Session, team: Team) -> Team:
    parent = db.get(Team, team.parent_id)
    assert parent is not None
    return parent


def _post_by_member_of(db: Session, newsroom: Newsroom, team: Team) -> Post:
    member = factories.person(db, newsroom.org, team_=team, password=None)
    data = drafts.DraftInput(text=f"News from {team.name}.", channel_ids=[newsroom.stream.id])
    return drafts.create_draft(db, newsroom.org, member, data, actor=factories.ACTOR)


# Blocks and overrides ----------------------------------------------------------------------


def test_a_block_needs_a_leaders_override_with_a_reason(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, BLOCKED_TEXT)
    with pytest.raises(Forbidden, match="blocks this post"):
        submit(db, post)
    with pytest.raises(ValidationFailed):
        review.override_block(db, post, newsroom.leader, reason=" ", actor=actor(newsroom.leader))

    review.override_block(
        db, post, newsroom.leader, reason="A test card number.", actor=actor(newsroom.leader)
    )
    assert submit(db, post) == PostStatus.IN_REVIEW
    approve(db, post, newsroom.mentor)
    assert post.status == PostStatus.SCHEDULED


def test_an_override_lapses_when_the_text_changes(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, BLOCKED_TEXT)
    review.override_block(db, post, newsroom.leader, reason="Test.", actor=actor(newsroom.leader))
    assert not drafts.is_blocked(post)

    edit(db, post, BLOCKED_TEXT + " and tomorrow")

    assert drafts.is_blocked(post)
    with pytest.raises(Forbidden):
        submit(db, post)


def test_a_version_blocked_during_review_cannot_be_approved(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    submit(db, post)
    edit(db, post, BLOCKED_TEXT)  # the author edits while the post waits in review

    with pytest.raises(Forbidden, match="blocks this version"):
        approve(db, post, newsroom.mentor)
    assert post.status == PostStatus.IN_REVIEW


def test_overriding_an_unblocked_post_is_refused(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    with pytest.raises(Conflict, match="nothing to override"):
        review.override_block(db, post, newsroom.leader, reason="x", actor=actor(newsroom.leader))


# Who hears of it ---------------------------------------------------------------------------


def test_reviewers_of_the_step_are_notified_and_mailed(db: Session, newsroom: Newsroom) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)

    [asked] = notified(db, newsroom.mentor, "review_requested")
    assert asked.link == f"/posts/{post.id}"
    assert "Mentor review" in asked.message
    assert notified(db, newsroom.leader, "review_requested") == []
    assert notified(db, newsroom.author, "review_requested") == []
    [mail] = mails_to(db, newsroom.mentor)
    assert mail.state == "queued"
    assert f"https://sixfold.test/posts/{post.id}" in mail.body

    approve(db, post, newsroom.mentor)
    assert len(notified(db, newsroom.leader, "review_requested")) == 1
    approve(db, post, newsroom.leader)
    [approved] = notified(db, newsroom.author, "post_approved")
    assert newsroom.leader.name in approved.message
    assert len(mails_to(db, newsroom.author)) == 1


def open_requests(db: Session, person: Person) -> list[Notification]:
    return [n for n in notified(db, person, "review_requested") if n.resolved_at is None]


def test_a_request_is_settled_when_the_step_it_asked_for_passes(
    db: Session, newsroom: Newsroom
) -> None:
    second_leader = factories.person(db, newsroom.org, roles=(Role.LEADER,), password=None)
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)

    approve(db, post, newsroom.mentor)
    assert open_requests(db, newsroom.mentor) == []
    [mentor_mail] = mails_to(db, newsroom.mentor)
    assert mentor_mail.state == "withdrawn"  # not yet sent, and no longer needed

    # "all": the leader who approved is done; the other is still waited for.
    approve(db, post, newsroom.leader)
    assert open_requests(db, newsroom.leader) == []
    assert len(open_requests(db, second_leader)) == 1
    approve(db, post, second_leader)
    assert open_requests(db, second_leader) == []
    assert [n.resolved_at for n in notified(db, newsroom.author, "post_approved")] == [None]


def test_another_reviewers_approval_settles_everyones_request(
    db: Session, newsroom: Newsroom
) -> None:
    """The UX review's case: a mentor asked for posts others decided saw them as unread."""
    other_mentor = factories.person(db, newsroom.org, roles=(Role.COMMUNITY_MENTOR,), password=None)
    decided, waiting = newsroom.draft(db, "First news."), newsroom.draft(db, "Second news.")
    submit(db, decided)
    submit(db, waiting)

    approve(db, decided, other_mentor)

    assert review.queue_for(db, newsroom.org, newsroom.mentor) == [waiting]
    assert [n.link for n in open_requests(db, newsroom.mentor)] == [f"/posts/{waiting.id}"]
    assert notification_service.unread_count(db, newsroom.mentor) == 1
    [settled] = [n for n in notified(db, newsroom.mentor, "review_requested") if n.resolved_at]
    assert settled.read_at is not None  # kept as history, not counted as unread


@pytest.mark.parametrize("leaves", ["rejected", "to_draft", "cancelled", "blocked_by_edit"])
def test_a_post_leaving_review_settles_every_request(
    db: Session, newsroom: Newsroom, leaves: str
) -> None:
    post = newsroom.draft(db)
    submit(db, post)
    assert open_requests(db, newsroom.mentor)
    assert open_requests(db, newsroom.leader)

    if leaves == "rejected":
        review.reject(db, post, newsroom.leader, comment="No.", actor=actor(newsroom.leader))
    elif leaves == "blocked_by_edit":
        data = drafts.DraftInput(text=BLOCKED_TEXT, channel_ids=[newsroom.stream.id])
        review.edit_in_review(
            db, post, newsroom.leader, data, base_version=post.version, actor=actor(newsroom.leader)
        )
    else:
        to = PostStatus.DRAFT if leaves == "to_draft" else PostStatus.CANCELLED
        schedule.withdraw(db, post, actor=actor(newsroom.author), to=to)

    assert post.status != PostStatus.IN_REVIEW
    assert open_requests(db, newsroom.mentor) == []
    assert open_requests(db, newsroom.leader) == []
    assert {m.state for m in mails_to(db, newsroom.mentor)} == {"withdrawn"}


def test_a_review_started_again_asks_anew_and_settles_the_old_requests(
    db: Session, newsroom: Newsroom
) -> None:
    workflow(db, newsroom, MENTOR_STEP, LEADER_STEP)
    post = newsroom.draft(db)
    submit(db, post)
    approve(db, post, newsroom.mentor)
    [asked_of_leader] = open_requests(db, newsroom.leader)

    data = drafts.DraftInput(text="Our trail guide is out.", channel_ids=[newsroom.stream.id])
    review.edit_in_review(
        db, post, newsroom.leader, data, base_version=post.version, actor=actor(newsroom.leader)
    )

    assert asked_of_leader.resolved_at is not None  # step 2 is no longer what waits
    [asked_again] = open_requests(db, newsroom.mentor)
    assert asked_again.created_at >= asked_of_leader.resolved_at


def test_inactive_reviewers_are_not_asked(db: Session, newsroom: Newsroom) -> None:
    newsroom.mentor.is_active = False
    other = factories.person(db, newsroom.org, roles=(Role.COMMUNITY_MENTOR,), password=None)
    post = newsroom.draft(db)
    submit(db, post)

    assert notified(db, newsroom.mentor, "review_requested") == []
    assert len(notified(db, other, "review_requested")) == 1


def test_decisions_are_in_the_audit_log(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, BLOCKED_TEXT)
    review.override_block(db, post, newsroom.leader, reason="Test.", actor=actor(newsroom.leader))
    submit(db, post)
    review.reject(db, post, newsroom.mentor, comment="No.", actor=actor(newsroom.mentor))
    submit(db, post)
    approve(db, post, newsroom.mentor)

    assert audit_actions(db, post) == [
        "post.created",
        "post.block_overridden",
        "post.submitted",
        "post.rejected",
        "post.submitted",
        "post.approved",
        "post.scheduled",
    ]
    rejected = db.scalars(select(AuditEntry).where(AuditEntry.action == "post.rejected")).one()
    assert rejected.actor_id == newsroom.mentor.id
    assert rejected.details["comment"] == "No."
    overridden = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "post.block_overridden")
    ).one()
    assert overridden.details["reason"] == "Test."
    assert overridden.details["findings"]


def test_a_decision_on_a_version_the_reviewer_did_not_read_is_refused(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    submit(db, post)
    read = post.version
    edit(db, post, "A different text, saved while the mentor was reading.")
    with pytest.raises(Conflict, match="changed while you were reading"):
        review.approve(db, post, newsroom.mentor, actor=actor(newsroom.mentor), version=read)
    with pytest.raises(Conflict, match="changed while you were reading"):
        review.reject(
            db, post, newsroom.mentor, comment="No", actor=actor(newsroom.mentor), version=read
        )
    assert post.status == PostStatus.IN_REVIEW
    review.approve(db, post, newsroom.mentor, actor=actor(newsroom.mentor), version=post.version)
    assert post.status == PostStatus.SCHEDULED
