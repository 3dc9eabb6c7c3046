"""The Null connector: accepts every post and sends it nowhere.

For trying the workflow without a network, and as the simplest connector that passes the
conformance suite. It remembers posts only for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

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
from sixfold.db import utcnow

_posts: dict[tuple[int, str], RemotePost] = {}
_lock = threading.Lock()


class NullConnector:
    kind: ClassVar[str] = "null"
    label: ClassVar[str] = "Null (sends nothing)"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=5000)
    idempotent: ClassVar[bool] = True
    # Nothing is sent anywhere, so nothing needs holding back.
    concurrency: ClassVar[Concurrency] = Concurrency(per_account=8, per_network=32)

    def __init__(self, context: ConnectorContext) -> None:
        self.channel_id = context.channel_id

    def verify(self) -> str:
        return f"null-{self.channel_id}"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        if len(post.text) > self.limits.max_chars:
            raise PermanentError(f"The text is longer than {self.limits.max_chars} characters.")
        with _lock:
            key = (self.channel_id, idempotency_key)
            if key not in _posts:
                _posts[key] = RemotePost(
                    remote_id=f"null:{idempotency_key}",
                    url="",
                    text=post.text,
                    published_at=utcnow(),
                    idempotency_key=idempotency_key,
                )
            return _posts[key]

    def delete(self, remote_id: str) -> None:
        with _lock:
            for key, post in list(_posts.items()):
                if key[0] == self.channel_id and post.remote_id == remote_id:
                    del _posts[key]

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        with _lock:
            return [
                p
                for (c, _), p in _posts.items()
                if c == self.channel_id and p.published_at >= since
            ]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return [Metrics(remote_id=r, values={}) for r in remote_ids]
