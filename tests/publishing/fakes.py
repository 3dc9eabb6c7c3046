"""A scripted network for publisher tests: each publish call does what the test wrote down.

`ScriptedNetwork` is the account as the network keeps it; `ScriptedConnector` (kind
"scripted") reaches it like a network with idempotency keys (Mastodon, Bluesky),
`PlainScriptedConnector` (kind "scripted_plain") like one without (found again by text only),
and `RecordedScriptedConnector` (kind "scripted_recorded") like the file connector: no
idempotency, but an exact record of the account.
`install_scripted_connectors` registers them as if a package had declared them in the
`sixfold.connectors` entry points, next to the connectors that really are installed
(`install_connectors` does the same for any connector class a test defines).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

import pytest

from sixfold.channels import registry
from sixfold.channels.base import (
    AmbiguousError,
    ChannelLimits,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RemotePost,
    TransientError,
)


class Crash(BaseException):
    """Stands for SIGKILL: nothing in the worker catches it, nothing after it runs."""


Outcome = Callable[["ScriptedNetwork", OutgoingPost, str], RemotePost]


def accept() -> Outcome:
    return lambda network, post, key: network.record(post, key)


def refuse(message: str) -> Outcome:
    """The network turns the post down for good (PermanentError with its own words)."""

    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        raise PermanentError(message)

    return outcome


def busy(message: str = "503 Service Unavailable", retry_after: float | None = None) -> Outcome:
    """The network says it did not take the post and to come back later."""

    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        raise TransientError(message, retry_after=retry_after)

    return outcome


def limited(
    message: str = "429 Too Many Requests", *, retry_after: float | None, scope: str = "account"
) -> Outcome:
    """The network's rate limit: nothing more on this account (or the whole network) for now."""

    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        raise RateLimited(message, retry_after=retry_after, scope=scope)

    return outcome


def lost(*, posted: bool) -> Outcome:
    """No answer: the post may (`posted`) or may not have reached the account."""

    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        if posted:
            network.record(post, key)
        raise AmbiguousError("read timed out after 30 s")

    return outcome


def revoked(message: str = "401 The access token was revoked") -> Outcome:
    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        raise CredentialsError(message)

    return outcome


def crash(*, posted: bool) -> Outcome:
    """The worker dies during the call, after (`posted`) or before the network received it."""

    def outcome(network: ScriptedNetwork, post: OutgoingPost, key: str) -> RemotePost:
        if posted:
            network.record(post, key)
        raise Crash

    return outcome


@dataclass
class ScriptedNetwork:
    """One account on a network whose answers a test scripts, call by call."""

    clock: Callable[[], datetime]
    # Consumed one per publish call that reaches the script; an empty script accepts.
    outcomes: deque[Outcome] = field(default_factory=deque)
    posts: list[RemotePost] = field(default_factory=list)
    # The idempotency key of every publish call, in order: how many times we really sent.
    calls: list[str] = field(default_factory=list)
    # Runs whenever a connector is built, which the publisher does between claiming a row and
    # calling the network: the place to start a pause "meanwhile".
    on_connect: Callable[[], None] | None = None
    # Raised, one per call, by the next looks at the account (fetch_own_posts); then it answers.
    fetch_failures: deque[ConnectorError] = field(default_factory=deque)
    # How many times the account was looked at, failed looks included.
    fetches: int = 0
    # Publish calls by channel id, in order: which account the network was really called for.
    calls_by_channel: list[int] = field(default_factory=list)
    # Direct look-ups by key (find_post), for the connectors that have them.
    lookups: int = 0

    def script(self, *outcomes: Outcome) -> None:
        self.outcomes.extend(outcomes)

    def record(self, post: OutgoingPost, key: str) -> RemotePost:
        remote = RemotePost(
            remote_id=f"remote-{len(self.posts) + 1}",
            url=f"https://scripted.example/@us/{len(self.posts) + 1}",
            text=post.text,
            published_at=self.clock(),
            idempotency_key=key,
        )
        self.posts.append(remote)
        return remote

    def publish(self, post: OutgoingPost, key: str, *, idempotent: bool) -> RemotePost:
        self.calls.append(key)
        if idempotent:
            # Like Mastodon's Idempotency-Key: a key seen before answers with its post.
            for existing in self.posts:
                if existing.idempotency_key == key:
                    return existing
        outcome = self.outcomes.popleft() if self.outcomes else accept()
        return outcome(self, post, key)

    def posts_with_key(self, key: str) -> list[RemotePost]:
        return [p for p in self.posts if p.idempotency_key == key]


class ScriptedConnector:
    kind: ClassVar[str] = "scripted"
    label: ClassVar[str] = "Scripted network (tests)"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=500)
    idempotent: ClassVar[bool] = True
    # Set per test by install_scripted_connectors.
    network: ClassVar[ScriptedNetwork]

    def __init__(self, context: ConnectorContext) -> None:
        self.channel_id = context.channel_id
        if self.network.on_connect is not None:
            self.network.on_connect()

    def verify(self) -> str:
        return "@us@scripted.example"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        if len(post.text) > self.limits.max_chars:
            raise PermanentError(f"Text is longer than {self.limits.max_chars} characters.")
        self.network.calls_by_channel.append(self.channel_id)
        remote = self.network.publish(post, idempotency_key, idempotent=self.idempotent)
        return self._as_seen(remote)

    def delete(self, remote_id: str) -> None:
        self.network.posts = [p for p in self.network.posts if p.remote_id != remote_id]

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        self.network.fetches += 1
        if self.network.fetch_failures:
            raise self.network.fetch_failures.popleft()
        return [self._as_seen(p) for p in self.network.posts if p.published_at >= since]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return [Metrics(remote_id=r, values={"likes": 0}) for r in remote_ids]

    def _as_seen(self, post: RemotePost) -> RemotePost:
        return post


class PlainScriptedConnector(ScriptedConnector):
    """A network without idempotency keys (X, LinkedIn): a second call posts twice, and our
    own posts can be recognised by their text only."""

    kind: ClassVar[str] = "scripted_plain"
    label: ClassVar[str] = "Scripted network without keys (tests)"
    idempotent: ClassVar[bool] = False

    def _as_seen(self, post: RemotePost) -> RemotePost:
        return replace(post, idempotency_key=None)


class RecordedScriptedConnector(ScriptedConnector):
    """A network without idempotency whose record of the account is exact and current, like
    the file connector: what it does not show was never posted."""

    kind: ClassVar[str] = "scripted_recorded"
    label: ClassVar[str] = "Scripted network with an exact record (tests)"
    idempotent: ClassVar[bool] = False
    authoritative_record: ClassVar[bool] = True


class WindowedScriptedConnector(ScriptedConnector):
    """Like Mastodon: the network honours a key for an hour only, and shows our posts
    without it (found again by text)."""

    kind: ClassVar[str] = "scripted_windowed"
    label: ClassVar[str] = "Scripted network with an hour-long key (tests)"
    idempotency_window: ClassVar[timedelta | None] = timedelta(hours=1)

    def _as_seen(self, post: RemotePost) -> RemotePost:
        return replace(post, idempotency_key=None)


class LookupScriptedConnector(ScriptedConnector):
    """Like Bluesky: our post can be looked up directly by its key (find_post)."""

    kind: ClassVar[str] = "scripted_lookup"
    label: ClassVar[str] = "Scripted network with look-ups by key (tests)"
    authoritative_record: ClassVar[bool] = True

    def find_post(self, idempotency_key: str) -> RemotePost | None:
        self.network.lookups += 1
        if self.network.fetch_failures:
            raise self.network.fetch_failures.popleft()
        return next(iter(self.network.posts_with_key(idempotency_key)), None)


SCRIPTED_CONNECTORS: tuple[type[ScriptedConnector], ...] = (
    ScriptedConnector,
    PlainScriptedConnector,
    RecordedScriptedConnector,
    WindowedScriptedConnector,
    LookupScriptedConnector,
)


@contextmanager
def install_scripted_connectors(
    monkeypatch: pytest.MonkeyPatch, network: ScriptedNetwork
) -> Iterator[ScriptedNetwork]:
    """Make the registry see the scripted connectors beside the installed ones.

    The entry points themselves are extended, so the registry's own loading and checks run
    on the fakes; its cache is cleared on the way in and out so no other test sees them.
    """
    monkeypatch.setattr(ScriptedConnector, "network", network, raising=False)
    with install_connectors(monkeypatch, SCRIPTED_CONNECTORS):
        yield network


@contextmanager
def install_connectors(monkeypatch: pytest.MonkeyPatch, classes: Iterable[type]) -> Iterator[None]:
    """Make the registry see `classes` (module-level connector classes) beside the
    installed connectors, as entry points of their own."""
    installed = list(entry_points(group=registry.ENTRY_POINT_GROUP))
    fakes = [
        EntryPoint(
            name=cls.kind,  # type: ignore[attr-defined]
            value=f"{cls.__module__}:{cls.__name__}",
            group=registry.ENTRY_POINT_GROUP,
        )
        for cls in classes
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: [*installed, *fakes])
    registry.connector_types.cache_clear()
    try:
        yield
    finally:
        registry.connector_types.cache_clear()
