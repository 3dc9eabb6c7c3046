"""The file connector: appends each post to a JSON Lines file, one line per post.

For dry runs (see what a campaign would send) and for the fault tests, which kill workers and
then count the lines. Like a network without idempotency keys it could post twice, so it
relies on publishing's reconciliation: `fetch_own_posts` reads the file back, and each line
carries the key so reconciliation can match exactly. A line is on disk before `publish`
returns, so the file is an authoritative record: a key missing from it was never posted.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
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


class FileConnector:
    kind: ClassVar[str] = "file"
    label: ClassVar[str] = "JSON Lines file (dry run)"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=5000)
    # Appending twice writes two lines: only reconciliation keeps it exactly once.
    idempotent: ClassVar[bool] = False
    # Appends are serialised by the file lock; a few writers at once only queue there.
    concurrency: ClassVar[Concurrency] = Concurrency(per_account=4, per_network=16)
    # What the file does not hold was never written (see channels.base.authoritative_record).
    authoritative_record: ClassVar[bool] = True

    def __init__(self, context: ConnectorContext) -> None:
        path = context.settings.get("path")
        if not path:
            raise PermanentError("The file channel has no 'path' setting.")
        self.path = Path(str(path))

    def verify(self) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return str(self.path)

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        if len(post.text) > self.limits.max_chars:
            raise PermanentError(f"The text is longer than {self.limits.max_chars} characters.")
        record = {"key": idempotency_key, "text": post.text, "at": utcnow().isoformat()}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as handle:
            # One write per line under an exclusive lock, synced before we say "posted":
            # several workers append to the same file.
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            offset = handle.tell()
        return self._remote(record, offset)

    def delete(self, remote_id: str) -> None:
        raise PermanentError("Lines cannot be deleted from a file channel.")

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        if not self.path.exists():
            return []
        posts, offset = [], 0
        with open(self.path, "rb") as handle:
            for raw in handle:
                offset += len(raw)
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue  # A line torn by a killed writer is not a post.
                post = self._remote(record, offset)
                if post.published_at >= since:
                    posts.append(post)
        return posts

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return [Metrics(remote_id=r, values={}) for r in remote_ids]

    def _remote(self, record: dict[str, str], offset: int) -> RemotePost:
        return RemotePost(
            remote_id=f"{record['key']}@{offset}",
            url=f"file://{self.path}",
            text=record["text"],
            published_at=datetime.fromisoformat(record["at"]),
            idempotency_key=record["key"],
        )
