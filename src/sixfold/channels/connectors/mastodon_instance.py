"""What a Mastodon server says about itself: the domain its accounts are known by, and its
limits, which each server sets (many allow 5,000 characters, some fewer than 500).

The limits are read when a channel connects and again at every Verify, and kept with the
channel's non-secret settings under `SETTINGS_KEY`, in the server's own words, each held to
a range that real servers keep to (`BOUNDS`):

    {"server_limits": {"max_characters": 5000, "max_media_attachments": 4,
                       "characters_reserved_per_url": 23, "description_limit": 1500,
                       "supported_mime_types": ["image/jpeg", ...]}}

A channel connected before they were kept has none, and keeps the connector's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError

from sixfold.channels.base import ChannelLimits
from sixfold.channels.connectors.mastodon_text import URL_WEIGHT

SETTINGS_KEY = "server_limits"
# The server's name for a limit → ChannelLimits' name for it.
LIMIT_FIELDS = {
    "max_characters": "max_chars",
    "max_media_attachments": "max_media",
    "description_limit": "alt_text_max_chars",
}
# The range a server's number is believed within (see `bounded_limits`). Real servers give
# 500 to some 100,000 characters and 23 for a link; Pleroma's 1,000 attachments is held to
# 100, still ten times what a post here carries.
BOUNDS: dict[str, tuple[int, int]] = {
    "max_characters": (1, 1_000_000),
    "max_media_attachments": (1, 100),
    "characters_reserved_per_url": (1, 1_000),
    "description_limit": (1, 100_000),
}
MIME_TYPES_MAX = 50
# type/subtype, each part as media type registrations name them, kept short.
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,40}/[a-z0-9][a-z0-9.+-]{0,60}", re.IGNORECASE)


def read_instance(api: Mastodon) -> Mapping[str, Any]:
    """The server's instance information: v2 (Mastodon 4.0 and later), else v1, which older
    servers and the forks that lack v2 still answer; empty when neither is there."""
    for read in (api.instance_v2, api.instance_v1):
        try:
            found = read()
        except MastodonNotFoundError:
            continue
        return found if isinstance(found, Mapping) else {}
    return {}


def local_domain(instance: Mapping[str, Any], server: str) -> str:
    """The domain accounts are known by (LOCAL_DOMAIN), which may differ from the host."""
    domain = instance.get("domain")
    return str(domain) if domain else urlsplit(server).netloc


def reported_limits(
    instance: Mapping[str, Any], stored: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The channel settings to keep from the instance information: its limits over those
    the channel's settings (`stored`) hold, or nothing when the server gave no instance
    information at all (then what is kept stays). A limit the answer leaves out keeps its
    stored value: a server (or a proxy) answering without `configuration` says nothing
    about its limits, and must not send a 5,000-character channel back to 500."""
    if not instance:
        return {}
    kept = bounded_limits(_mapping((stored or {}).get(SETTINGS_KEY)))
    return {SETTINGS_KEY: {**kept, **server_limits(instance)}}


def server_limits(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The limits the instance information gives, under the server's own names. Mastodon
    has them under `configuration` (v2, and v1 since 3.4.2); Glitch and Pleroma also name
    the length `max_toot_chars` at the top of v1, and Pleroma its other limits there too."""
    configuration = _mapping(instance.get("configuration"))
    statuses = _mapping(configuration.get("statuses"))
    media = _mapping(configuration.get("media_attachments"))
    return bounded_limits(
        {
            "max_characters": statuses.get("max_characters", instance.get("max_toot_chars")),
            "max_media_attachments": statuses.get(
                "max_media_attachments", instance.get("max_media_attachments")
            ),
            "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
            "description_limit": media.get("description_limit", instance.get("description_limit")),
            "supported_mime_types": media.get("supported_mime_types"),
        }
    )


def bounded_limits(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The limits in `raw` that can be believed, each within its `BOUNDS`: a number above
    its range is held at the top of it, and one no server would give (zero, a string) is
    left out, so the default stands. The server is not trusted: a value it sets is used
    wherever a post is counted or checked, and a hostile one must cost no more than a
    real one. Limits stored before the bounds are bounded again when read."""
    limits: dict[str, Any] = {
        name: value for name in BOUNDS if (value := _bounded(name, raw.get(name))) is not None
    }
    types = _mime_types(raw.get("supported_mime_types"))
    if types:
        limits["supported_mime_types"] = types
    return limits


def limits_from(settings: Mapping[str, Any], default: ChannelLimits) -> ChannelLimits:
    """A channel's limits: what its server reported, over the connector's defaults."""
    stored = bounded_limits(_mapping(settings.get(SETTINGS_KEY)))
    changes: dict[str, Any] = {
        field: stored[name] for name, field in LIMIT_FIELDS.items() if name in stored
    }
    types = stored.get("supported_mime_types", ())
    kept = tuple(t for t in default.media_types if t in types)
    if kept:
        # Only what Sixfold can send and the server takes. A list naming none of them is
        # no refusal: Pleroma lists only application/octet-stream, and takes any image.
        changes["media_types"] = kept
    return replace(default, **changes)


def url_chars(settings: Mapping[str, Any]) -> int:
    """How many characters a link counts on the channel's server, however long it is."""
    stored = _mapping(settings.get(SETTINGS_KEY)).get("characters_reserved_per_url")
    reserved = _bounded("characters_reserved_per_url", stored)
    return URL_WEIGHT if reserved is None else reserved


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _bounded(name: str, value: object) -> int | None:
    low, high = BOUNDS[name]
    # bool is an int in Python, and no server means True as a limit.
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        return None
    return min(value, high)


def _mime_types(value: object) -> list[str]:
    """The media types in a server's list that look like media types, each once, at most
    `MIME_TYPES_MAX` of them (real servers list about 30)."""
    if not isinstance(value, list):
        return []
    found: list[str] = []
    for item in value:
        if isinstance(item, str) and _MIME_TYPE.fullmatch(item) and item not in found:
            found.append(item)
            if len(found) == MIME_TYPES_MAX:
                break
    return found
