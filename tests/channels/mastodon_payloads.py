"""The recorded Mastodon payloads (payloads/mastodon/, sources in its README) and what
Mastodon makes of a text, for the fake server in mastodon_factory.py."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads" / "mastodon"
RECORDED_HOST = "https://social.example"
DOMAIN = "social.example"  # LOCAL_DOMAIN; the web host is the fake's own address
_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"]*[^\s<>\".,;:!?)'])"
    r"|(?<![=/\w])@(?P<user>\w+)(?:@(?P<domain>[\w.-]+\w))?"
    r"|(?<![=/\w&])#(?P<tag>\w+)"
)


def payload(name: str, base: str = RECORDED_HOST) -> Any:
    """A recorded payload, its links pointed at `base` (the running fake)."""
    return json.loads((PAYLOADS / name).read_text().replace(RECORDED_HOST, base))


def error_payload(name: str) -> tuple[int, dict[str, Any]]:
    entry = json.loads((PAYLOADS / "errors.json").read_text())[name]
    return int(entry["status"]), dict(entry["body"])


def timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def render(text: str, base: str) -> tuple[str, list[dict[str, str]], list[dict[str, str]]]:
    """Mastodon's TextFormatter: escaped text, linked URLs, mentions and hashtags,
    paragraphs at blank lines and <br /> at single line breaks."""
    mentions: list[dict[str, str]] = []
    tags: list[dict[str, str]] = []
    out, last = [], 0
    for match in _TOKEN.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        last = match.end()
        if match["url"]:
            out.append(_link(match["url"]))
        elif match["user"]:
            out.append(_mention(match["user"], match["domain"], base, mentions))
        else:
            url = f"{base}/tags/{match['tag']}"
            tags.append({"name": match["tag"], "url": url})
            out.append(
                f'<a href="{url}" class="mention hashtag" rel="tag">'
                f"#<span>{match['tag']}</span></a>"
            )
    out.append(html.escape(text[last:]))
    paragraphs = re.split(r"\n\n+", "".join(out).strip())
    content = "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)
    return content, mentions, tags


def _mention(user: str, domain: str | None, base: str, mentions: list[dict[str, str]]) -> str:
    local = domain in (None, DOMAIN)
    url = f"{base}/@{user}" if local else f"https://{domain}/@{user}"
    acct = user if local else f"{user}@{domain}"
    mentions.append({"id": str(abs(hash(acct))), "username": user, "url": url, "acct": acct})
    return (
        f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
        f"@<span>{user}</span></a></span>"
    )


def _link(url: str) -> str:
    prefix = re.match(r"https?://(www\.)?", url)
    start = prefix.end() if prefix else 0
    shown, hidden = url[start : start + 30], url[start + 30 :]
    kind = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer">'
        f'<span class="invisible">{html.escape(url[:start])}</span>'
        f'<span class="{kind}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )
