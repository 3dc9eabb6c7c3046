"""The connector conformance suite: what every connector must do, whoever wrote it.

Two registries, both plain dicts:

- `CONTEXT_FACTORIES`: how to build a working `ConnectorContext` for a connector kind in a
  test (the internal stream needs a database session, the file connector a folder, a network
  connector perhaps a local fake server). A connector installed through the
  `sixfold.connectors` entry points without a factory here FAILS the suite: register one with
  `@context_factory("kind")` beside the others (or from the connector's own test package).
- `CHECKS`: the behaviour every connector shows, each a function of a `Subject` (the kind, its
  class and a way to build fresh instances). They can be run against any connector factory,
  installed or not; tests/channels/test_conformance.py runs them against every installed one.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sixfold.channels.base import (
    ChannelLimits,
    Connector,
    ConnectorContext,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
    find_published,
)
from sixfold.channels.models import Channel
from sixfold.config import Settings
from sixfold.db import utcnow


@dataclass
class ConformanceEnv:
    """What a context factory may use. `resources` closes whatever a factory starts."""

    db: Session
    tmp_path: Path
    channel: Channel
    settings: Settings
    resources: ExitStack = field(default_factory=ExitStack)


ContextFactory = Callable[[ConformanceEnv], ConnectorContext]
CONTEXT_FACTORIES: dict[str, ContextFactory] = {}


def context_factory(kind: str) -> Callable[[ContextFactory], ContextFactory]:
    def register(factory: ContextFactory) -> ContextFactory:
        CONTEXT_FACTORIES[kind] = factory
        return factory

    return register


@context_factory("internal")
def internal_context(env: ConformanceEnv) -> ConnectorContext:
    return ConnectorContext(env.channel.id, {}, {}, services={"session": env.db})


@context_factory("null")
def null_context(env: ConformanceEnv) -> ConnectorContext:
    return ConnectorContext(env.channel.id, {}, {})


@context_factory("file")
def file_context(env: ConformanceEnv) -> ConnectorContext:
    return ConnectorContext(env.channel.id, {"path": str(env.tmp_path / "posts.jsonl")}, {})


@dataclass(frozen=True)
class Subject:
    """A connector under test: its registered kind, its class, and fresh instances of it."""

    kind: str
    cls: type[Connector]
    build: Callable[[], Connector]


Check = Callable[[Subject], None]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__.removeprefix("check_")] = function
    return function


def unique_text(prefix: str = "Conformance post") -> str:
    # Networks that match by text must never confuse this run's posts with earlier ones.
    return f"{prefix} {secrets.token_hex(6)}: the trail guide is out today."


def new_key() -> str:
    return f"conformance-{secrets.token_hex(8)}"


def a_while_ago() -> datetime:
    return utcnow() - timedelta(minutes=5)


def published_one(subject: Subject) -> tuple[Connector, RemotePost, str, str]:
    connector, text, key = subject.build(), unique_text(), new_key()
    return connector, connector.publish(OutgoingPost(text=text), key), text, key


@check
def check_declares_what_it_is(subject: Subject) -> None:
    cls = subject.cls
    assert cls.kind == subject.kind, f"kind {cls.kind!r} is registered as {subject.kind!r}"
    assert isinstance(cls.label, str)
    assert cls.label.strip(), "label must name the network for people"
    assert isinstance(cls.limits, ChannelLimits)
    assert cls.limits.max_chars > 0
    assert isinstance(cls.idempotent, bool)
    assert isinstance(subject.build(), Connector), "does not implement the Connector protocol"


@check
def check_verify_returns_a_handle(subject: Subject) -> None:
    handle = subject.build().verify()
    assert isinstance(handle, str)
    assert handle.strip()


@check
def check_publish_returns_the_remote_post(subject: Subject) -> None:
    _, remote, text, key = published_one(subject)
    assert isinstance(remote, RemotePost)
    assert isinstance(remote.remote_id, str)
    assert remote.remote_id
    assert remote.text == text
    assert remote.published_at.tzinfo is not None, "published_at must be timezone-aware"
    assert remote.idempotency_key in (None, key)


@check
def check_same_key_twice_posts_once_or_can_be_found(subject: Subject) -> None:
    connector, first, text, key = published_one(subject)
    if subject.cls.idempotent:
        second = connector.publish(OutgoingPost(text=text), key)
        own = connector.fetch_own_posts(a_while_ago())
        assert second.remote_id == first.remote_id, "an idempotent connector posted twice"
        assert [p.remote_id for p in own].count(first.remote_id) == 1
    else:
        # Publishing never sends a key twice without looking first; a network that refuses
        # the same text twice (X, LinkedIn) may refuse the second call outright.
        with contextlib.suppress(PermanentError):
            connector.publish(OutgoingPost(text=text), key)
        own = connector.fetch_own_posts(a_while_ago())
        # Reconciliation is what keeps a non-idempotent connector exactly-once: it must be
        # able to find what a key (or the text) posted.
        assert find_published(own, idempotency_key=key, text=text) is not None


@check
def check_own_posts_include_the_published_post(subject: Subject) -> None:
    connector, remote, text, key = published_one(subject)
    other = connector.publish(OutgoingPost(text=unique_text("Another post")), new_key())
    own = connector.fetch_own_posts(a_while_ago())
    assert all(isinstance(p, RemotePost) for p in own)
    assert remote.remote_id in {p.remote_id for p in own}
    found = find_published(own, idempotency_key=key, text=text)
    assert found is not None
    assert found.remote_id == remote.remote_id
    assert found.remote_id != other.remote_id


@check
def check_own_posts_respect_since(subject: Subject) -> None:
    connector, remote, _, _ = published_one(subject)
    later = connector.fetch_own_posts(utcnow() + timedelta(minutes=5))
    assert remote.remote_id not in {p.remote_id for p in later}


@check
def check_text_over_the_limit_is_refused_for_good(subject: Subject) -> None:
    connector, key = subject.build(), new_key()
    too_long = "x" * (subject.cls.limits.max_chars + 1)
    with pytest.raises(PermanentError) as refused:
        connector.publish(OutgoingPost(text=too_long), key)
    assert str(refused.value), "the error must carry a message for people"
    own = connector.fetch_own_posts(a_while_ago())
    assert find_published(own, idempotency_key=key, text=too_long) is None


@check
def check_find_post_looks_up_by_key(subject: Subject) -> None:
    # Only for connectors with the optional direct look-up (channels.base.Connector).
    if not callable(getattr(subject.cls, "find_post", None)):
        return
    connector, remote, text, key = published_one(subject)
    found = connector.find_post(key)  # type: ignore[attr-defined]
    assert isinstance(found, RemotePost)
    assert (found.remote_id, found.text) == (remote.remote_id, text)
    assert connector.find_post(new_key()) is None  # type: ignore[attr-defined]


@check
def check_mentions_and_metrics_have_the_right_types(subject: Subject) -> None:
    connector, remote, _, _ = published_one(subject)
    mentions = connector.fetch_mentions(a_while_ago())
    assert isinstance(mentions, list)
    assert all(isinstance(m, Mention) for m in mentions)
    metrics = connector.fetch_metrics([remote.remote_id])
    assert isinstance(metrics, list)
    assert all(isinstance(m, Metrics) for m in metrics)
    assert {m.remote_id for m in metrics} <= {remote.remote_id}
    assert all(isinstance(v, int) for m in metrics for v in m.values.values())


# Each network's context factory registers itself when imported (E402: after the registry).
from tests.channels import (  # noqa: E402
    bluesky_factory,  # noqa: F401
    linkedin_factory,  # noqa: F401
    mastodon_factory,  # noqa: F401
    x_factory,  # noqa: F401
)
