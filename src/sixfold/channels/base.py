"""The contract between Sixfold and a network: the `Connector` protocol and what it exchanges.

A connector turns one approved post into one post on one account, and reads back what the
account shows. It never decides anything: review, scheduling, pauses and retries belong to
publishing. Errors are sorted by what publishing must do next:

- `PermanentError`: the network refused the post (too long, duplicate, banned word); retrying
  would fail the same way. The network's own message is shown to people.
- `TransientError`: the network did not take the post and said so (rate limit, 503 before
  accepting); retry later, after `retry_after` seconds when the network said how long.
- `AmbiguousError`: the call may or may not have posted (timeout, connection lost after
  sending). Publishing must reconcile against the account before anything else.
- `CredentialsError`: the account needs reconnecting; no post can go out until someone does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable


class ConnectorError(Exception):
    """Base of every error a connector raises; `str()` is the network's own message."""


class PermanentError(ConnectorError):
    pass


class TransientError(ConnectorError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AmbiguousError(ConnectorError):
    pass


class CredentialsError(ConnectorError):
    pass


class RateLimited(TransientError):
    """The network's rate limit: nothing more may be sent on this account (or, with
    `scope="network"`, through this app on any account) until `retry_after` seconds pass.
    Connectors read the wait from the response headers (Retry-After, x-rate-limit-reset,
    ratelimit-reset); publishing holds the other posts of the same scope meanwhile, and
    never those of other accounts."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, scope: str = "account"
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.scope = scope


@dataclass(frozen=True)
class MediaItem:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    alt_text: str = ""


@dataclass(frozen=True)
class OutgoingPost:
    """What goes out: the text for this channel, its media and what it answers."""

    text: str
    media: Sequence[MediaItem] = ()
    link: str | None = None
    reply_to: str | None = None
    author_name: str = ""


@dataclass(frozen=True)
class RemotePost:
    """A post as the network shows it on the account."""

    remote_id: str
    url: str
    text: str
    published_at: datetime
    # Networks that keep our idempotency key (the internal stream, Bluesky's record key)
    # report it, so reconciliation matches exactly; the others are matched by text.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Mention:
    remote_id: str
    author: str
    text: str
    url: str
    published_at: datetime


@dataclass(frozen=True)
class Metrics:
    remote_id: str
    values: dict[str, int]


@dataclass(frozen=True)
class ChannelLimits:
    """What the network accepts in one post; the composer counts against it. Where servers
    differ, one channel's limits come from `limits_of`."""

    max_chars: int
    max_media: int = 4
    alt_text_max_chars: int = 1500
    media_types: tuple[str, ...] = ("image/png", "image/jpeg", "image/gif", "image/webp")


@runtime_checkable
class Connector(Protocol):
    """One account on one network. Implementations register in the `sixfold.connectors`
    entry-point group under their `kind`; see channels/registry.py.

    `publish` must be safe to call again with the same `idempotency_key` after an
    AmbiguousError has been reconciled (the key is stable per publication); `idempotent`
    says whether the network itself guarantees a second call cannot post twice.

    Optionally:
    - `authoritative_record: ClassVar[bool] = True` (see `authoritative_record`);
    - `idempotency_window: ClassVar[timedelta | None]`: how long the network remembers a key
      (Mastodon: one hour); None, the default, means for as long as the post exists. Past
      it, a second call may post twice, so publishing no longer resends on the strength of
      the key alone (see `idempotency_window`);
    - `find_post(idempotency_key) -> RemotePost | None`: a direct look-up of our post by its
      key, where the network allows one (Bluesky: the record under the derived record key).
      Publishing reconciles with it instead of reading the account's posts, which may be
      many. None means no post carries the key; errors are raised as from fetch_own_posts;
    - per-channel limits, where each server sets its own: `limits_for(settings)`,
      `count_characters_for(text, settings)` and `reported_settings()` (see `limits_of`,
      `count_characters` and `reported_settings`).
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    limits: ClassVar[ChannelLimits]
    idempotent: ClassVar[bool]

    def verify(self) -> str:
        """Check the credentials; return the account's handle or raise CredentialsError."""
        ...

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost: ...

    def delete(self, remote_id: str) -> None: ...

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]: ...

    def fetch_mentions(self, since: datetime) -> list[Mention]: ...

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]: ...


# Renews a sign-in: the stored credentials in, the renewed values out (ConnectorContext.renew).
RefreshCredentials = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector is built from: its channel's settings, decrypted credentials and
    the services of the installation (for the internal stream: the database).

    `save_credentials` stores credentials the connector renewed (a refreshed OAuth token,
    a new Bluesky session) at once, in their own transaction, so a rotated refresh token is
    never lost with a rolled-back publish. Keys left out of the dict keep their stored
    value, and an empty refresh token never replaces a stored one.

    `renew(held, refresh)` renews a sign-in that other processes may be renewing at the same
    moment (the Verify button while a worker publishes, two workers). Networks that rotate
    refresh tokens (X, LinkedIn) take each one once, so two processes refreshing with the
    same token leave one refused, and the channel marked "reconnect needed" for nothing. It
    locks the channel's stored credentials; when they differ from `held` (the credentials
    the connector is using) another process has renewed them, or someone reconnected, and
    they are returned as stored. Otherwise it calls `refresh(stored)`, saves what that
    returns as `save_credentials` does before the lock is let go, and returns the stored
    credentials merged with it. What `refresh` raises is raised, and nothing is saved. None
    where the platform keeps no credentials (no secret key, tests): see channels/tokens.py.
    """

    channel_id: int
    settings: dict[str, Any]
    credentials: dict[str, Any]
    services: dict[str, Any] = field(default_factory=dict)
    save_credentials: Callable[[dict[str, Any]], None] | None = None
    renew: Callable[[dict[str, Any], RefreshCredentials], dict[str, Any]] | None = None


# Connecting a channel ----------------------------------------------------------------------
#
# A connector class says how a person connects an account on the "Connect a channel" page:
#
#   setup_fields: ClassVar[tuple[SetupField, ...]]   what the page asks for
#   connect_steps: ClassVar[tuple[str, ...]]         numbered steps shown above the form
#   auth_flow: ClassVar[str]                         "form" or "oauth2"
#   connect_summary: ClassVar[str]   optional: what connecting needs, in a few words, for the
#                                    network's card ("an app password", "sign in on your
#                                    server"); without it the card lists the setup fields
#
# "form" (app passwords, tokens pasted from a developer portal):
#   @classmethod connect(values: dict[str, str]) -> Connection
# "oauth2" (the person is sent to the network and comes back with a code):
#   @classmethod authorize(values, redirect_uri: str, state: str) -> Authorization
#   @classmethod complete(values, pending: dict, redirect_uri: str, code: str) -> Connection
#
# Both raise CredentialsError when the network refuses, and ConnectorError otherwise, with
# a message for people. Connectors without these (internal, null, file) are set up by the
# plain channel form.


@dataclass(frozen=True)
class SetupField:
    """One value the connect page asks for. `secret` values are sealed with the
    credentials and never shown again; the others become channel settings."""

    name: str
    label: str
    help: str = ""
    secret: bool = False
    input_type: str = "text"  # text, url or password
    required: bool = True
    placeholder: str = ""


@dataclass(frozen=True)
class Authorization:
    """Where to send the person, and what to keep (sealed) until they come back:
    a PKCE verifier, the client registered on a Mastodon server, ..."""

    url: str
    pending: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Connection:
    """What connecting produced: the account's handle, non-secret channel settings (server
    URL, account id) and the credentials to seal."""

    handle: str
    settings: dict[str, Any]
    credentials: dict[str, Any]


@dataclass(frozen=True)
class Concurrency:
    """How many publishes may be in flight at once: on one account, and through this
    installation on the whole network. Connectors may set `concurrency` as a ClassVar."""

    per_account: int = 1
    per_network: int = 4


def concurrency_of(connector: type[Connector] | Connector) -> Concurrency:
    value = getattr(connector, "concurrency", None)
    return value if isinstance(value, Concurrency) else Concurrency()


def count_characters(
    connector: type[Connector] | Connector,
    text: str,
    *,
    settings: Mapping[str, Any] | None = None,
) -> int:
    """The length of `text` as the network counts it against `limits.max_chars` (X counts
    every link as 23, Bluesky counts graphemes); connectors with their own rule define a
    `count_characters(text)` classmethod, the others count code points. Where the rule
    depends on the account's server (how much a link counts on this Mastodon server), the
    connector also defines `count_characters_for(text, settings)`, given the channel's
    settings."""
    for_channel = getattr(connector, "count_characters_for", None)
    if settings is not None and callable(for_channel):
        return int(for_channel(text, settings))
    counter = getattr(connector, "count_characters", None)
    return int(counter(text)) if callable(counter) else len(text)


def limits_of(
    connector: type[Connector] | Connector, settings: Mapping[str, Any] | None = None
) -> ChannelLimits:
    """One channel's limits. Networks whose servers set their own (a Mastodon server may
    take 5,000 characters) keep what the server reported in the channel's settings, and
    their connector reads it back with a `limits_for(settings)` classmethod; for the others,
    and for a channel whose settings hold no report, the connector's `limits` stand."""
    reader = getattr(connector, "limits_for", None)
    found = reader(settings) if settings is not None and callable(reader) else None
    return found if isinstance(found, ChannelLimits) else connector.limits


def reported_settings(connector: Connector) -> dict[str, Any]:
    """What the network reports now about the account's server, to keep with the channel's
    non-secret settings (a Mastodon server's limits). A connector may define
    `reported_settings()`: it is called at every Verify, and its connect flow returns the
    same in `Connection.settings`. Errors are raised as from `verify`."""
    reader = getattr(connector, "reported_settings", None)
    found = reader() if callable(reader) else None
    return dict(found) if isinstance(found, Mapping) else {}


def authoritative_record(connector: Connector) -> bool:
    """Whether the connector's `fetch_own_posts` proves a post absent, not merely unseen.

    A connector may say so (class attribute `authoritative_record = True`) when its record
    of the account is complete, carries our idempotency key on every post, and shows a post
    the moment `publish` has written it: then a post missing once the attempt that sent it
    is over (its worker dead, its lease expired) was never made, and sending it again cannot
    post twice. Networks whose timelines lag or drop our key must not claim it.
    """
    return bool(getattr(connector, "authoritative_record", False))


def idempotency_window(connector: Connector) -> timedelta | None:
    """How long the network honours an idempotency key; None for as long as the post lives."""
    window = getattr(connector, "idempotency_window", None)
    return window if isinstance(window, timedelta) else None


def find_published(
    posts: Sequence[RemotePost],
    *,
    idempotency_key: str,
    text: str,
    taken: Collection[str] = (),
    not_before: datetime | None = None,
    by_text: bool = True,
) -> RemotePost | None:
    """The post among the account's own that is ours: by key where the network keeps it,
    otherwise (`by_text`) by identical text (whitespace-normalised), the newest first.

    A text match is only a guess, so it skips what cannot be ours: posts in `taken` (the
    remote ids other publications already own: an earlier post with the same words) and
    posts published before `not_before` (before our first attempt, less clock skew). An
    empty text never matches. Connectors whose record carries our key on every post pass
    `by_text=False`: there a post with our words but not our key is someone else's.
    """
    keyed = [p for p in posts if p.idempotency_key == idempotency_key]
    if keyed:
        return keyed[0]
    wanted = " ".join(text.split())
    if not by_text or not wanted:
        return None
    same_text = [
        p
        for p in posts
        if p.idempotency_key is None
        and p.remote_id not in taken
        and (not_before is None or p.published_at >= not_before)
        and " ".join(p.text.split()) == wanted
    ]
    return max(same_text, key=lambda p: p.published_at) if same_text else None
