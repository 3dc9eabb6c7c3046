"""Mastodon's text rules: how it counts a post's length, and its HTML back to plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from sixfold.channels.connectors.transport import count_graphemes

Status = Mapping[str, Any]  # a Status entity as Mastodon.py returns it

URL_WEIGHT = 23  # Mastodon counts every link as 23 characters, however long

_URL = re.compile(r"(?<![\w@/])https?://[^\s<>\"']+", re.IGNORECASE)
_URL_TAIL = ".,:;!?)]'\""
_MENTION = re.compile(r"(?<![=/\w])@(\w+(?:[\w.-]*\w)?)@[\w.-]+\w", re.IGNORECASE)


def count_characters(text: str, url_chars: int = URL_WEIGHT) -> int:
    """The length Mastodon checks against its limit: each link counts `url_chars` (23,
    or what the server reports as `characters_reserved_per_url`, at least 1), a mention of
    @user@domain counts as @user, and the rest counts in graphemes."""
    counted = _MENTION.sub(lambda m: "@" + m.group(1), text)
    pieces: list[str] = []
    links = 0
    last = 0
    for match in _URL.finditer(counted):
        url = match.group(0).rstrip(_URL_TAIL)
        # One letter stands for the link, and the rest of its weight is added after
        # counting: the weight is the server's to set, and building it as a string would
        # let a server that reserves a billion characters exhaust memory. One letter joins
        # its neighbours into graphemes exactly as a run of them would.
        pieces += [counted[last : match.start()], "x"]
        links += 1
        last = match.start() + len(url)
    pieces.append(counted[last:])
    # Mastodon counts the rest as Ruby's each_grapheme_cluster does.
    return count_graphemes("".join(pieces)) + links * (url_chars - 1)


def status_text(status: Status) -> str:
    """The text that was posted, from the status's HTML: paragraphs and line breaks back
    to newlines, links whole (their hidden parts too), mentions with their domain."""
    mentions = {str(m["url"]): str(m["acct"]) for m in status.get("mentions") or ()}
    reader = _StatusText(mentions)
    reader.feed(str(status.get("content") or ""))
    reader.close()
    return "".join(reader.parts).strip()


class _StatusText(HTMLParser):
    VOID = frozenset({"br", "img", "hr", "wbr"})

    def __init__(self, mentions: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.mentions = mentions
        self.parts: list[str] = []
        self.paragraphs = 0
        self.skipping = 0  # depth inside a mention link already written as @acct

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag not in self.VOID:
                self.skipping += 1
            return
        attributes = dict(attrs)
        if tag == "p":
            self.parts.append("\n\n" if self.paragraphs else "")
            self.paragraphs += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a" and (acct := self._mentioned(attributes)):
            # The link shows @user; the mention says which user@domain was meant.
            self.parts.append("@" + acct)
            self.skipping = 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br /> opens and closes nothing

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag not in self.VOID:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def _mentioned(self, attributes: Mapping[str, str | None]) -> str | None:
        classes = (attributes.get("class") or "").split()
        if "mention" not in classes or "hashtag" in classes:
            return None
        return self.mentions.get(attributes.get("href") or "")
