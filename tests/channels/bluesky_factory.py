"""The conformance suite's Bluesky: a fresh account on the real local PDS for every check."""

from __future__ import annotations

from sixfold.channels.base import ConnectorContext
from tests.bluesky.pds import shared_pds
from tests.channels.conformance import ConformanceEnv, context_factory


@context_factory("bluesky")
def bluesky_context(env: ConformanceEnv) -> ConnectorContext:
    pds = shared_pds()
    account = pds.create_account("conf")
    return ConnectorContext(
        env.channel.id,
        {"service": pds.url, "did": account.did},
        {"app_password": account.app_password},
    )
