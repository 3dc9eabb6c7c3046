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

Every call to the network (publish, and the look at the account that reconciles) first
checks the rate limits in force and takes a concurrency slot (channels/throttle.py). A row
that meets a limit or finds no free slot stays in its state and looks again later: waiting
is not failing, so it burns no attempts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from sixfold import audit
from sixfold.channels import service as channels
from sixfold.channels import throttle
from sixfold.channels.base import (
    AmbiguousError,
    Connector,
    ConnectorError,
    CredentialsError,
    PermanentError,
    RateLimited,
    RemotePost,
    TransientError,
)
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.channels.registry import connector_types
from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.jobs import Job, StateMachineMixin
from sixfold.org.models import Organisation
from sixfold.publishing import post_audit
from sixfold.publishing.models import Post, PostStatus
from sixfold.publishing.publication_states import IN_FLIGHT_STATES as IN_FLIGHT_STATES
from sixfold.publishing.publication_states import RECONNECT_WAIT as RECONNECT_WAIT
from sixfold.publishing.publication_states import SLOT_WAIT, TRANSIENT_DELAY
from sixfold.publishing.publication_states import TRANSIENT_ATTEMPTS as TRANSIENT_ATTEMPTS
from sixfold.publishing.publication_states import WAITING_STATES as WAITING_STATES
from sixfold.publishing.publication_states import PublicationState as PublicationState
from sixfold.publishing.publication_states import new_idempotency_key as new_idempotency_key
from sixfold.publishing.reconcile import RECONCILE_GRACE as RECONCILE_GRACE
from sixfold.publishing.reconcile import look_for, may_send_again

# A step that talks to the network, run by `_on_network` while it holds a concurrency slot.
NetworkStep = Callable[["Job", Connector], "str | None"]


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
        # A limit in force, or every slot taken, met here already leaves the row as it is:
        # pending, which a person may still cancel or reschedule.
        channel = job.session.get(Channel, self.channel_id)
        kind = connector_types().get(channel.kind) if channel is not None else None
        if kind is not None:
            if (limit := self._limit(job, kind.kind)) is not None:
                return self._wait_for(job, limit, kind.label)
            caps = throttle.caps_of(kind, channel_id=self.channel_id)
            if not throttle.has_room(job.session, caps, now=job.now):
                return self._wait_for_slot(job)
        job.enter("claimed")
        return self.handle_claimed(job)

    def handle_claimed(self, job: Job) -> str | None:
        if (problem := self._channel_problem(job)) is not None:
            return problem
        job.enter("submitted")
        return self._on_network(job, self._look_then_send)

    def handle_submitted(self, job: Job) -> str | None:
        # Reached straight from a claim (a retry, a wait, a dead worker's row): renew the
        # lease first, as `enter` does on the way from claimed, because the concurrency slot
        # taken for the network call lasts exactly as long as the lease.
        job.commit()
        return self._on_network(job, self._look_then_send)

    def handle_unconfirmed(self, job: Job) -> str | None:
        job.commit()  # Renew the lease, which the slot shares (see handle_submitted).
        channel = job.session.get(Channel, self.channel_id)
        if channel is not None and channel.status == ChannelStatus.RECONNECT_NEEDED:
            return self._await_reconnect(job, channel.status_message)
        return self._on_network(job, self._look_again)

    # Steps ------------------------------------------------------------------------------

    def _on_network(self, job: Job, step: NetworkStep) -> str | None:
        """Build the connector, wait out a rate limit or a full set of slots, then run
        `step` holding a concurrency slot. The slot is written with the handler's work and
        committed by the step's first commit, which comes before any call: `_reconcile`
        commits first, and sending commits `sent_at` first."""
        try:
            connector = self._connector(job)
        except CredentialsError as error:
            # Refused before any call (an expired token that cannot be refreshed).
            known = self.sent_at is None and job.state == "submitted"
            return self._credentials_refused(job, error, fate_known=known)
        if (limit := self._limit(job, connector.kind)) is not None:
            return self._wait_for(job, limit, connector.label)
        lease = self._take_slot(job, connector)
        if lease is None:
            return self._wait_for_slot(job)
        with throttle.held(job.session, lease):
            return step(job, connector)

    def _look_then_send(self, job: Job, connector: Connector) -> str | None:
        from sixfold.publishing.pause import active_pause

        first_sent = self.sent_at
        if first_sent is not None:
            # An earlier attempt may have reached the network: look before anything else.
            try:
                found = self._reconcile(job, connector)
            except ConnectorError as error:
                return self._could_not_look(job, connector, error)
            if found is not None:
                return self._confirm(job.session, found)
            if not may_send_again(connector, first_sent, job.now):
                return "unconfirmed"
        if (pause := active_pause(job.session, self.organisation_id, self.channel_id)) is not None:
            return self._hold(pause.reason)
        # Disabled, removed or refused since the claim (the row may have waited for hours).
        if (problem := self._channel_problem(job)) is not None:
            return problem
        # The first attempt's time is kept: the key's window and the look count from it.
        self.sent_at = first_sent or job.now
        job.commit()
        return self._send(job, connector, first_sent)

    def _send(self, job: Job, connector: Connector, first_sent: datetime | None) -> str | None:
        outgoing = channels.outgoing_post(job.session, self)
        try:
            remote = connector.publish(outgoing, self.idempotency_key)
        except AmbiguousError as error:
            self.error_message = f"No answer from the network: {error}"
            return "unconfirmed"
        except TransientError as error:
            # This call was not taken: the next attempt looks first only if an earlier one
            # may have reached the network. Waiting for a rate limit burns no attempt.
            self.sent_at = first_sent
            if isinstance(error, RateLimited):
                return self._rate_limited(job, connector, error)
            return self._back_off(job, error)
        except CredentialsError as error:
            return self._credentials_refused(job, error, fate_known=True)
        except PermanentError as error:
            self.error_message = str(error)
            self._notify_failure(job.session)
            return "failed"
        return self._confirm(job.session, remote)

    def _look_again(self, job: Job, connector: Connector) -> str | None:
        try:
            found = self._reconcile(job, connector)
        except ConnectorError as error:
            return self._could_not_look(job, connector, error)
        if found is not None:
            return self._confirm(job.session, found)
        return self._absent(job, connector)

    def _absent(self, job: Job, connector: Connector, *, unreadable: str = "") -> str | None:
        """Not found on the account (or, `unreadable`, the account cannot be read)."""
        # The grace runs from the last unanswered call: the row became unconfirmed then.
        if job.now - self.state_changed_at < RECONCILE_GRACE:
            job.check_again_at(job.now + timedelta(seconds=20))
            return None
        if not unreadable and may_send_again(connector, self.sent_at, job.now):
            # Absent after the grace period, and the network refuses duplicate keys (or its
            # record proves the post absent): a new attempt is informed, not blind. It
            # looks once more first, as `sent_at` (the first attempt) stays set.
            return "submitted"
        minutes = int(RECONCILE_GRACE.total_seconds() // 60)
        return self._fate_unknown(
            job,
            f"Sixfold could not read the account: {unreadable}."
            if unreadable
            else "The network did not answer and the post has not appeared on the account "
            f"within {minutes} minutes.",
        )

    def _could_not_look(self, job: Job, connector: Connector, error: ConnectorError) -> str | None:
        """The look at the account failed, so the post's fate stays unknown: never send."""
        if isinstance(error, RateLimited):
            return self._rate_limited(job, connector, error)
        if isinstance(error, CredentialsError):
            return self._credentials_refused(job, error, fate_known=False)
        self.error_message = f"Could not look for the post on the account: {error}"
        if isinstance(error, PermanentError):
            return (
                "unconfirmed"
                if job.state == "submitted"
                else self._absent(job, connector, unreadable=str(error))
            )
        # Transient or unanswered: the look itself failed; look again later.
        if self._try_again_later(job, error):
            return None
        if job.state == "submitted":
            return "unconfirmed"  # A fresh round of looks, with the grace period.
        return self._fate_unknown(job, f"Sixfold could not read the account: {error}.")

    def _fate_unknown(self, job: Job, reason: str) -> str:
        self.error_message = (
            f"{reason} Check the account before retrying, so it is not posted twice."
        )
        self._notify_failure(job.session)
        return "failed"

    def _credentials_refused(
        self, job: Job, error: CredentialsError, *, fate_known: bool
    ) -> str | None:
        channels.mark_reconnect_needed(job.session, self.channel_id, str(error))
        if not fate_known:
            return self._await_reconnect(job, str(error))
        self.error_message = f"The channel needs reconnecting: {error}"
        self._notify_failure(job.session)
        return "failed"

    def _await_reconnect(self, job: Job, message: str) -> str | None:
        """Credentials refused while the post's fate is unknown. It waits in `unconfirmed`,
        not `failed`: a retry of a failed row sends again at once, whereas an unconfirmed
        row looks at the account first once the channel is reconnected."""
        self.error_message = (
            f"The channel needs reconnecting: {message.rstrip('.')}. The post may already be "
            "on the account: once the channel is reconnected, Sixfold looks for it there "
            "before sending anything."
        )
        if job.state == "submitted":
            return "unconfirmed"
        job.check_again_at(job.now + RECONNECT_WAIT)
        return None

    def _back_off(self, job: Job, error: TransientError) -> str | None:
        self.error_message = str(error)
        if self._try_again_later(job, error):
            return None
        self._notify_failure(job.session)
        return "failed"

    def _try_again_later(self, job: Job, error: ConnectorError) -> bool:
        """Count a failed attempt and schedule the next; False when attempts ran out."""
        self.attempts += 1
        if self.attempts >= TRANSIENT_ATTEMPTS:
            return False
        asked = error.retry_after if isinstance(error, TransientError) else None
        delay = asked or TRANSIENT_DELAY.delay_seconds(self.attempts, _jitter)
        job.check_again_at(job.now + timedelta(seconds=delay))
        return True

    # Rate limits and concurrency --------------------------------------------------------

    def _limit(self, job: Job, kind: str) -> throttle.Limit | None:
        return throttle.active_limit(
            job.session, channel_id=self.channel_id, kind=kind, now=job.now
        )

    def _rate_limited(self, job: Job, connector: Connector, error: RateLimited) -> str | None:
        limit = throttle.record_limit(
            job.session, channel_id=self.channel_id, kind=connector.kind, error=error, now=job.now
        )
        return self._wait_for(job, limit, connector.label)

    def _wait_for(self, job: Job, limit: throttle.Limit, label: str) -> str | None:
        """Wait, in the state the row is in, until the limit is over; people see why."""
        organisation = job.session.get(Organisation, self.organisation_id)
        self.error_message = throttle.describe(
            limit,
            label=label,
            zone=organisation.timezone if organisation else "UTC",
            now=job.now,
            then="it will go out then" if self.sent_at is None else "Sixfold looks for it then",
        )
        job.check_again_at(limit.until)
        return None

    def _take_slot(self, job: Job, connector: Connector) -> throttle.SlotLease | None:
        """Slots on the account and the network. They expire with the row's lease, just
        renewed: a worker killed during the call frees them when its rows become another
        worker's."""
        lease_end = job.session.scalar(
            select(Publication.locked_until).where(Publication.id == self.id)
        )
        return throttle.acquire_for(
            job.session,
            connector,
            channel_id=self.channel_id,
            worker_id=job.worker_id,
            now=job.now,
            expires_at=lease_end or job.now,
        )

    def _wait_for_slot(self, job: Job) -> str | None:
        job.check_again_at(job.now + timedelta(seconds=SLOT_WAIT.delay_seconds(1, _jitter)))
        return None

    # Bookkeeping ------------------------------------------------------------------------

    def _connector(self, job: Job) -> Connector:
        return channels.connector_for(
            job.session, self.channel_id, settings=job.services.get("settings")
        )

    def _reconcile(self, job: Job, connector: Connector) -> RemotePost | None:
        job.commit()  # The slot counts for every worker, and the lease is renewed, first.
        return look_for(job.session, self, connector)

    def _channel_problem(self, job: Job) -> str | None:
        """Fail the row ("failed", notified) when its channel cannot publish now."""
        problem = channels.publishing_problem(job.session.get(Channel, self.channel_id))
        if problem is None:
            return None
        self.error_message = problem
        self._notify_failure(job.session)
        return "failed"

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


def _all_confirmed(session: Session, post_id: int) -> bool:
    open_rows = session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.post_id == post_id, Publication.state.not_in(["confirmed", "cancelled"]))
    )
    return open_rows == 0


# Jitter for transient back-off; sharing one generator only spreads retries further.
_jitter = random.Random()
