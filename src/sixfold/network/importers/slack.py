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
from sixfold.network.importers.records import (
    FieldError,
    Fields,
    Row,
    json_type,
    mentioned,
    parse_json,
)
from sixfold.network.importers.safezip import iter_members

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
    if not isinstance(users, list):
        if users is not None:
            log.add("users.json", f"is {json_type(users)}, not a list of users; ignored")
        return {}
    directory: dict[str, str] = {}
    for number, user in enumerate(users, start=1):
        where = f"users.json user {number}"
        if not isinstance(user, dict):
            log.add(where, f"is {json_type(user)}, not an object; skipped")
            continue
        fields = Fields(user, where, log)
        try:
            user_id = fields.required_text("id")
        except FieldError as error:
            log.add(where, f"user {error}; skipped")
            continue
        profile = fields.nested("profile")
        email = profile.text("email") if profile else None
        directory[user_id] = email.lower() if email else ""
    return directory


def _message_rows(
    message: Any, where: str, channel: str, directory: dict[str, str], log: ProblemLog
) -> list[Row]:
    if not isinstance(message, dict):
        log.add(where, f"is {json_type(message)}, not an object; skipped")
        return []
    fields = Fields(message, where, log)
    if fields.text("subtype") in {"channel_join", "channel_leave"}:
        return []
    try:
        author, when = fields.required_text("user"), fields.required_seconds("ts")
    except FieldError as error:
        log.add(where, f"message {error}; skipped")
        return []

    def who(user_id: str) -> str:
        return directory.get(user_id) or f"slack:{user_id}"

    rows: list[Row] = []
    parent, thread = fields.text("parent_user_id"), fields.text("thread_ts")
    if thread not in (None, message["ts"]) and parent is not None:
        rows.append((when, who(author), who(parent), "reply", 1.0, None))
    message_id = f"slack:{channel}:{message['ts']}"
    rows.extend(
        (when, who(author), who(target), "mention", 1.0, message_id)
        for target in mentioned(fields.text("text"), _MENTION)
    )
    for number, reaction in enumerate(fields.objects("reactions"), start=1):
        users = Fields(reaction, f"{where} reaction {number}", log).texts("users")
        rows.extend((when, who(user), who(author), "reaction", 1.0, None) for user in users)
    return rows
