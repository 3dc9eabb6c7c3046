"""The demo organisation's publishing: a lively internal stream, posts waiting for review,
a scheduled week in the calendar and an active sensitive event the risk check knows about.

Everything goes through the same services people use (drafts, review, schedule), so the
demo shows real verdicts, real review states and real publication rows. Published posts are
back-dated directly, as a worker would have confirmed them days ago.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import service as channels
from sixfold.channels.models import Channel, StreamPost
from sixfold.config import Settings
from sixfold.guardrails.models import RiskSettings, SensitiveEvent
from sixfold.org.models import Organisation, Person
from sixfold.publishing import drafts, review
from sixfold.publishing.models import Post, PostStatus, PublishMode

SYSTEM = audit.SYSTEM
TIMEZONE = "Europe/Amsterdam"

PUBLISHED = [
    (
        "leader",
        9,
        "Thank you to everyone who joined Friday's open Q&A. 140 questions, and the "
        "three we could not answer live are now on the intranet with full answers.",
    ),
    (
        "curator",
        8,
        "New in the content library: ready-to-use photos of the autumn trail range, "
        "with alt text already written. Use them freely on our channels.",
    ),
    (
        "mentor",
        7,
        "Social media tip of the week: read your post aloud before you send it. If it "
        "sounds like a press release, rewrite it the way you would say it to a customer.",
    ),
    (
        "contributor",
        6,
        "Customer Care answered 2,300 messages last month with a median first "
        "reply of 41 minutes. Thanks to the weekend rota for carrying the Sunday peak.",
    ),
    (
        "leader",
        4,
        "Our sustainability report is out: 38% of this year's range uses recycled "
        "fabric. The full report: https://northwind.example/sustainability",
    ),
    (
        "mentor",
        3,
        "Mentoring circles start again next week. Four spots left in the "
        "'writing for LinkedIn' circle; sign up on the Learning page.",
    ),
    (
        "curator",
        2,
        "Store teams in Lisbon and Berlin shared their best window displays. "
        "Have a look and steal the good ideas!",
    ),
    (
        "contributor",
        1,
        "The repair café in Amsterdam fixed 61 jackets on Saturday. Next one is "
        "in Berlin on the 14th: bring your worn gear.",
    ),
]

IN_REVIEW = [
    "Our CEO will talk about the election results and what they mean for our stores at "
    "Monday's all-hands.",
    "Our winter boots are back in stock, with a new wide fit. Order by Friday for delivery "
    "before the holidays.",
    "Stay dry out there! Floods can't stop our 30% off rain jackets sale: use code DRYDAYS.",
    "Heads up: Project Aurora launches next month, keep it quiet until the embargo lifts.",
]

SCHEDULED = [
    (0, 15, "Trail tip: pack a headlamp even on day hikes; it gets dark by five now."),
    (
        1,
        9,
        "Meet Priya from our Lisbon store, who has walked every trail in Sintra. "
        "Her favourite is below.",
    ),
    (1, 17, "Our repair guide for zips is now a two-minute video. Save it for later."),
    (2, 12, "Thank you to the 312 people who filled in our product survey. Results soon."),
    (3, 10, "Weekend forecast: crisp and clear. Where are you heading? Tell us below."),
    (4, 9, "New colours for the Fjell fleece: moss, slate and rust."),
    (5, 11, "Saturday workshop in Stockholm: layering for winter, free, bring a friend."),
    (6, 18, "A quiet Sunday thought from our founder on why we repair before we replace."),
]


@dataclass(frozen=True)
class Cast:
    leader: Person
    mentor: Person
    curator: Person
    contributor: Person

    def by_role(self, role: str) -> Person:
        person: Person = getattr(self, role)
        return person


def seed_publishing(
    session: Session,
    organisation: Organisation,
    *,
    settings: Settings,
    now: dt.datetime | None = None,
) -> None:
    now = now or dt.datetime.now(dt.UTC)
    organisation.timezone = TIMEZONE
    cast = _cast(session, organisation)
    stream, social = _channels(session, organisation, settings)
    _guardrails(session, organisation, now)
    _published(session, organisation, cast, stream, now)
    _in_review(session, organisation, cast, stream, social)
    _scheduled_week(session, organisation, cast, stream, social, now)


def _cast(session: Session, organisation: Organisation) -> Cast:
    def person(local: str) -> Person:
        found = session.scalars(
            select(Person).where(
                Person.organisation_id == organisation.id,
                Person.email == f"{local}@northwind.example",
            )
        ).one()
        return found

    cast = Cast(person("leader"), person("mentor"), person("curator"), person("contributor"))
    # Leaders, mentors and curators are trusted to publish on their own; contributors are
    # reviewed until the literacy programme certifies them.
    for trusted in (cast.leader, cast.mentor, cast.curator):
        trusted.may_publish_without_review = True
    return cast


def _channels(
    session: Session, organisation: Organisation, settings: Settings
) -> tuple[Channel, Channel]:
    stream = channels.create_channel(
        session,
        organisation,
        kind="internal",
        name="Northwind stream",
        timezone=TIMEZONE,
        queue_slots=channels.parse_queue_slots("mon 09:00, wed 09:00, fri 16:00"),
        actor=SYSTEM,
    )
    social = channels.create_channel(
        session,
        organisation,
        kind="file",
        name="Brand account (dry run)",
        channel_settings={"path": str((settings.data_dir / "dry-run" / "brand.jsonl").resolve())},
        timezone=TIMEZONE,
        queue_slots=channels.parse_queue_slots("mon 09:30, tue 12:00, thu 12:00, sat 10:00"),
        requires_review=True,
        actor=SYSTEM,
    )
    return stream, social


def _guardrails(session: Session, organisation: Organisation, now: dt.datetime) -> None:
    session.add(
        RiskSettings(
            organisation_id=organisation.id,
            confidential_terms=["Project Aurora", "Fjell Pro 2"],
            allowed_domains=["northwind.example"],
            public_contacts=["press@northwind.example"],
            verdicts={},
            phone_region="NL",
            news_feed_url="",
        )
    )
    session.add(
        SensitiveEvent(
            organisation_id=organisation.id,
            name="Rhine valley floods",
            kind="disaster",
            starts_on=now.date() - dt.timedelta(days=3),
            ends_on=None,
            keywords=["flood", "floods", "flooding", "Rhine", "rain"],
            source_url="",
        )
    )
    session.flush()


def _draft(
    session: Session,
    organisation: Organisation,
    author: Person,
    text: str,
    channel_ids: list[int],
    *,
    mode: str = PublishMode.NOW,
    at: dt.datetime | None = None,
) -> Post:
    data = drafts.DraftInput(text=text, channel_ids=channel_ids, publish_mode=mode, publish_at=at)
    return drafts.create_draft(session, organisation, author, data, actor=_actor(author))


def _actor(person: Person) -> audit.Actor:
    return audit.Actor(id=person.id, label=person.email)


def _published(
    session: Session, organisation: Organisation, cast: Cast, stream: Channel, now: dt.datetime
) -> None:
    for role, days_ago, text in PUBLISHED:
        author = cast.by_role(role)
        post = _draft(session, organisation, author, text, [stream.id])
        review.submit(session, post, actor=_actor(author))
        if post.status == PostStatus.IN_REVIEW:
            review.approve(session, post, cast.mentor, actor=_actor(cast.mentor))
        when = now - dt.timedelta(days=days_ago, hours=days_ago % 5)
        _confirm_back_dated(session, post, stream, when)


def _confirm_back_dated(session: Session, post: Post, stream: Channel, when: dt.datetime) -> None:
    from sixfold.publishing.publisher import Publication

    for publication in session.scalars(select(Publication).where(Publication.post_id == post.id)):
        row = StreamPost(
            channel_id=stream.id,
            idempotency_key=publication.idempotency_key,
            text=publication.text,
            author_name=post.author.name,
            media=[],
            link=channels.first_link(publication.text),
            published_at=when,
        )
        session.add(row)
        session.flush()
        publication.transition_to("confirmed", now=when)
        publication.due_at = publication.created_at = when
        publication.sent_at = publication.confirmed_at = when
        publication.remote_id, publication.remote_url = str(row.id), f"/stream#post-{row.id}"
    post.status = PostStatus.PUBLISHED
    post.created_at = post.updated_at = post.submitted_at = when


def _in_review(
    session: Session,
    organisation: Organisation,
    cast: Cast,
    stream: Channel,
    social: Channel,
) -> None:
    for text in IN_REVIEW:
        post = _draft(session, organisation, cast.contributor, text, [stream.id, social.id])
        if drafts.is_blocked(post):
            # Left as a draft: the author sees why it is blocked and what to change.
            continue
        review.submit(session, post, actor=_actor(cast.contributor))


def _scheduled_week(
    session: Session,
    organisation: Organisation,
    cast: Cast,
    stream: Channel,
    social: Channel,
    now: dt.datetime,
) -> None:
    start = now.replace(minute=0, second=0, microsecond=0)
    for day, hour, text in SCHEDULED:
        at = (start + dt.timedelta(days=day)).replace(hour=hour)
        if at <= now:
            at += dt.timedelta(days=1)
        post = _draft(
            session, organisation, cast.curator, text, [stream.id, social.id], mode="at", at=at
        )
        review.submit(session, post, actor=_actor(cast.curator))
        if post.status == PostStatus.IN_REVIEW:
            review.approve(session, post, cast.mentor, actor=_actor(cast.mentor))
