"""Slack export ZIP importer: thread replies, @-mentions and reactions between people.

A plain channel message is not an interaction between two people (it is addressed to the
channel), so it produces no tie. Slack user ids are translated to e-mail addresses from
`users.json` so that they join the org chart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sixfold.network.importers.base import ImportLimits, InteractionImport, ProblemLog
from sixfold.network.importers.records import Row, as_seconds, mentioned, parse_json
from sixfold.network.importers.safezip import iter_members
from sixfold.network.importers.timestamps import SUPPORTED_YEARS

_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,40})(?:\|[^>]{0,200})?>")


def load_slack_export(path: Path, limits: ImportLimits | None = None) -> InteractionImport:
    limits = limits or ImportLimits()
    log = ProblemLog(path.name)
    # Two passes, so only one member is in memory at a time: users first, then the channels'
    # day files (channels.json and integration_logs.json hold no messages).
    users = b"".join(
        content for _, content in iter_members(path, limits, ProblemLog(path.name), _is_users)
    )
    directory = _user_directory(users or b"[]", log)
    rows: list[Row] = []
    for name, content in iter_members(path, limits, log, _is_day_file):
        messages = parse_json(content, name, log)
        if not isinstance(messages, list):
            if messages is not None:
                log.add(name, "expected a list of messages; skipped")
            continue
        channel = name.split("/", 1)[0]
        for number, message in enumerate(messages, start=1):
            rows.extend(_message_rows(message, f"{name} message {number}", channel, directory, log))
    return InteractionImport.from_rows(rows, log)


def _is_users(name: str) -> bool:
    return name == "users.json"


def _is_day_file(name: str) -> bool:
    return "/" in name and name.endswith(".json")


def _user_directory(content: bytes, log: ProblemLog) -> dict[str, str]:
    users = parse_json(content, "users.json", log)
    directory: dict[str, str] = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            profile = user.get("profile")
            email = profile.get("email") if isinstance(profile, dict) else None
            directory[user["id"]] = email.lower() if isinstance(email, str) else ""
    return directory


def _message_rows(
    message: Any, where: str, channel: str, directory: dict[str, str], log: ProblemLog
) -> list[Row]:
    if not isinstance(message, dict) or message.get("subtype") in {"channel_join", "channel_leave"}:
        return []
    author, when = message.get("user"), as_seconds(message.get("ts"))
    if not isinstance(author, str) or when is None:
        log.add(where, f"message without user or a ts in the years {SUPPORTED_YEARS}; skipped")
        return []

    def who(user_id: str) -> str:
        return directory.get(user_id) or f"slack:{user_id}"

    rows: list[Row] = []
    parent = message.get("parent_user_id")
    if message.get("thread_ts") not in (None, message.get("ts")) and isinstance(parent, str):
        rows.append((when, who(author), who(parent), "reply", 1.0, None))
    message_id = f"slack:{channel}:{message.get('ts')}"
    rows.extend(
        (when, who(author), who(target), "mention", 1.0, message_id)
        for target in mentioned(message.get("text"), _MENTION)
    )
    for reaction in message.get("reactions") or []:
        users = reaction.get("users") if isinstance(reaction, dict) else None
        rows.extend(
            (when, who(user), who(author), "reaction", 1.0, None)
            for user in users or []
            if isinstance(user, str)
        )
    return rows
