"""Reading the organisation's news feed for sensitive-event suggestions.

The feed is fetched here, never by feedparser (given bytes it would even try them as a file
name), with a time limit, a size cap and only to public addresses: the address is a setting a
person types, and must not become a way to reach services inside the network. Entries whose
title or summary uses the language of tragedy become suggestions a person confirms; only the
title, link and date are stored, never the article.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]  # the package ships no type hints
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import __version__
from sixfold.config import Settings
from sixfold.db import utcnow
from sixfold.guardrails.forms import web_url_problem
from sixfold.guardrails.models import EventSuggestion
from sixfold.guardrails.service import settings_of
from sixfold.guardrails.suggest import plain_text, suggestion_for
from sixfold.guardrails.suggestions import schedule_next_fetch
from sixfold.inputs import ascii_int
from sixfold.outbound import AddressRefused, public_only_client

if TYPE_CHECKING:
    from sixfold.guardrails.models import FeedFetchJob

MAX_FEED_BYTES = 2 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 5
# Entries looked at per fetch: news feeds carry tens; more is a feed gone wrong.
MAX_ENTRIES = 500
MAX_TITLE_LENGTH = 1000
MAX_GUID_LENGTH = 500
MAX_LINK_LENGTH = 2000
USER_AGENT = f"Sixfold/{__version__} (news feed reader for sensitive-event suggestions)"
# Internal entity declarations are how "billion laughs" and quadratic-blowup documents
# multiply a small feed into gigabytes; feedparser keeps "safe" ones and expands them, so a
# feed that declares any is refused before it is parsed. Real news feeds declare none.
_ENTITY_NEEDLES = frozenset(
    word.encode(codec)
    for word in ("<!ENTITY", "<!entity")
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")
)


class FeedError(Exception):
    """The feed could not be read; the message is shown to people as it is."""


class FeedRefused(FeedError):
    """Trying again will not help: the address, the answer or the document is not acceptable."""


class FeedUnavailable(FeedError):
    """The server did not answer well this time (a timeout, an error page); worth a retry."""


@dataclass(frozen=True, slots=True)
class FetchedFeed:
    url: str
    content: bytes
    content_type: str


def fetch_feed(url: str, *, allow_private: bool = False) -> FetchedFeed:
    """The feed's bytes (at most MAX_FEED_BYTES), following at most MAX_REDIRECTS redirects."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    client = public_only_client(
        allow_private=allow_private,
        timeout=TIMEOUT_SECONDS,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
        },
    )
    with client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(url)
            try:
                with client.stream("GET", url) as response:
                    if not response.is_redirect:
                        content = _read_capped(response, deadline)
                        return FetchedFeed(url, content, response.headers.get("content-type", ""))
                    url = urljoin(url, response.headers.get("location", ""))
            except AddressRefused as refused:
                raise FeedRefused(
                    f"{refused.host} is a private or local address; only feeds on the public "
                    "internet can be read."
                ) from refused
            except httpx.TimeoutException as error:
                raise FeedUnavailable(
                    f"The feed server did not answer within {TIMEOUT_SECONDS:.0f} seconds."
                ) from error
            except httpx.HTTPError as error:
                raise FeedUnavailable(f"The feed could not be fetched ({error}).") from error
    raise FeedRefused(f"The feed address redirects more than {MAX_REDIRECTS} times.")


def _check_url(url: str) -> None:
    problem = web_url_problem(url)
    if problem:
        raise FeedRefused(f"{problem} ({url[:200]})")


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise FeedUnavailable(f"The feed server answered {response.status_code}; will try again.")
    if response.status_code >= 400:
        raise FeedRefused(f"The feed server answered {response.status_code} for this address.")
    declared = ascii_int(response.headers.get("content-length", ""))
    if declared is not None and declared > MAX_FEED_BYTES:
        raise _too_large()
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            raise _too_large()
        if time.monotonic() > deadline:
            raise FeedUnavailable(f"The feed took longer than {TIMEOUT_SECONDS:.0f} s to read.")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> FeedRefused:
    return FeedRefused(f"The feed is larger than {MAX_FEED_BYTES // 2**20} MiB.")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    guid: str
    title: str
    link: str
    published_at: dt.datetime | None
    # Read to find tragedy language, never stored.
    summary: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]
    total: int


def parse_feed(content: bytes, *, content_type: str = "", base_url: str = "") -> ParsedFeed:
    """Entries of an RSS or Atom document, as plain text, without any network access."""
    if any(needle in content for needle in _ENTITY_NEEDLES):
        raise FeedRefused("The feed declares its own XML entities, which are not accepted.")
    parsed = feedparser.parse(
        io.BytesIO(content),
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=True,
    )
    if not parsed.get("version") and not parsed.entries:
        raise FeedRefused("The address does not hold an RSS or Atom feed.")
    entries = list(_entries(parsed.entries[:MAX_ENTRIES], base_url))
    title = plain_text(str(parsed.feed.get("title", "")))[:MAX_TITLE_LENGTH]
    return ParsedFeed(title=title, entries=entries, total=len(parsed.entries))


def _entries(raw: list[Any], base_url: str) -> Iterator[FeedEntry]:
    for item in raw:
        title = plain_text(str(item.get("title", "")))[:MAX_TITLE_LENGTH]
        if not title:
            continue
        link = _link(str(item.get("link", "")), base_url)
        published = _when(item.get("published_parsed") or item.get("updated_parsed"))
        guid = str(item.get("id") or link or "") or _digest(f"{title}|{published}")
        if len(guid) > MAX_GUID_LENGTH:
            guid = _digest(guid)
        summary = plain_text(str(item.get("summary", "")))[:5000]
        yield FeedEntry(guid, title, link, published, summary)


def _link(link: str, base_url: str) -> str:
    absolute = urljoin(base_url, link.strip()) if link.strip() else ""
    if not absolute or len(absolute) > MAX_LINK_LENGTH or web_url_problem(absolute):
        return ""
    return absolute if urlsplit(absolute).scheme in ("http", "https") else ""


def _when(parsed: Any) -> dt.datetime | None:
    """feedparser's UTC time tuple as a datetime; a date no calendar has is no date."""
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in parsed[:6])
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def store_suggestions(session: Session, organisation_id: int, entries: list[FeedEntry]) -> int:
    """Add a suggestion for each new entry that reads like a tragedy; return how many."""
    guids = list(dict.fromkeys(e.guid for e in entries))
    # Seen guids stay seen whatever became of them: a dismissed story does not come back.
    seen = set(
        session.scalars(
            select(EventSuggestion.guid).where(
                EventSuggestion.organisation_id == organisation_id,
                EventSuggestion.guid.in_(guids),
            )
        )
    )
    created = 0
    for entry in entries:
        found = None if entry.guid in seen else suggestion_for(entry.title, entry.summary)
        seen.add(entry.guid)
        if found is None:
            continue
        kind, keywords = found
        session.add(
            EventSuggestion(
                organisation_id=organisation_id,
                guid=entry.guid,
                title=entry.title,
                link=entry.link,
                published_at=entry.published_at,
                keywords=keywords,
                kind=kind,
                status="new",
            )
        )
        created += 1
    session.flush()
    return created


def run_feed_fetch(session: Session, job: FeedFetchJob, *, settings: Settings | None) -> str:
    """Read the job's feed and store suggestions; the job's next state ("done" or "failed").

    A refused feed fails at once with its reason; an unavailable one raises, so the runner
    tries again later with backoff.
    """
    current = settings_of(session, job.organisation_id).news_feed_url
    if current != job.url:
        job.result, job.finished_at = {"error": _address_changed(current)}, utcnow()
        return "failed"
    allow_private = settings.link_preview_allow_private if settings else False
    try:
        fetched = fetch_feed(job.url, allow_private=allow_private)
        feed = parse_feed(fetched.content, content_type=fetched.content_type, base_url=fetched.url)
    except FeedRefused as error:
        job.result, job.finished_at = {"error": str(error)}, utcnow()
        return "failed"
    created = store_suggestions(session, job.organisation_id, feed.entries)
    job.result = {
        "feed_title": feed.title,
        "entries": len(feed.entries),
        "total": feed.total,
        "suggestions": created,
    }
    job.finished_at = utcnow()
    schedule_next_fetch(session, job)
    return "done"


def _address_changed(current: str) -> str:
    if not current:
        return "The news feed address was removed before this read, so nothing was read."
    return f"The news feed address changed to {current} before this read; that one is read."
