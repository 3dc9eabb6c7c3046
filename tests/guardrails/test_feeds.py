"""Reading news feeds: RSS and Atom, odd encodings, hostile documents, and what is suggested."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.guardrails.feeds import (
    MAX_ENTRIES,
    FeedEntry,
    FeedRefused,
    parse_feed,
    store_suggestions,
)
from sixfold.guardrails.models import EventSuggestion
from sixfold.guardrails.suggest import plain_text, suggestion_for
from sixfold.outbound import is_public_address
from tests.guardrails.conftest import Guardians, feed

BASE = "https://gazette.example/feed.xml"


def test_an_rss_feed_is_read_as_plain_entries() -> None:
    parsed = parse_feed(feed("news.rss"), content_type="application/rss+xml", base_url=BASE)
    assert parsed.title == "Harbour Gazette"
    assert [e.guid for e in parsed.entries] == [f"gazette-100{i}" for i in range(1, 6)]
    first = parsed.entries[0]
    assert first.title == "Earthquake hits Northern Italy, dozens feared dead"
    assert first.link == "https://gazette.example/2026/11/earthquake"
    assert first.published_at == dt.datetime(2026, 11, 20, 8, 15, tzinfo=dt.UTC)
    # A relative link is made absolute against the feed's own address.
    assert parsed.entries[3].link == "https://gazette.example/2026/11/harbour-fire"


def test_an_atom_feed_is_read_with_html_titles_as_text() -> None:
    parsed = parse_feed(feed("news.atom"), content_type="application/atom+xml", base_url=BASE)
    assert parsed.title == "World Desk"
    titles = [e.title for e in parsed.entries]
    assert titles[1] == "Hurricane Mara makes landfall in Florida"
    assert parsed.entries[0].guid == "urn:uuid:entry-paris"
    assert parsed.entries[1].published_at == dt.datetime(2026, 11, 20, 22, tzinfo=dt.UTC)


def test_a_feed_in_latin_1_is_decoded() -> None:
    parsed = parse_feed(feed("latin1.rss"), content_type="text/xml")
    assert parsed.title == "Café Nieuws"
    assert parsed.entries[0].title == "Overstroming in Zürich: dozens evacuated from cafés"


def test_a_wrong_charset_header_does_not_break_reading() -> None:
    parsed = parse_feed(feed("latin1.rss"), content_type="text/xml; charset=utf-8")
    assert "Z" in parsed.entries[0].title
    assert "rich" in parsed.entries[0].title


def test_script_and_markup_in_titles_are_dropped_and_bad_links_emptied() -> None:
    parsed = parse_feed(feed("hostile_titles.rss"), base_url=BASE)
    titles = [e.title for e in parsed.entries]
    assert titles == ["Bombing in Kabul kills many", "Massacre reported near Goma"]
    assert all("<" not in t and "alert" not in t and "cookie" not in t for t in titles)
    assert parsed.title == "Hostile"
    assert parsed.entries[0].link == ""  # a javascript: link is never kept


def test_a_malformed_feed_yields_what_can_be_read() -> None:
    parsed = parse_feed(feed("malformed.xml"))
    assert [e.title for e in parsed.entries] == ["Unclosed & wrong entities"]


@pytest.mark.parametrize(
    "content", [b"", b"not a feed at all", b"<html><body><p>Hello</p></body></html>", b"\x00\xff"]
)
def test_a_document_that_is_no_feed_is_refused(content: bytes) -> None:
    with pytest.raises(FeedRefused, match="RSS or Atom"):
        parse_feed(content)


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(FeedRefused, match="entities"):
        parse_feed(feed("billion_laughs.xml"))
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_quadratic_blowup_is_refused_in_any_encoding(codec: str) -> None:
    # One large entity referenced many times: no nesting, so feedparser would keep it as
    # "safe" and expand it to tens of gigabytes.
    document = (
        f'<?xml version="1.0" encoding="{codec}"?>\n'
        f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 50_000}">\n]>'
        f'\n<rss version="2.0"><channel><item><title>{"&a;" * 20_000}</title></item>'
        "</channel></rss>"
    )
    started = time.monotonic()
    with pytest.raises(FeedRefused, match="entities"):
        parse_feed(document.encode(codec))
    assert time.monotonic() - started < 2


def test_a_huge_feed_is_read_up_to_the_entry_limit_in_time() -> None:
    items = "".join(
        f"<item><title>Flood warning number {i}</title><guid>g{i}</guid>"
        f"<description>{'word ' * 60}</description></item>"
        for i in range(4000)
    )
    content = f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    assert len(content) > 1_000_000
    started = time.monotonic()
    parsed = parse_feed(content)
    assert time.monotonic() - started < 10
    assert (len(parsed.entries), parsed.total) == (MAX_ENTRIES, 4000)


@pytest.mark.parametrize(
    ("title", "summary", "kind", "keywords"),
    [
        (
            "Earthquake hits Northern Italy, dozens feared dead",
            "",
            "disaster",
            ["Northern Italy", "earthquake", "dead"],
        ),
        (
            "Hurricane Mara makes landfall in Florida",
            "",
            "disaster",
            ["Hurricane Mara", "Florida", "hurricane"],
        ),
        ("Protesters clash with police in Paris", "", "unrest", ["Paris", "protesters"]),
        ("Gunman opens fire at Oslo concert", "", "crime", ["Oslo", "gunman", "fire"]),
        ("UN says famine looms in Sudan", "", "disaster", ["UN", "Sudan", "famine"]),
        (
            "Council meets in Leeds",
            "Two people died in the blaze.",
            "tragedy",
            ["Council", "Leeds", "died"],
        ),
    ],
)
def test_tragic_stories_are_suggested_with_names_and_tragedy_words(
    title: str, summary: str, kind: str, keywords: list[str]
) -> None:
    assert suggestion_for(title, summary) == (kind, keywords)


@pytest.mark.parametrize(
    "title",
    [
        "Supermarkets start a price war on bread",
        "Town fair opens with record crowds",
        "Our team is killing it this quarter",
        "A storm of applause",
    ],
)
def test_ordinary_news_and_idioms_are_not_suggested(title: str) -> None:
    assert suggestion_for(title) is None


def test_plain_text_keeps_words_and_drops_scripts() -> None:
    assert plain_text("<p>Fire &amp; <b>smoke</b><script>x()</script>\x07 </p>") == "Fire & smoke"


def entry(guid: str, title: str) -> FeedEntry:
    return FeedEntry(guid=guid, title=title, link="", published_at=None, summary="")


def test_suggestions_are_stored_once_per_story(db: Session, guardians: Guardians) -> None:
    entries = [
        entry("a", "Earthquake hits Northern Italy"),
        entry("a", "Earthquake hits Northern Italy"),
        entry("b", "Town fair opens"),
        entry("c", "Wildfire near Athens"),
    ]
    assert store_suggestions(db, guardians.org.id, entries) == 2
    dismissed = db.scalars(select(EventSuggestion).where(EventSuggestion.guid == "a")).one()
    dismissed.status = "dismissed"
    assert store_suggestions(db, guardians.org.id, entries) == 0
    rows = db.scalars(select(EventSuggestion).order_by(EventSuggestion.guid)).all()
    assert [(r.guid, r.kind, r.status) for r in rows] == [
        ("a", "disaster", "dismissed"),
        ("c", "disaster", "new"),
    ]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address checked, not bound
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("fe80::1%eth0", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::5db8:d822", True),
        ("2002:7f00:1::", False),
    ],
)
def test_only_public_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public
