"""Two test-only connectors for the connect pages: one "form" network and one "oauth2" network.

They exist only while a test runs (`install_fakes` adds them to the registry's cached table
and monkeypatch takes them out again), so the real connectors, written at the same time,
are not needed. The OAuth one sends the person to an address on the test server itself; the
tests then play the network and call the callback directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import pytest

from sixfold.channels import registry
from sixfold.channels.base import (
    Authorization,
    ChannelLimits,
    Connection,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    Mention,
    Metrics,
    OutgoingPost,
    RemotePost,
    SetupField,
)
from sixfold.db import utcnow


class FakeNetwork:
    """What both fake networks share: the posts on their accounts, and what they were asked."""

    posts: ClassVar[dict[str, RemotePost]] = {}
    keys: ClassVar[list[str]] = []
    calls: ClassVar[list[tuple[str, Any]]] = []
    # The error the next publish or delete raises, when a test wants one.
    failure: ClassVar[ConnectorError | None] = None

    kind: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=300)
    idempotent: ClassVar[bool] = True

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    @classmethod
    def reset(cls) -> None:
        FakeNetwork.posts.clear()
        FakeNetwork.keys.clear()
        FakeNetwork.calls.clear()
        FakeNetwork.failure = None

    def verify(self) -> str:
        return str(self.context.settings.get("identifier", "someone"))

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        if FakeNetwork.failure is not None:
            raise FakeNetwork.failure
        remote_id = f"{self.kind}-post-{len(FakeNetwork.posts) + 1}"
        FakeNetwork.keys.append(idempotency_key)
        FakeNetwork.posts[remote_id] = RemotePost(
            remote_id=remote_id,
            url=f"https://{self.kind}.test/posts/{remote_id}",
            text=post.text,
            published_at=utcnow(),
            idempotency_key=idempotency_key,
        )
        return FakeNetwork.posts[remote_id]

    def delete(self, remote_id: str) -> None:
        if FakeNetwork.failure is not None:
            raise FakeNetwork.failure
        FakeNetwork.posts.pop(remote_id, None)

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        return [p for p in FakeNetwork.posts.values() if p.published_at >= since]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return []


class FakeFormConnector(FakeNetwork):
    """Like Bluesky: a server, a handle and an app password, checked on the spot."""

    kind: ClassVar[str] = "fakeform"
    label: ClassVar[str] = "Fakesky"
    auth_flow: ClassVar[str] = "form"
    connect_summary: ClassVar[str] = "an app password"
    connect_steps: ClassVar[tuple[str, ...]] = (
        "On Fakesky, open Settings › App passwords.",
        "Add an app password called Sixfold and copy it.",
        "Paste it below with your handle.",
    )
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField("server", "Server", input_type="url", placeholder="https://fakesky.test"),
        SetupField("identifier", "Handle", placeholder="you.fakesky.test"),
        SetupField("app_password", "App password", secret=True, input_type="password"),
    )

    @classmethod
    def connect(cls, values: dict[str, str]) -> Connection:
        FakeNetwork.calls.append(("connect", dict(values)))
        if values["app_password"] == "wrong-password":
            raise CredentialsError("Invalid identifier or password")
        if "down" in values["server"]:
            raise ConnectorError("fakesky.test did not answer")
        return Connection(
            handle=values["identifier"],
            settings={"did": f"did:plc:{values['identifier']}"},
            credentials={
                "app_password": values["app_password"],
                "access_jwt": "access-1",
                "refresh_jwt": "refresh-1",
            },
        )


class FakeOAuthConnector(FakeNetwork):
    """Like X or LinkedIn: the person signs in on the network and comes back with a code."""

    kind: ClassVar[str] = "fakeoauth"
    label: ClassVar[str] = "Fakedon"
    auth_flow: ClassVar[str] = "oauth2"
    connect_steps: ClassVar[tuple[str, ...]] = (
        "Register Sixfold as an app at https://fakedon.test/developers.",
        "Paste its client ID and secret below, then sign in on Fakedon.",
    )
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField("client_id", "Client ID"),
        SetupField("client_secret", "Client secret", secret=True, input_type="password"),
    )

    @classmethod
    def authorize(cls, values: dict[str, str], redirect_uri: str, state: str) -> Authorization:
        FakeNetwork.calls.append(("authorize", (dict(values), redirect_uri, state)))
        if values["client_id"] == "down":
            raise ConnectorError("fakedon.test did not answer")
        query = urlencode({"client_id": values["client_id"], "redirect_uri": redirect_uri})
        return Authorization(
            url=f"http://testserver/fake-network/authorize?{query}&state={state}",
            pending={"code_verifier": f"verifier-{state[:6]}"},
        )

    @classmethod
    def complete(
        cls, values: dict[str, str], pending: dict[str, Any], redirect_uri: str, code: str
    ) -> Connection:
        FakeNetwork.calls.append(("complete", (dict(values), dict(pending), redirect_uri, code)))
        if code == "refused":
            raise CredentialsError("invalid_grant: the code has expired")
        if code == "down":
            raise ConnectorError("fakedon.test answered 503")
        # "other-account": the person signed in to a different account than before.
        other = code == "other-account"
        return Connection(
            handle="@other@fakedon.test" if other else "@leader@fakedon.test",
            settings={"account_id": "43" if other else "42"},
            credentials={
                "access_token": f"access-{code}",
                # A network that did not rotate the refresh token sends none back.
                "refresh_token": "" if code == "no-refresh" else f"refresh-{code}",
                "client_secret": values["client_secret"],
            },
        )


def install_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make both fakes installed connectors for one test.

    `connector_types()` is cached per process and every caller gets the same dict, so adding
    to it (undone by monkeypatch) is seen everywhere, whichever module looked it up.
    """
    FakeNetwork.reset()
    types = registry.connector_types()
    monkeypatch.setitem(types, FakeFormConnector.kind, FakeFormConnector)
    monkeypatch.setitem(types, FakeOAuthConnector.kind, FakeOAuthConnector)
