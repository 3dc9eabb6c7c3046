"""Small builders for hostile import files, written into a test's tmp_path."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

SLACK_USERS = [
    {"id": "U1", "profile": {"email": "ann@x.org"}},
    {"id": "U2", "profile": {"email": "bob@x.org"}},
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def slack_zip(tmp_path: Path, messages: Any, users: Any = None) -> Path:
    """A Slack export with one day file in #general holding `messages`."""
    path = tmp_path / "slack.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.json", json.dumps(SLACK_USERS if users is None else users))
        archive.writestr("general/2026-01-05.json", json.dumps(messages))
    return path


def mattermost_jsonl(tmp_path: Path, *records: Any) -> Path:
    """A Mattermost export with users ann and bob, then `records`, one JSON value a line."""
    users = [
        {"type": "user", "user": {"username": name, "email": f"{name}@x.org"}}
        for name in ("ann", "bob")
    ]
    lines = [json.dumps(record) for record in [*users, *records]]
    return write(tmp_path, "mm.jsonl", "\n".join(lines) + "\n")


def messages(problems: Any) -> list[str]:
    return [str(problem) for problem in problems]
