"""Link previews against a real HTTP server on 127.0.0.1, and the refusals that keep the
composer from probing the inside of the network."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.publishing import link_preview
from sixfold.publishing.link_preview import (
    PreviewCache,
    PreviewRefused,
    PreviewUnavailable,
    fetch_preview,
)
from tests.publishing.conftest import Newsroom
from tests.publishing.web_support import make_site

PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Twelve lake walks &amp; more">
<meta property="og:description" content="Maps, water stops and parking.">
<meta property="og:image" content="/cover.jpg">
</head><body><p>Hello</p></body></html>"""
PADDING = b"<!-- " + b"x" * 1024 + b" -->\n"


class Pages(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}  # noqa: RUF012 - shared by the handler threads on purpose

    def do_GET(self) -> None:
        Pages.hits[self.path] = Pages.hits.get(self.path, 0) + 1
        route = ROUTES.get(self.path.split("?")[0])
        if route is None:
            self._send(404, "text/html", b"<title>Not here</title>")
            return
        route(self)

    def _send(self, status: int, kind: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _big(handler: Pages) -> None:
    body = b"<html><head><title>Big page</title></head><body>" + PADDING * 2048
    handler._send(200, "text/html; charset=utf-8", body)


def _late_title(handler: Pages) -> None:
    body = b"<html><head>" + PADDING * 600 + b"<title>Too late</title></head></html>"
    handler._send(200, "text/html", body)


def _slow(handler: Pages) -> None:
    time.sleep(2)
    handler._send(200, "text/html", PAGE)


def _drip(handler: Pages) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    for _ in range(20):
        handler.wfile.write(PADDING)
        handler.wfile.flush()
        time.sleep(0.2)


ROUTES = {
    "/page": lambda h: h._send(200, "text/html; charset=utf-8", PAGE),
    "/title-only": lambda h: h._send(200, "text/html", b"<title> Just a title </title>"),
    "/nothing": lambda h: h._send(200, "text/html", b"<p>No head at all</p>"),
    "/json": lambda h: h._send(200, "application/json", b'{"title": "no"}'),
    "/gone": lambda h: h._send(410, "text/html", b"<title>Gone</title>"),
    "/hop": lambda h: h._send(302, "text/html", b"", Location="/page"),
    "/loop": lambda h: h._send(302, "text/html", b"", Location="/loop"),
    "/to-metadata": lambda h: h._send(
        302, "text/html", b"", Location="http://169.254.169.254/latest/meta-data/"
    ),
    "/big": _big,
    "/late-title": _late_title,
    "/slow": _slow,
    "/drip": _drip,
}


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client hangs up on purpose (oversized or slow pages): not an error here.
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = QuietServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_open_graph_tags_make_the_preview(server: str) -> None:
    found = fetch_preview(f"{server}/page", allow_private=True)
    assert found.title == "Twelve lake walks & more"
    assert found.description == "Maps, water stops and parking."
    assert found.image == f"{server}/cover.jpg"
    assert found.site == "127.0.0.1"


def test_the_title_is_the_fallback(server: str) -> None:
    found = fetch_preview(f"{server}/title-only", allow_private=True)
    assert (found.title, found.description, found.image) == ("Just a title", "", None)


def test_redirects_are_followed_a_few_times(server: str) -> None:
    assert fetch_preview(f"{server}/hop", allow_private=True).url == f"{server}/page"
    with pytest.raises(PreviewUnavailable, match="redirects more than 3 times"):
        fetch_preview(f"{server}/loop", allow_private=True)


def test_a_redirect_to_a_private_address_is_refused_at_that_hop() -> None:
    hop = httpx.Response(
        302,
        headers={"location": "http://169.254.169.254/latest/meta-data/"},
        request=httpx.Request("GET", "https://example.com/"),
    )
    with pytest.raises(PreviewRefused):
        link_preview._next_hop(hop, allow_private=False)


def test_only_the_head_of_a_large_page_is_read(server: str) -> None:
    assert fetch_preview(f"{server}/big", allow_private=True).title == "Big page"
    with pytest.raises(PreviewUnavailable, match="no title"):
        fetch_preview(f"{server}/late-title", allow_private=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/json", "not a web page"),
        ("/gone", "status 410"),
        ("/nothing", "no title"),
    ],
)
def test_what_is_not_a_page_has_no_preview(server: str, path: str, message: str) -> None:
    with pytest.raises(PreviewUnavailable, match=message):
        fetch_preview(f"{server}{path}", allow_private=True)


def test_a_slow_page_times_out(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_preview, "TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(PreviewUnavailable, match="did not answer"):
        fetch_preview(f"{server}/slow", allow_private=True)
    with pytest.raises(PreviewUnavailable, match="did not answer"):
        fetch_preview(f"{server}/drip", allow_private=True)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/admin",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(PreviewRefused, match="private or local"):
        fetch_preview(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/", ""]
)
def test_only_plain_http_links_are_previewed(url: str) -> None:
    with pytest.raises(PreviewRefused):
        fetch_preview(url, allow_private=False)


def test_a_name_that_resolves_anew_to_a_private_address_is_caught(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check sees a public address; the connection then goes to 127.0.0.1 (DNS rebinding).
    monkeypatch.setattr(
        link_preview, "_resolve", lambda host, port: [ipaddress.ip_address("93.184.216.34")]
    )
    with pytest.raises(PreviewRefused, match="leads to a private or local address"):
        fetch_preview(f"{server}/page", allow_private=False)


def test_previews_are_cached_for_ten_minutes(server: str) -> None:
    now = [1000.0]
    cache = PreviewCache(clock=lambda: now[0], size=2)
    url = f"{server}/page?cached"
    before = Pages.hits.get("/page?cached", 0)
    first = link_preview.preview(url, allow_private=True, cache=cache)
    assert link_preview.preview(url, allow_private=True, cache=cache) == first
    assert Pages.hits["/page?cached"] == before + 1
    now[0] += 601
    link_preview.preview(url, allow_private=True, cache=cache)
    assert Pages.hits["/page?cached"] == before + 2


def test_the_cache_is_bounded() -> None:
    cache = PreviewCache(size=2)
    item = link_preview.LinkPreview(url="u", site="s", title="t", description="", image=None)
    for key in ("a", "b", "c"):
        cache.put(key, item)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, item, item)


def test_the_endpoint_previews_and_refuses(
    db: Session,
    session_factory: sessionmaker[Session],
    newsroom: Newsroom,
    tmp_path: Path,
    server: str,
) -> None:
    for site in make_site(db, session_factory, newsroom, tmp_path):
        site.as_(newsroom.author)
        refused = site.client.get("/api/v1/link-preview", params={"url": f"{server}/page"})
        assert refused.status_code == 422
        assert "private or local" in refused.json()["error"]
    for site in make_site(db, session_factory, newsroom, tmp_path, link_preview_allow_private=True):
        site.as_(newsroom.author)
        found = site.client.get("/api/v1/link-preview", params={"url": f"{server}/page"})
        assert found.status_code == 200, found.text
        assert found.json()["title"] == "Twelve lake walks & more"
        failed = site.client.get("/api/v1/link-preview", params={"url": f"{server}/json"})
        assert failed.status_code == 502
