"""Shared fixtures for the network analysis tests."""

from __future__ import annotations

from pathlib import Path

import pytest

EMAIL_EU = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "email-eu-core"


@pytest.fixture(scope="session")
def email_eu_dir() -> Path:
    """The real data set; its absence is a failure, never a silent skip."""
    if not (EMAIL_EU / "edges.txt").is_file():
        pytest.fail(f"email-eu-core data missing: expected {EMAIL_EU} (../shared from the repo)")
    return EMAIL_EU
