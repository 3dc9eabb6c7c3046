"""Test data builders: a person with roles and a password, an organisation with teams."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person, Team

ACTOR = audit.Actor(id=None, label="tests")
PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def organisation(db: Session) -> Organisation:
    return org_service.ensure_organisation(db, "Test Org", "test-org")


def team(db: Session, org: Organisation, path: str = "Marketing/Social") -> Team:
    return org_service.ensure_team_path(db, org, path)


def person(
    db: Session,
    org: Organisation,
    *,
    roles: tuple[Role, ...] = (),
    settings: Settings | None = None,
    name: str | None = None,
    email: str | None = None,
    team_: Team | None = None,
    password: str | None = PASSWORD,
) -> Person:
    n = next(_sequence)
    someone = org_service.create_person(
        db,
        org,
        name=name or f"Person {n}",
        email=email or f"person{n}@example.org",
        team=team_,
        actor=ACTOR,
    )
    if password is not None:
        auth_service.set_password(
            db, someone, password, settings=settings or Settings(), actor=ACTOR
        )
    for role in roles:
        auth_service.assign_role(db, someone, role, team=None, actor=ACTOR, by=None)
    db.flush()
    return someone


def publishing_world(db: Session, org: Organisation, *, author: Person) -> dict[str, int]:
    """One of each publishing object, for tests that need ids to put in URLs.

    The post is the author's and scheduled on an internal stream; the event, the suggestion
    and the media belong to the same organisation.
    """
    import datetime as dt

    from sixfold.channels import service as channels
    from sixfold.guardrails.models import EventSuggestion, SensitiveEvent
    from sixfold.notifications.models import Notification
    from sixfold.publishing import drafts, schedule

    stream = channels.create_channel(db, org, kind="internal", name="Stream", actor=ACTOR)
    post = drafts.create_draft(
        db, org, author, drafts.DraftInput(text="Hello", channel_ids=[stream.id]), actor=ACTOR
    )
    media = drafts.attach_media(db, post, author, filename="dot.png", content=PNG_1PX)
    publication = schedule.schedule_post(db, post, actor=ACTOR)[0]
    event = SensitiveEvent(
        organisation_id=org.id,
        name="Harbour fire",
        starts_on=dt.date(2026, 1, 1),
        keywords=["harbour fire"],
    )
    suggestion = EventSuggestion(organisation_id=org.id, guid="g-1", title="Storm", keywords=[])
    notification = Notification(
        organisation_id=org.id, person_id=author.id, kind="test", message="Hello"
    )
    db.add_all([event, suggestion, notification])
    db.flush()
    return {
        "channel_id": stream.id,
        "post_id": post.id,
        "media_id": media.id,
        "publication_id": publication.id,
        "event_id": event.id,
        "suggestion_id": suggestion.id,
        "notification_id": notification.id,
    }


# The smallest valid PNG: one transparent pixel.
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)
