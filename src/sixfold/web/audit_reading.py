"""Audit entries as a person reads them on the audit page.

The stored details are what the code that acted wrote down: identifiers as keys, moments as
ISO text, channel ids, nested lists and mappings. The page shows them as labelled values,
moments in the organisation's zone, lists as lists and channels by name. The CSV export and
the API keep the stored values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sixfold.audit import AuditEntry
from sixfold.inputs import parse_id
from sixfold.org.clock import format_moment, parse_moment
from sixfold.publishing.post_audit import LABEL_CHARS

# Keys whose values are channel ids (one, a list, or a mapping keyed by them).
CHANNEL_KEYS = frozenset({"channel", "channel_id", "channels", "channel_ids"})
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Detail:
    """One value: `text`, or `parts` for a list (unlabelled parts) or a mapping."""

    label: str
    text: str = ""
    parts: tuple[Detail, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What turning stored values into words needs: the zone and the channels' names."""

    zone: ZoneInfo
    channel_names: Mapping[int, str]


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    target: str
    details: tuple[Detail, ...]


def audit_row(entry: AuditEntry, reading: Reading) -> AuditRow:
    return AuditRow(
        entry=entry,
        target=_target(entry),
        details=tuple(
            _detail(key, value, reading)
            for key, value in entry.details.items()
            if value is not None
        ),
    )


def _target(entry: AuditEntry) -> str:
    """The target's label; a post's opening words, stored cut at LABEL_CHARS, end at a word."""
    text = entry.target or entry.target_id
    if entry.target_type == "post" and len(text) >= LABEL_CHARS and " " in text:
        return text.rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
    return text


def _detail(key: str, value: Any, reading: Reading) -> Detail:
    if key in CHANNEL_KEYS:
        value = _channel_names(value, reading.channel_names)
    return _shown(_label(key), value, reading)


def _label(key: str) -> str:
    """ "paused_since" reads "Paused since"; a name used as a key is kept as it is."""
    return key.replace("_", " ").capitalize() if IDENTIFIER.fullmatch(key) else key


def _shown(label: str, value: Any, reading: Reading) -> Detail:
    if isinstance(value, Mapping):
        parts = tuple(_detail(str(k), v, reading) for k, v in value.items())
        return Detail(label, parts=parts) if parts else Detail(label, "none")
    if isinstance(value, list | tuple):
        items = tuple(_shown("", item, reading) for item in value)
        return Detail(label, parts=items) if items else Detail(label, "none")
    return Detail(label, _text(value, reading.zone))


def _text(value: object, zone: ZoneInfo) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and (moment := parse_moment(value)) is not None:
        return format_moment(moment, zone)
    return str(value)


def _channel_names(value: Any, names: Mapping[int, str]) -> Any:
    """Channel ids replaced by names; whatever is not an id is left as it is."""
    if isinstance(value, Mapping):
        return {_channel_name(k, names): v for k, v in value.items()}
    if isinstance(value, list):
        return [_channel_name(v, names) for v in value]
    return _channel_name(value, names)


def _channel_name(value: object, names: Mapping[int, str]) -> object:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    channel_id = value if isinstance(value, int) else parse_id(value)
    if channel_id is None:
        return value
    return names.get(channel_id, f"channel {channel_id}")
