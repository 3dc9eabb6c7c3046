"""The whole way of a post: draft, risk, review, schedule, publish on the internal stream."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import Actor
from sixfold.channels.models import StreamPost
from sixfold.jobs import Runner
from sixfold.publishing import review
from sixfold.publishing.models import PostStatus
from sixfold.publishing.publisher import Publication
from tests.publishing.conftest import Newsroom


def actor(person: object) -> Actor:
    return Actor(id=person.id, label=person.email)  # type: ignore[attr-defined]


def test_a_reviewed_post_is_published_once_on_the_stream(
    db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    post = newsroom.draft(db)
    assert review.submit(db, post, actor=actor(newsroom.author)) == PostStatus.IN_REVIEW
    review.approve(db, post, newsroom.mentor, actor=actor(newsroom.mentor))
    assert post.status == PostStatus.SCHEDULED
    db.commit()

    assert runner.run_single_cycle() == 1
    db.expire_all()
    publication = db.scalars(select(Publication)).one()
    assert publication.state == "confirmed"
    assert post.status == PostStatus.PUBLISHED
    stream = db.scalars(select(StreamPost)).all()
    assert [s.text for s in stream] == ["Our new trail guide is out today."]
    assert runner.run_single_cycle() == 0
