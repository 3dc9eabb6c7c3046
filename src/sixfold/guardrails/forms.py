"""Small helpers the settings forms share: lists typed one per line, per-field problems, diffs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sixfold.errors import ValidationFailed
from sixfold.org.clock import organisation_zone
from sixfold.org.models import Organisation

MAX_URL_LENGTH = 2000


class FormInvalid(ValidationFailed):
    """Some fields of a settings form are not valid; `problems` maps each field to why."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(" ".join(self.problems.values()))


def lines(text: str) -> list[str]:
    """Entries typed one per line: trimmed, blank lines dropped, repeats (any case) dropped."""
    seen: set[str] = set()
    out = []
    for raw in text.splitlines():
        entry = " ".join(raw.split())
        if entry and entry.casefold() not in seen:
            seen.add(entry.casefold())
            out.append(entry)
    return out


def web_url_problem(url: str) -> str | None:
    """Why `url` is not an http or https address a person may give us, or None when it is."""
    if len(url) > MAX_URL_LENGTH:
        return f"The address is longer than {MAX_URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "This is not a web address."
    if parts.scheme not in ("http", "https") or not host:
        return "Give an address that starts with http:// or https://."
    if parts.username is not None or parts.password is not None:
        # A password in the address would end up in the audit log and on the page.
        return "The address may not contain a user name or password."
    return None


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as {"field": {"from": old, "to": new}} for the audit log."""
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in after
        if before.get(key) != after.get(key)
    }


def list_diff(before: list[str], after: list[str]) -> dict[str, list[str]]:
    """A list change as what was added and what was removed (long lists stay readable)."""
    return {
        "added": [item for item in after if item not in before],
        "removed": [item for item in before if item not in after],
    }


def local_today(organisation: Organisation) -> dt.date:
    """Today where the organisation's people are: the day a person means by "today"."""
    return local_now(organisation).date()


def local_now(organisation: Organisation) -> dt.datetime:
    return dt.datetime.now(organisation_zone(organisation))
