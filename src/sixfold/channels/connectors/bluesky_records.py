"""Bluesky records without the network: record keys, lengths, post records and read-back.

The record key is what makes a Bluesky publish exactly-once. `record_key` derives it from the
publication's idempotency key alone, so every attempt, in any worker, after any crash, writes
the same key, and `com.atproto.repo.putRecord` under an existing key replaces the record
instead of adding one: two attempts leave one post.

A post's key must be a TID (the `app.bsky.feed.post` lexicon says `"key": "tid"`): 13
base32-sortable characters encoding 64 bits, the top bit zero, 53 bits of microseconds since
1970 and a 10-bit clock id. Ours come from SHA-256 of the idempotency key: 48 bits become a
timestamp inside a fixed band starting 1980-01-01 (so about 8.9 years wide) and 10 bits the
clock id, 58 bits in all. Why this is safe:

- Deterministic and valid by construction: same key, same TID, always syntactically a TID.
- No collisions in practice: two keys of one account meet with probability n²/2⁵⁹ (for
  100,000 posts, about 1 in 10⁸); a collision would overwrite, so it is also checked: a
  record found under our key that carries another idempotency key is never reported as ours.
- Never on another client's post: clients mint TIDs from their clock (Bluesky began in
  2023), so no post written by the Bluesky app or anyone else falls in a 1980s band, and
  putRecord cannot overwrite one.
- Recognisable: every Sixfold post sits in the band, so `fetch_own_posts` reads the band
  completely (what makes the record authoritative) and the rest of the account newest-first.

TID timestamps are only hints (the record-key spec says they may hold any value and must not
be trusted); the post's time is its `createdAt`, which is the real time of publishing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from sixfold.channels.base import ConnectorError
from sixfold.channels.connectors.transport import count_graphemes

POST_COLLECTION = "app.bsky.feed.post"
# Unknown fields are allowed in atproto records: the key travels with the post, so
# reconciliation matches exactly, and a post copied under another record key is not ours.
KEY_FIELD = "sixfoldKey"
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
DEFAULT_WEB = "https://bsky.app"
DEFAULT_SERVICE = "https://bsky.social"

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_BAND_START_US = int(datetime(1980, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
_BAND_BITS = 48
_AT_URI = re.compile(r"^at://([^/]+)/([^/]+)/([^/?#]+)$")
_WEB_POST = re.compile(r"^https?://[^/]+/profile/([^/]+)/post/([^/?#]+)")


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def service_url(raw: str) -> str:
    """The PDS's base URL from what a person typed (empty: bsky.social). Plain http only for
    this machine: the app password and session tokens must never cross a network in clear."""
    text = raw.strip().rstrip("/") or DEFAULT_SERVICE
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise ConnectorError("The server must be a web address such as https://bsky.social.")
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise ConnectorError("The server address must start with https://.")
    return text


def record_key(idempotency_key: str) -> str:
    """The TID record key of the post made under `idempotency_key` (see the module doc)."""
    digest = hashlib.sha256(b"sixfold/bluesky/rkey\0" + idempotency_key.encode()).digest()
    bits = int.from_bytes(digest[:8], "big")
    timestamp = _BAND_START_US + (bits >> (64 - _BAND_BITS))
    clock_id = bits & 0x3FF
    return encode_tid((timestamp << 10) | clock_id)


def encode_tid(value: int) -> str:
    if not 0 <= value < 1 << 63:
        raise ValueError("a TID is a 63-bit number")
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in range(13)]
    return "".join(reversed(chars))


def tid_value(tid: str) -> int | None:
    """The number a TID encodes, or None for a key that is not a TID."""
    if not _TID.match(tid):
        return None
    value = 0
    for char in tid:
        value = (value << 5) | _ALPHABET.index(char)
    return value


def tid_time_us(tid: str) -> int | None:
    value = tid_value(tid)
    return None if value is None else value >> 10


def band_bounds() -> tuple[str, str]:
    """The lowest key of the Sixfold band, and the first key above it."""
    low = encode_tid(_BAND_START_US << 10)
    high = encode_tid((_BAND_START_US + (1 << _BAND_BITS)) << 10)
    return low, high


def text_problem(text: str) -> str | None:
    graphemes = count_graphemes(text)
    if graphemes > MAX_GRAPHEMES:
        return f"Bluesky posts hold at most {MAX_GRAPHEMES} characters; this one has {graphemes}."
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        return f"Bluesky posts hold at most {MAX_TEXT_BYTES} bytes of text."
    return None


@dataclass(frozen=True)
class AtUri:
    repo: str
    collection: str
    rkey: str

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def parse_at_uri(uri: str) -> AtUri | None:
    match = _AT_URI.match(uri.strip())
    return AtUri(*match.groups()) if match else None


def reply_target(reference: str) -> AtUri | None:
    """What a post answers: an at:// URI, or a post's web address on bsky.app or a mirror."""
    uri = parse_at_uri(reference)
    if uri is not None:
        return uri
    match = _WEB_POST.match(reference.strip())
    return AtUri(match.group(1), POST_COLLECTION, match.group(2)) if match else None


def web_base(service: str, configured: str | None) -> str | None:
    """Where people see posts of an account on `service`: bsky.app for every PDS that the
    network can reach, none for one that only this machine or network can (a test server, a
    PDS on an intranet), unless the channel names its own web app."""
    if configured:
        return configured.rstrip("/")
    host = (urlsplit(service).hostname or "").lower()
    if host == "localhost" or host.endswith((".test", ".local", ".internal", ".localhost")):
        return None
    try:
        return None if not ip_address(host).is_global else DEFAULT_WEB
    except ValueError:
        return DEFAULT_WEB


def post_url(*, web: str | None, service: str, did: str, rkey: str) -> str:
    """The address of a post for people. The DID, not the handle, names the account: handles
    change, and a stored link must keep working. Without a web app, the record on the PDS."""
    if web is not None:
        return f"{web}/profile/{did}/post/{rkey}"
    return (
        f"{service.rstrip('/')}/xrpc/com.atproto.repo.getRecord"
        f"?repo={did}&collection={POST_COLLECTION}&rkey={rkey}"
    )


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def field(data: Any, name: str, default: Any = None) -> Any:
    """A field of a record as the SDK returns it: a model (snake_case attributes), a DotDict
    or a plain dict (the lexicon's camelCase names)."""
    if isinstance(data, Mapping):
        return data.get(name, default)
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    value = getattr(data, snake, None)
    return value if value is not None else getattr(data, name, default)


def own_key(rkey: str, value: Any) -> str | None:
    """The idempotency key a record carries, if its record key is the one that key derives:
    a record that merely copies the field under another key is not ours."""
    key = field(value, KEY_FIELD)
    return key if isinstance(key, str) and record_key(key) == rkey else None
