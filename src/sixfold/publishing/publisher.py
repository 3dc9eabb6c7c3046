"""Publications: one row per (post, channel), moved to the network exactly once.

    pending ──► claimed ──► submitted ──► confirmed
       │           │            │  ╲
       ▼           ▼            ▼   ╲──► unconfirmed ──► confirmed / submitted / failed
      held        held        failed, held

- `pending` waits for its due time; the crisis pause is checked when it is claimed.
- `claimed` checks the channel can publish at all.
- `submitted` is committed BEFORE the network call, and the pause is checked again right
  before it. `sent_at` is committed too: a worker that finds it set does not know whether
  the earlier call reached the network, so it reconciles against the account first.
- `unconfirmed`: the network did not answer. Reconcile against the account's own posts
  until the post shows up or a grace period proves it absent; never blind-retry.
- `held`: a pause stopped it; a leader publishes, reschedules or cancels it on resume.
- `failed`: the network refused it (its message is kept) or attempts ran out; a person may
  retry it.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from sixfold import audit
from sixfold.channels import service as channels
from sixfold.channels.base import (
    AmbiguousError,
    Connector,
    CredentialsError,
    PermanentError,
    RemotePost,
    TransientError,
    authoritative_record,
    find_published,
)
from sixfold.channels.models import Channel
from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.jobs import Job, Retry, State, StateGraph, StateMachineMixin
from sixfold.publishing import post_audit
from sixfold.publishing.models import Post, PostStatus

# How long after an unanswered call the post may take to appear on the account before
# its absence counts as proven.
RECONCILE_GRACE = timedelta(minutes=2)
# How far before the first attempt to look on the account (clocks differ).
RECONCILE_LOOKBACK = timedelta(minutes=10)
TRANSIENT_ATTEMPTS = 8
TRANSIENT_DELAY = Retry(base_seconds=15, factor=2, max_seconds=900, jitter=0.2)


class PublicationState(StateGraph, initial="pending"):
    pending = State(
        to=["claimed", "held"], poll_seconds=5, retry=Retry(base_seconds=5), on_exhausted="failed"
    )
    claimed = State(
        to=["submitted", "held", "failed"], retry=Retry(base_seconds=5), on_exhausted="failed"
    )
    submitted = State(
        to=["confirmed", "unconfirmed", "held", "failed"],
        poll_seconds=15,
        retry=Retry(base_seconds=10, max_seconds=600, max_attempts=6),
        on_exhausted="unconfirmed",
    )
    unconfirmed = State(
        to=["confirmed", "submitted", "failed"],
        poll_seconds=20,
        retry=Retry(base_seconds=30, max_seconds=900, max_attempts=10),
        on_exhausted="failed",
    )
    confirmed = State(terminal=True)
    held = State(external=True)
    failed = State(external=True)
    cancelled = State(terminal=True)


# States a person may still change: cancel, reschedule, publish now.
WAITING_STATES = frozenset({"pending", "held", "failed"})
IN_FLIGHT_STATES = frozenset({"claimed", "submitted", "unconfirmed"})


def new_idempotency_key() -> str:
    return f"sfx-{secrets.token_hex(12)}"


class Publication(StateMachineMixin, Base):
    __tablename__ = "publications"
    state_graph = PublicationState

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    # Stable for the life of the row: every attempt sends the same key.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # What goes out, frozen when the post was scheduled (the approved text).
    text: Mapped[str] = mapped_column(Text)
    post_version: Mapped[int] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_id: Mapped[str | None] = mapped_column(String(500))
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    # The network's own words when it refused, or why the row is held or failed.
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship()
    channel: Mapped[Channel] = relationship()

    # Handlers ---------------------------------------------------------------------------

    def handle_pending(self, job: Job) -> str | None:
        from sixfold.publishing.pause import active_pause

        if (pause := active_pause(job.session, self.organisation_id, self.channel_id)) is not None:
            return self._hold(pause.reason)
        job.enter("claimed")
        return self.handle_claimed(job)

    def handle_claimed(self, job: Job) -> str | None:
        channel = job.session.get(Channel, self.channel_id)
        problem = channels.publishing_problem(channel)
        if problem is not None:
            self.error_message = problem
            self._notify_failure(job.session)
            return "failed"
        job.enter("submitted")
        return self.handle_submitted(job)

    def handle_submitted(self, job: Job) -> str | None:
        from sixfold.publishing.pause import active_pause

        connector = self._connector(job)
        if self.sent_at is not None:
            # An earlier attempt may have reached the network: look before anything else.
            found = self._reconcile(connector)
            if found is not None:
                return self._confirm(job.session, found)
            if not _may_send_again(connector):
                return "unconfirmed"
        if (pause := active_pause(job.session, self.organisation_id, self.channel_id)) is not None:
            return self._hold(pause.reason)
        self.sent_at = job.now
        job.commit()
        return self._send(job, connector)

    def handle_unconfirmed(self, job: Job) -> str | None:
        connector = self._connector(job)
        found = self._reconcile(connector)
        if found is not None:
            return self._confirm(job.session, found)
        sent = self.sent_at or self.state_changed_at
        if job.now - sent < RECONCILE_GRACE:
            job.check_again_at(job.now + timedelta(seconds=20))
            return None
        if _may_send_again(connector):
            # Absent after the grace period, and the network refuses duplicate keys (or its
            # record proves the post absent): a new attempt is informed, not blind.
            self.sent_at = None
            return "submitted"
        self.error_message = (
            "The network did not answer and the post has not appeared on the account "
            f"within {int(RECONCILE_GRACE.total_seconds() // 60)} minutes. Check the account "
            "before retrying, so it is not posted twice."
        )
        self._notify_failure(job.session)
        return "failed"

    # Steps ------------------------------------------------------------------------------

    def _send(self, job: Job, connector: Connector) -> str | None:
        outgoing = channels.outgoing_post(job.session, self)
        try:
            remote = connector.publish(outgoing, self.idempotency_key)
        except AmbiguousError as error:
            self.error_message = f"No answer from the network: {error}"
            return "unconfirmed"
        except TransientError as error:
            return self._back_off(job, error)
        except CredentialsError as error:
            channels.mark_reconnect_needed(job.session, self.channel_id, str(error))
            self.error_message = f"The channel needs reconnecting: {error}"
            self._notify_failure(job.session)
            return "failed"
        except PermanentError as error:
            self.error_message = str(error)
            self._notify_failure(job.session)
            return "failed"
        return self._confirm(job.session, remote)

    def _back_off(self, job: Job, error: TransientError) -> str | None:
        # The network said it did not take the post: the next attempt needs no reconcile.
        self.sent_at = None
        self.error_message = str(error)
        self.attempts += 1
        if self.attempts >= TRANSIENT_ATTEMPTS:
            self._notify_failure(job.session)
            return "failed"
        delay = error.retry_after or TRANSIENT_DELAY.delay_seconds(self.attempts, _jitter)
        job.check_again_at(job.now + timedelta(seconds=delay))
        return None

    def _connector(self, job: Job) -> Connector:
        return channels.connector_for(
            job.session, self.channel_id, settings=job.services.get("settings")
        )

    def _reconcile(self, connector: Connector) -> RemotePost | None:
        since = (self.sent_at or self.due_at) - RECONCILE_LOOKBACK
        own = connector.fetch_own_posts(since)
        return find_published(own, idempotency_key=self.idempotency_key, text=self.text)

    def _confirm(self, session: Session, remote: RemotePost) -> str:
        self.remote_id, self.remote_url = remote.remote_id, remote.url
        self.confirmed_at = utcnow()
        self.error_message = None
        self.state = "confirmed"
        # Flushing first takes the write lock (SQLite) and makes this row count as confirmed
        # below, so the last of several channels to confirm marks the post published.
        session.flush()
        post = session.get(Post, self.post_id, with_for_update=True)
        if post is not None and _all_confirmed(session, self.post_id):
            post.status = PostStatus.PUBLISHED
        post_audit.record(
            session,
            audit.SYSTEM,
            "post.published",
            post_id=self.post_id,
            text=self.text,
            channel_id=self.channel_id,
            remote_id=remote.remote_id,
            url=remote.url,
            publication_id=self.id,
        )
        return "confirmed"

    def _hold(self, reason: str) -> str:
        self.error_message = f"Held by the publishing pause: {reason}"
        return "held"

    def _notify_failure(self, session: Session) -> None:
        from sixfold.publishing.notify import publication_failed

        publication_failed(session, self)


def _may_send_again(connector: Connector) -> bool:
    """Whether a post not found on the account may be sent again without posting twice."""
    return connector.idempotent or authoritative_record(connector)


def _all_confirmed(session: Session, post_id: int) -> bool:
    open_rows = session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.post_id == post_id, Publication.state.not_in(["confirmed", "cancelled"]))
    )
    return open_rows == 0


# Jitter for transient back-off; sharing one generator only spreads retries further.
_jitter = random.Random()
