"""Fixtures for tests that talk to the local PDS (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bluesky.pds import LocalPds, shared_pds, stop_shared_pds


@pytest.fixture(scope="session", autouse=True)
def _stop_local_pds_at_the_end() -> Iterator[None]:
    # The PDS starts lazily, also from the conformance suite's context factory, which is no
    # fixture; whoever started it, it stops when the run ends.
    yield
    stop_shared_pds()


@pytest.fixture(scope="session")
def bluesky_pds() -> LocalPds:
    return shared_pds()
