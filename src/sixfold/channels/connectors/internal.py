"""The internal stream: the organisation's own feed, a channel like any network.

Its "network" is the stream_posts table, written in the publishing worker's own transaction:
the post appears and its publication is confirmed in one commit, and the unique idempotency
key turns a second attempt into a look-up of the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold.channels.base import (
    ChannelLimits,
    Concurrency,
    ConnectorContext,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
)
from sixfold.channels.models import StreamPost
from sixfold.db import utcnow
from sixfold.inputs import parse_id


class InternalStreamConnector:
    kind: ClassVar[str] = "internal"
    label: ClassVar[str] = "Internal stream"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=10_000, max_media=10)
    idempotent: ClassVar[bool] = True
    # The "network" is our own database: no rate limit to respect beyond what it takes.
    concurrency: ClassVar[Concurrency] = Concurrency(per_account=8, per_network=32)

    def __init__(self, context: ConnectorContext) -> None:
        session = context.services.get("session")
        if not isinstance(session, Session):
            raise TypeError("the internal stream connector needs a database session")
        self.session = session
        self.channel_id = context.channel_id

    def verify(self) -> str:
        return "internal"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        existing = self._by_key(idempotency_key)
        if existing is not None:
            return self._remote(existing)
        if len(post.text) > self.limits.max_chars:
            raise PermanentError(f"The text is longer than {self.limits.max_chars} characters.")
        row = StreamPost(
            channel_id=self.channel_id,
            idempotency_key=idempotency_key,
            text=post.text,
            author_name=post.author_name,
            media=[{"filename": m.filename, "alt": m.alt_text} for m in post.media],
            link=post.link,
            published_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return self._remote(row)

    def delete(self, remote_id: str) -> None:
        row = self.session.get(StreamPost, int(remote_id))
        if row is not None and row.channel_id == self.channel_id:
            row.deleted_at = utcnow()

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        rows = self.session.scalars(
            select(StreamPost)
            .where(StreamPost.channel_id == self.channel_id, StreamPost.published_at >= since)
            .order_by(StreamPost.published_at)
        )
        return [self._remote(row) for row in rows if row.deleted_at is None]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        # Members read the stream inside Sixfold; it has no mentions of its own yet.
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        ids = [i for i in map(parse_id, remote_ids) if i is not None]
        found = set(
            self.session.scalars(
                select(StreamPost.id).where(
                    StreamPost.id.in_(ids), StreamPost.channel_id == self.channel_id
                )
            )
        )
        return [Metrics(remote_id=str(i), values={"posts": 1}) for i in ids if i in found]

    def count(self) -> int:
        total = self.session.scalar(
            select(func.count())
            .select_from(StreamPost)
            .where(StreamPost.channel_id == self.channel_id)
        )
        return int(total or 0)

    def _by_key(self, key: str) -> StreamPost | None:
        return self.session.scalar(select(StreamPost).where(StreamPost.idempotency_key == key))

    def _remote(self, row: StreamPost) -> RemotePost:
        return RemotePost(
            remote_id=str(row.id),
            url=f"/stream#post-{row.id}",
            text=row.text,
            published_at=row.published_at,
            idempotency_key=row.idempotency_key,
        )
