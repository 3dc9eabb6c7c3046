"""Mattermost bulk export (JSON Lines) importer: replies, reactions, @-mentions, direct posts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sixfold.network.importers.base import (
    ImportLimits,
    InteractionImport,
    ProblemLog,
    check_size,
)
from sixfold.network.importers.lines import bounded_lines
from sixfold.network.importers.records import Row, as_seconds, mentioned, parse_json
from sixfold.network.importers.timestamps import SUPPORTED_YEARS

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,63})", re.IGNORECASE)


def load_mattermost_export(path: Path, limits: ImportLimits | None = None) -> InteractionImport:
    limits = limits or ImportLimits()
    check_size(path, limits)
    log = ProblemLog(path.name)
    emails: dict[str, str] = {}
    posts: list[tuple[str, dict[str, Any]]] = []
    with path.open("rb") as handle:
        for number, line in bounded_lines(handle, limits.max_line_bytes):
            where = f"{path.name}:{number}"
            if line is None:
                log.add(where, f"line longer than {limits.max_line_bytes} bytes; skipped")
                continue
            if not line.strip():
                continue
            record = parse_json(line, where, log)
            _collect(record, where, emails, posts, log)
    rows = [row for where, post in posts for row in _post_rows(post, where, emails, log)]
    return InteractionImport.from_rows(rows, log)


def _collect(
    record: Any,
    where: str,
    emails: dict[str, str],
    posts: list[tuple[str, dict[str, Any]]],
    log: ProblemLog,
) -> None:
    if record is None:
        return
    kind = record.get("type") if isinstance(record, dict) else None
    body = record.get(kind) if isinstance(kind, str) else None
    if kind == "user" and isinstance(body, dict) and isinstance(body.get("username"), str):
        email = body.get("email")
        emails[body["username"].lower()] = email.lower() if isinstance(email, str) else ""
    elif kind in {"post", "direct_post"} and isinstance(body, dict):
        # Message text is dropped here; only its mentions survive, as names.
        posts.append((where, _strip_text(body, direct=kind == "direct_post")))
    elif not isinstance(kind, str):
        log.add(where, "record without a type; skipped")


def _strip_text(post: dict[str, Any], *, direct: bool) -> dict[str, Any]:
    kept = {
        key: post.get(key)
        for key in ("user", "create_at", "replies", "reactions", "channel_members")
    }
    kept["mentions"] = mentioned(post.get("message"), _MENTION)
    kept["direct"] = direct
    kept["replies"] = [
        {
            "user": reply.get("user"),
            "create_at": reply.get("create_at"),
            "mentions": mentioned(reply.get("message"), _MENTION),
        }
        for reply in post.get("replies") or []
        if isinstance(reply, dict)
    ]
    return kept


def _post_rows(
    post: dict[str, Any], where: str, emails: dict[str, str], log: ProblemLog
) -> list[Row]:
    author, when = post.get("user"), as_seconds(post.get("create_at"), milliseconds=True)
    if not isinstance(author, str) or when is None:
        log.add(where, f"post without user or a create_at in the years {SUPPORTED_YEARS}; skipped")
        return []

    def who(name: str) -> str:
        return emails.get(name.lower()) or f"mattermost:{name.lower()}"

    message_id = f"mattermost:{where}"
    rows: list[Row] = [
        (when, who(author), who(name), "mention", 1.0, message_id) for name in post["mentions"]
    ]
    if post["direct"]:
        rows.extend(
            (when, who(author), who(member), "message", 1.0, message_id)
            for member in post.get("channel_members") or []
            if isinstance(member, str) and member != author
        )
    for reply in post["replies"]:
        replied_at = as_seconds(reply.get("create_at"), milliseconds=True)
        if isinstance(reply.get("user"), str) and replied_at is not None:
            rows.append((replied_at, who(reply["user"]), who(author), "reply", 1.0, None))
            rows.extend(
                (replied_at, who(reply["user"]), who(name), "mention", 1.0, None)
                for name in reply["mentions"]
            )
    for reaction in post.get("reactions") or []:
        if isinstance(reaction, dict) and isinstance(reaction.get("user"), str):
            at = as_seconds(reaction.get("create_at"), milliseconds=True) or when
            rows.append((at, who(reaction["user"]), who(author), "reaction", 1.0, None))
    return rows
