"""Mentions and metrics: AppView calls that the real local PDS forwards to the fake AppView."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sixfold.channels.base import ConnectorContext, OutgoingPost, RateLimited, TransientError
from sixfold.channels.connectors import bluesky_records as records
from sixfold.channels.connectors.bluesky import BlueskyConnector
from sixfold.db import utcnow
from tests.bluesky.appview import payload
from tests.bluesky.pds import Account, LocalPds


@pytest.fixture
def account(bluesky_pds: LocalPds) -> Account:
    return bluesky_pds.create_account()


@pytest.fixture
def connector(bluesky_pds: LocalPds, account: Account) -> BlueskyConnector:
    context = ConnectorContext(
        channel_id=1,
        settings={"service": bluesky_pds.url, "did": account.did},
        credentials={"app_password": account.app_password},
    )
    return BlueskyConnector(context)


def test_mentions_come_from_the_appview_through_the_pds(
    bluesky_pds: LocalPds, connector: BlueskyConnector
) -> None:
    calls = len(bluesky_pds.appview.calls)
    mentions = connector.fetch_mentions(datetime(2024, 11, 27, tzinfo=UTC))
    assert [(m.author, m.text[:20]) for m in mentions] == [
        ("harbour-friends.bsky.social", "@trail-guide.test wi"),
        ("ana.example.com", "Que ótimo! Vou levar"),
    ]
    assert mentions[1].url.endswith(
        "repo=did:plc:wd4y4xktpgtdzq4ptv6dlmjp&collection=app.bsky.feed.post&rkey=3lbzr2ltpmk2y"
    )
    assert bluesky_pds.appview.calls[calls:] == ["app.bsky.notification.listNotifications"]
    # The PDS signed the forwarded call for the account (service auth).
    assert bluesky_pds.appview.authorizations[-1].startswith("Bearer ey")
    assert len(connector.fetch_mentions(datetime(2024, 11, 20, tzinfo=UTC))) == 3


def test_metrics_come_from_the_appview(
    bluesky_pds: LocalPds, account: Account, connector: BlueskyConnector
) -> None:
    remote = connector.publish(OutgoingPost(text="Counted."), "metrics-key")
    gone = f"at://{account.did}/app.bsky.feed.post/{records.record_key('never-posted')}"
    metrics = connector.fetch_metrics([remote.remote_id, gone])
    recorded = payload("get_posts.json")["posts"][0]
    assert [(m.remote_id, m.values) for m in metrics] == [
        (
            remote.remote_id,
            {
                "likes": recorded["likeCount"],
                "reposts": recorded["repostCount"],
                "replies": recorded["replyCount"],
                "quotes": recorded["quoteCount"],
            },
        )
    ]


def test_an_appview_failure_is_transient(
    bluesky_pds: LocalPds, account: Account, connector: BlueskyConnector
) -> None:
    bluesky_pds.appview.fail_next(502, "Bad Gateway")
    with pytest.raises(TransientError):
        connector.fetch_metrics([f"at://{account.did}/app.bsky.feed.post/3lbzr2ltpmk2y"])
    bluesky_pds.appview.fail_next(500, payload("upstream_failure.json"))
    with pytest.raises(TransientError):
        connector.fetch_mentions(utcnow())


def test_an_appview_rate_limit_is_rate_limited(
    bluesky_pds: LocalPds, account: Account, connector: BlueskyConnector
) -> None:
    bluesky_pds.appview.fail_next(429, payload("rate_limited.json"))
    with pytest.raises(RateLimited):
        connector.fetch_mentions(utcnow())
