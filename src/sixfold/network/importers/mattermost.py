"""Mattermost bulk export (JSON Lines) importer: replies, reactions, @-mentions, direct posts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sixfold.network.importers.base import (
    ImportLimits,
    InteractionImport,
    ProblemLog,
    check_size,
)
from sixfold.network.importers.lines import bounded_lines
from sixfold.network.importers.records import (
    FieldError,
    Fields,
    Row,
    json_type,
    mentioned,
    parse_json,
)

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,63})", re.IGNORECASE)
# Record types that name people or hold interactions; the others (version, team, channel,
# emoji) are skipped without a word.
_KINDS = frozenset({"user", "post", "direct_post"})


@dataclass(frozen=True, slots=True)
class _Post:
    """What one post contributes, checked as it streams past; its text is already gone.

    Posts are kept until the end of the file because user records, which turn names into
    e-mail addresses, may come after them.
    """

    where: str
    author: str
    at: int
    mentions: list[str]
    members: list[str]  # direct posts only: who else was in the conversation
    replies: list[tuple[str, int, list[str]]]  # who, when, whom they mention
    reactions: list[tuple[str, int]]  # who, when


def load_mattermost_export(path: Path, limits: ImportLimits | None = None) -> InteractionImport:
    limits = limits or ImportLimits()
    check_size(path, limits)
    log = ProblemLog(path.name)
    emails: dict[str, str] = {}
    posts: list[_Post] = []
    with path.open("rb") as handle:
        for number, line in bounded_lines(handle, limits.max_line_bytes):
            where = f"{path.name}:{number}"
            if line is None:
                log.add(where, f"line longer than {limits.max_line_bytes} bytes; skipped")
                continue
            if not line.strip():
                continue
            record = parse_json(line, where, log)
            if record is not None:
                _collect(record, where, emails, posts, log)
    rows = [row for post in posts for row in _post_rows(post, emails)]
    return InteractionImport.from_rows(rows, log)


def _collect(
    record: Any, where: str, emails: dict[str, str], posts: list[_Post], log: ProblemLog
) -> None:
    if not isinstance(record, dict):
        log.add(where, f"record is {json_type(record)}, not an object; skipped")
        return
    fields = Fields(record, where, log)
    try:
        kind = fields.required_text("type")
        if kind not in _KINDS:
            return
        body = Fields(fields.required_object(kind), where, log)
    except FieldError as error:
        log.add(where, f"record {error}; skipped")
        return
    try:
        if kind == "user":
            username, email = body.required_text("username"), body.text("email")
            emails[username.lower()] = email.lower() if email else ""
        else:
            posts.append(_read_post(body, direct=kind == "direct_post"))
    except FieldError as error:
        log.add(where, f"{'user' if kind == 'user' else 'post'} {error}; skipped")


def _read_post(post: Fields, *, direct: bool) -> _Post:
    author, at = post.required_text("user"), post.required_seconds("create_at", milliseconds=True)
    replies = [
        _read_reply(Fields(reply, f"{post.where} reply {number}", post.log))
        for number, reply in enumerate(post.objects("replies"), start=1)
    ]
    reactions = [
        _read_reaction(Fields(reaction, f"{post.where} reaction {number}", post.log), at)
        for number, reaction in enumerate(post.objects("reactions"), start=1)
    ]
    return _Post(
        where=post.where,
        author=author,
        at=at,
        # Message text is dropped here; only its mentions survive, as names.
        mentions=mentioned(post.text("message"), _MENTION),
        members=post.texts("channel_members") if direct else [],
        replies=[reply for reply in replies if reply is not None],
        reactions=[reaction for reaction in reactions if reaction is not None],
    )


def _read_reply(reply: Fields) -> tuple[str, int, list[str]] | None:
    try:
        user = reply.required_text("user")
        at = reply.required_seconds("create_at", milliseconds=True)
    except FieldError as error:
        reply.log.add(reply.where, f"reply {error}; skipped")
        return None
    return user, at, mentioned(reply.text("message"), _MENTION)


def _read_reaction(reaction: Fields, post_at: int) -> tuple[str, int] | None:
    try:
        user = reaction.required_text("user")
    except FieldError as error:
        reaction.log.add(reaction.where, f"reaction {error}; skipped")
        return None
    # Exports before Mattermost 5 gave reactions no time; the post's own time stands in.
    at = reaction.seconds("create_at", milliseconds=True)
    return user, post_at if at is None else at


def _post_rows(post: _Post, emails: dict[str, str]) -> list[Row]:
    def who(name: str) -> str:
        return emails.get(name.lower()) or f"mattermost:{name.lower()}"

    author, message_id = who(post.author), f"mattermost:{post.where}"
    rows: list[Row] = [
        (post.at, author, who(name), "mention", 1.0, message_id) for name in post.mentions
    ]
    rows.extend(
        (post.at, author, who(member), "message", 1.0, message_id)
        for member in post.members
        if member != post.author
    )
    for user, at, mentions in post.replies:
        rows.append((at, who(user), author, "reply", 1.0, None))
        rows.extend((at, who(user), who(name), "mention", 1.0, None) for name in mentions)
    rows.extend((at, who(user), author, "reaction", 1.0, None) for user, at in post.reactions)
    return rows
