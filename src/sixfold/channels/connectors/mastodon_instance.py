"""What a Mastodon server says about itself: the domain its accounts are known by, and its
limits, which each server sets (many allow 5,000 characters, some fewer than 500).

The limits are read when a channel connects and again at every Verify, and kept with the
channel's non-secret settings under `SETTINGS_KEY`, in the server's own words:

    {"server_limits": {"max_characters": 5000, "max_media_attachments": 4,
                       "characters_reserved_per_url": 23, "description_limit": 1500,
                       "supported_mime_types": ["image/jpeg", ...]}}

A channel connected before they were kept has none, and keeps the connector's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeGuard
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


def reported_limits(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The channel settings to keep from the instance information: its limits, or nothing
    when the server gave no instance information at all (then what is kept stays)."""
    return {SETTINGS_KEY: server_limits(instance)} if instance else {}


def server_limits(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The limits the instance information gives, under the server's own names. Mastodon
    has them under `configuration` (v2, and v1 since 3.4.2); Glitch and Pleroma also name
    the length `max_toot_chars` at the top of v1, and Pleroma its other limits there too.
    A value no server would give (zero, a string) is left out, so the default stands."""
    configuration = _mapping(instance.get("configuration"))
    statuses = _mapping(configuration.get("statuses"))
    media = _mapping(configuration.get("media_attachments"))
    found = {
        "max_characters": statuses.get("max_characters", instance.get("max_toot_chars")),
        "max_media_attachments": statuses.get(
            "max_media_attachments", instance.get("max_media_attachments")
        ),
        "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
        "description_limit": media.get("description_limit", instance.get("description_limit")),
    }
    limits: dict[str, Any] = {name: value for name, value in found.items() if _positive(value)}
    types = media.get("supported_mime_types")
    if isinstance(types, list) and types and all(isinstance(t, str) for t in types):
        limits["supported_mime_types"] = list(types)
    return limits


def limits_from(settings: Mapping[str, Any], default: ChannelLimits) -> ChannelLimits:
    """A channel's limits: what its server reported, over the connector's defaults."""
    stored = _mapping(settings.get(SETTINGS_KEY))
    changes: dict[str, Any] = {
        field: stored[name] for name, field in LIMIT_FIELDS.items() if _positive(stored.get(name))
    }
    types = stored.get("supported_mime_types")
    kept = tuple(t for t in default.media_types if isinstance(types, list) and t in types)
    if kept:
        # Only what Sixfold can send and the server takes. A list naming none of them is
        # no refusal: Pleroma lists only application/octet-stream, and takes any image.
        changes["media_types"] = kept
    return replace(default, **changes)


def url_chars(settings: Mapping[str, Any]) -> int:
    """How many characters a link counts on the channel's server, however long it is."""
    stored = _mapping(settings.get(SETTINGS_KEY)).get("characters_reserved_per_url")
    return stored if _positive(stored) else URL_WEIGHT


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _positive(value: object) -> TypeGuard[int]:
    # bool is an int in Python, and no server means True as a limit.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
