"""Link previews: the title, description and image a web page declares about itself.

The composer shows a card for the first link in a post, so the server fetches a URL a person
typed. That is the classic way to probe the inside of a network (SSRF), hence: only http and
https; the host is resolved and EVERY address it resolves to is checked before each request,
including each redirect hop (at most three), for a clear message; the connection itself goes
through `sixfold.outbound`, which checks the address it really connects to (a name that
resolves differently the second time is caught there); no proxy from the environment; 3 seconds
in all; at most 512 KiB read. Private, loopback, link-local and other non-public addresses
are refused unless the installation allows them (`SIXFOLD_LINK_PREVIEW_ALLOW_PRIVATE`, for an
intranet or a test server).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

from sixfold.errors import DomainError, ValidationFailed
from sixfold.outbound import AddressRefused, is_public_address, public_only_client

MAX_BYTES = 512 * 1024
TIMEOUT_SECONDS = 3.0
MAX_REDIRECTS = 3
URL_MAX_CHARS = 2000
CACHE_SECONDS = 600.0
CACHE_SIZE = 256
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "Sixfold link preview (+https://github.com/sixfold)"


class PreviewRefused(ValidationFailed):
    """The URL may not be fetched at all (scheme, credentials, a non-public address)."""


class PreviewUnavailable(DomainError):
    """The page could not be fetched or has nothing to preview; the network's fault."""

    status_code = 502


@dataclass(frozen=True)
class LinkPreview:
    url: str  # where the page was found, after redirects
    site: str
    title: str
    description: str
    image: str | None


class PreviewCache:
    """Recent previews by requested URL; bounded, entries expire after ten minutes.

    One per app (kept on `app.state`), shared by the threads that serve requests.
    """

    def __init__(
        self,
        *,
        seconds: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self._items: OrderedDict[str, tuple[float, LinkPreview]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> LinkPreview | None:
        with self._lock:
            item = self._items.get(url)
            if item is None:
                return None
            if item[0] <= self.clock():
                del self._items[url]
                return None
            self._items.move_to_end(url)
            return item[1]

    def put(self, url: str, preview: LinkPreview) -> None:
        with self._lock:
            self._items[url] = (self.clock() + self.seconds, preview)
            self._items.move_to_end(url)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def preview(url: str, *, allow_private: bool, cache: PreviewCache | None = None) -> LinkPreview:
    """The preview of `url`, from the cache when it was fetched in the last ten minutes."""
    url = url.strip()
    if cache is not None and (found := cache.get(url)) is not None:
        return found
    result = fetch_preview(url, allow_private=allow_private)
    if cache is not None:
        cache.put(url, result)
    return result


def fetch_preview(url: str, *, allow_private: bool) -> LinkPreview:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    target = checked_url(url, allow_private=allow_private)
    try:
        with public_only_client(
            allow_private=allow_private,
            timeout=TIMEOUT_SECONDS,
            headers={"User-Agent": USER_AGENT, "Accept": ", ".join(HTML_TYPES)},
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                with client.stream("GET", target) as response:
                    if not response.is_redirect:
                        return _read_page(response, deadline)
                    target = _next_hop(response, allow_private=allow_private)
                _check_deadline(deadline)
    except AddressRefused:
        # The name resolved anew, to an inside address, between the check and the connection.
        raise PreviewRefused("The link leads to a private or local address.") from None
    except httpx.TimeoutException:
        raise PreviewUnavailable(
            f"The page did not answer within {TIMEOUT_SECONDS:g} seconds."
        ) from None
    except httpx.HTTPError as error:
        raise PreviewUnavailable(
            f"The page could not be fetched ({type(error).__name__})."
        ) from None
    raise PreviewUnavailable(f"The link redirects more than {MAX_REDIRECTS} times.")


def checked_url(url: str, *, allow_private: bool) -> httpx.URL:
    """`url` parsed, if it is one we may fetch; PreviewRefused otherwise."""
    if not url or len(url) > URL_MAX_CHARS:
        raise PreviewRefused(f"Give a link of at most {URL_MAX_CHARS} characters.")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise PreviewRefused("That is not a link.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PreviewRefused("Only http and https links are previewed.")
    if parsed.userinfo:
        raise PreviewRefused("Links with a user name or password are not previewed.")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    for address in _resolve(parsed.host, port):
        if not allow_private and not is_public_address(address):
            raise PreviewRefused(
                f"{parsed.host} is a private or local address; links inside the network are "
                "not previewed."
            )
    return parsed


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise PreviewUnavailable(f"{host} could not be found.") from None
    # A scoped IPv6 address ("fe80::1%eth0") carries its interface after the percent sign.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _next_hop(response: httpx.Response, *, allow_private: bool) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise PreviewUnavailable("The page redirects without saying where.")
    return checked_url(str(response.url.join(location)), allow_private=allow_private)


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise PreviewUnavailable(f"The page did not answer within {TIMEOUT_SECONDS:g} seconds.")


def _read_page(response: httpx.Response, deadline: float) -> LinkPreview:
    if response.status_code != 200:
        raise PreviewUnavailable(f"The page answered with status {response.status_code}.")
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in HTML_TYPES:
        raise PreviewUnavailable(f"The link is not a web page ({kind or 'no content type'}).")
    body = bytearray()
    # Only the head matters, and it comes first: the rest of a large page is never read.
    for chunk in response.iter_bytes():
        body += chunk
        _check_deadline(deadline)
        if len(body) >= MAX_BYTES:
            del body[MAX_BYTES:]
            break
    text = bytes(body).decode(response.charset_encoding or "utf-8", errors="replace")
    return _preview_of(text, response.url)


def _preview_of(html: str, url: httpx.URL) -> LinkPreview:
    parser = _HeadParser()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or parser.title
    description = (
        meta.get("og:description") or meta.get("twitter:description") or meta.get("description")
    )
    if not title and not description:
        raise PreviewUnavailable("The page has no title or description to show.")
    return LinkPreview(
        url=str(url),
        site=url.host,
        title=_clip(title or url.host, 300),
        description=_clip(description or "", 500),
        image=_image_url(meta.get("og:image") or meta.get("twitter:image"), url),
    )


def _image_url(value: str | None, base: httpx.URL) -> str | None:
    if not value:
        return None
    try:
        joined = base.join(value.strip())
    except httpx.InvalidURL:
        return None
    return str(joined) if joined.scheme in ("http", "https") else None


def _clip(text: str, length: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


class _HeadParser(HTMLParser):
    """Collects <title> and the <meta> tags that describe the page."""

    NAMES = frozenset(
        {
            "og:title",
            "og:description",
            "og:image",
            "twitter:title",
            "twitter:description",
            "twitter:image",
            "description",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self._title_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "meta":
            found = {k.lower(): v or "" for k, v in attrs}
            name = (found.get("property") or found.get("name") or "").strip().lower()
            if name in self.NAMES and name not in self.meta and found.get("content"):
                self.meta[name] = found["content"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
