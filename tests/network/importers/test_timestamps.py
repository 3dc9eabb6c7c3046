"""Timestamps outside 1970-2199 are reported and skipped, never fatal to the whole source."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.network.importers import (
    load_interactions_csv,
    load_mattermost_export,
    load_mbox,
    load_slack_export,
)
from tests.network.importers.helpers import mattermost_jsonl, messages, slack_zip, write

GOOD_SECONDS = 1767600000  # 2026-01-05


@pytest.mark.parametrize(
    "ts", ["1e300", "-1e300", "-5", "9e12", "nan", "inf", pytest.param(10**400, id="400 digits")]
)
def test_slack_out_of_range_ts_skips_only_that_message(tmp_path: Path, ts: object) -> None:
    path = slack_zip(
        tmp_path,
        [
            {"user": "U1", "ts": ts, "text": "<@U2>"},
            {"user": "U2", "ts": f"{GOOD_SECONDS}.0001", "text": "<@U1>"},
        ],
    )
    result = load_slack_export(path)
    assert result.frame["timestamp"].to_list() == [GOOD_SECONDS]
    assert result.problem_count == 1
    assert "message 1" in messages(result.problems)[0]
    assert "1970 to 2199" in messages(result.problems)[0]


@pytest.mark.parametrize(
    "create_at", [1e300, -1e300, -1000, pytest.param(10**400, id="400 digits"), "1e300"]
)
def test_mattermost_out_of_range_create_at_is_reported(tmp_path: Path, create_at: object) -> None:
    path = mattermost_jsonl(
        tmp_path,
        {"type": "post", "post": {"user": "bob", "message": "@ann", "create_at": create_at}},
        {
            "type": "post",
            "post": {"user": "ann", "message": "@bob", "create_at": GOOD_SECONDS * 1000},
        },
    )
    result = load_mattermost_export(path)
    assert result.frame.select("source", "timestamp").rows() == [("ann@x.org", GOOD_SECONDS)]
    assert result.problem_count == 1
    assert messages(result.problems)[0].startswith("mm.jsonl:3:")


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 1 Jan 2024 00:00:00 +99999999999999999999",  # overflowed the zone offset
        "Mon, 1 Jan 9000 00:00:00 +0000",
        "Thu, 1 Jan 1900 00:00:00 +0000",
    ],
)
def test_mbox_out_of_range_date_is_reported(tmp_path: Path, date: str) -> None:
    mbox = (
        f"From a\nFrom: a@x.org\nTo: b@x.org\nDate: {date}\n\n"
        "From b\nFrom: b@x.org\nTo: a@x.org\nDate: Mon, 05 Jan 2026 08:00:00 +0000\n\n"
    )
    result = load_mbox(write(tmp_path, "box.mbox", mbox))
    assert result.frame["source"].to_list() == ["b@x.org"]
    assert messages(result.problems) == [
        "box.mbox:1: message without a readable From or Date "
        "(dates must fall in the years 1970 to 2199); skipped"
    ]


@pytest.mark.parametrize("timestamp", ["1e300", "-1e300", "-1", "9e12", "2200-01-01"])
def test_interactions_csv_out_of_range_timestamp_is_reported(
    tmp_path: Path, timestamp: str
) -> None:
    text = f"timestamp,source,target\n{timestamp},a,b\n{GOOD_SECONDS},b,a\n"
    result = load_interactions_csv(write(tmp_path, "i.csv", text))
    assert result.frame["source"].to_list() == ["b"]
    assert messages(result.problems) == ["i.csv:2: timestamp is outside the years 1970 to 2199"]
