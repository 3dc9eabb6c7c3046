"""Links and text hygiene.

Links: a link whose visible text names another domain, shortened links (readers cannot see where
they lead), raw IP addresses, punycode or non-Latin host names (homograph attacks), credentials in
the address, host names built like phishing ("paypa1-secure", "brand-support.co/login") and the
top-level domains that abuse reports rank highest ask for review; with a policy allow-list, other
domains are noted. Hygiene (all caps, "!!!!", broken hashtags) is info only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from importlib import resources

import yaml

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, quote

_SCHEME_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]]+")
_BARE_URL = re.compile(
    r"(?i)(?<![@\w./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+([a-z]{2,})(?![\w@-])(?:/[^\s<>\"']*)?"
)
_MARKDOWN = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_HTML = re.compile(r"(?i)<a\s[^>]*href=[\"']([^\"']+)[\"'][^>]*>([^<]+)</a>")
_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
# Phishing kits dress a host name up with account words ("secure", "login", "verify") joined by
# hyphens, or swap letters for lookalike digits ("paypa1", "g00gle").
_PHISHY_WORD = re.compile(
    r"(?:^|[.-])(?:secure|security|login|log-in|signin|sign-in|verify|verification|account|"
    r"accounts|update|support|billing|wallet|auth|password|unlock|recover)(?:[.-]|$)"
)
# "(?<![a-z])": a run of letters is tried from its start only (from every letter of it, a long
# host name took time growing with the square of its length).
_DIGIT_FOR_LETTER = re.compile(r"[a-z][015][a-z]|(?<![a-z])[a-z]{3,}[01]\b|\b[01][a-z]{3,}")
_CACHED_TOKEN = 256
_LOOKS_LIKE_DOMAIN = re.compile(r"(?i)\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b")
_SHOUTING_MIN_LETTERS = 20
_SHOUTING_RATIO = 0.8
_LETTER = re.compile(r"[^\W\d_]")
_ASCII_SMALL = b"abcdefghijklmnopqrstuvwxyz"
# Every capital letter, and more (letters of scripts with no case): the gate's count for
# shouting, cheap to tabulate for each character.
_NOT_LOWER = re.compile(r"(?![a-z\u00df-\u00ff\u03ac-\u03ce\u0430-\u045f])[^\W\d_]")
_PUNCTUATION = re.compile(r"[!?]{3,}|\.{4,}")
# The same, loosened to start with one character the search can skip to (see batch.py).
_PUNCTUATION_GATE = re.compile(r"[!?.](?=[!?.])(?:(?<=[!?])[!?]{2}|(?<=\.)\.{3})")
_BROKEN_TAG_GATE = re.compile(r"#(?:\s+\w|\w+['’-]\w|\d+(?![\w'’-]))")
_BROKEN_TAG = re.compile(r"#\s+\w+|#\w+['’-]\w+|(?<!\w)#\d+(?![\w'’-])")


@functools.cache
def _domains() -> dict[str, frozenset[str]]:
    text = (resources.files("sixfold.risk") / "domains.yaml").read_text(encoding="utf-8")
    return {key: frozenset(values) for key, values in yaml.safe_load(text).items()}


def host_of(url: str) -> tuple[str, bool]:
    """The lower-cased host of a link and whether the address carries user credentials."""
    rest = re.sub(r"(?i)^[a-z]+://", "", url)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    has_userinfo = "@" in authority
    host = authority.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".").lower()
    return host, has_userinfo


def _within(host: str, domains: frozenset[str]) -> bool:
    """Whether host is one of the domains or a subdomain of one (a set lookup per label)."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def _link_gate() -> re.Pattern[str]:
    """Anything a link finding needs: an address with a scheme or www., a labelled link, or a
    bare domain ending in one of the top-level domains read without a scheme."""
    tlds = "|".join(sorted(map(re.escape, _domains()["bare_link_tlds"]), key=len, reverse=True))
    # Every alternative starts with a punctuation mark, which the search can skip to quickly;
    # a full stop, the commonest, is given up at once unless a letter follows it (every
    # top-level domain starts with one), before the long list of domains is tried.
    return re.compile(rf"(?i)://|\]\(|<a\s|\.(?:(?<=www\.)|(?=[a-z])(?:{tlds})(?![\w@-]))")


class LinkScanner(BaseScanner):
    gate = Gate(original=(_link_gate(),), across=(("original", "<[aA]", ""),))

    def scan(self, document: Document, context: Context) -> list[Finding]:
        text = document.text
        if "." not in text:
            return []
        findings = []
        if "](" in text or "<a" in text or "<A" in text:
            labelled = (self._mismatch(document, *m) for m in _labelled_links(text))
            findings = [f for f in labelled if f is not None]
        allowed = _allowed(context.policy.allowed_domains)
        for span, (severity, why) in _judged_links(text, allowed):
            findings.append(self._finding(document, span, severity, why))
        return findings

    def _finding(
        self, doc: Document, span: tuple[int, int], severity: Severity, why: str
    ) -> Finding:
        return self.finding(
            category="link",
            severity=severity,
            score=0.6 if severity is Severity.REVIEW else 0.2,
            span=span,
            message=f"the link {quote(doc, span)} {why}.",
        )

    def _mismatch(
        self, doc: Document, span: tuple[int, int], label: str, url: str
    ) -> Finding | None:
        shown = _LOOKS_LIKE_DOMAIN.search(label)
        if shown is None:
            return None
        shown_host, _ = host_of(shown.group(0))
        target, _ = host_of(url)
        if _within(target, frozenset({shown_host.removeprefix("www.")})):
            return None
        return self._finding(
            doc, span, Severity.REVIEW, f"shows '{shown_host}' but leads to '{target}'"
        )


def _judged_links(
    text: str, allowed: frozenset[str]
) -> list[tuple[tuple[int, int], tuple[Severity, str]]]:
    """The links of a text that call for a finding, with their judgement: addresses with a
    scheme or www. first, then bare domains, each in order.

    No address crosses white space, so the text is read token by token (white space as
    ``str.split`` and the patterns' ``\\s`` both define it), and only tokens with a dot or a
    colon can hold one. The same tokens ("example.com/new", "online.") recur in post after post,
    so each token's judgement is remembered."""
    schemed: list[tuple[tuple[int, int], tuple[Severity, str]]] = []
    bare: list[tuple[tuple[int, int], tuple[Severity, str]]] = []
    cursor = 0
    for token in text.split():
        if "." not in token and ":" not in token:
            continue
        # A token with a dot or colon cannot lie inside a token without one, so the first
        # occurrence after the previous such token is this one.
        start = text.find(token, cursor)
        cursor = start + len(token)
        # The cache keeps what it is given: a long token (a pasted blob) is judged without it.
        judge = _judged_token if len(token) <= _CACHED_TOKEN else _judged_token.__wrapped__
        judged = judge(token, allowed)
        if judged is not None:
            for found, links in zip(judged, (schemed, bare), strict=True):
                links.extend(((start + s, start + e), verdict) for s, e, verdict in found)
    return schemed + bare


_Judged = tuple[tuple[int, int, tuple[Severity, str]], ...]


@functools.lru_cache(maxsize=8192)
def _judged_token(token: str, allowed: frozenset[str]) -> tuple[_Judged, _Judged] | None:
    """The links of one token that call for a finding, as (start, end, judgement), with a
    scheme and bare; None if none."""
    schemed, bare = _token_links(token)
    judged = tuple(
        tuple((s, e, verdict) for s, e, url in links if (verdict := _judge(url, allowed)))
        for links in (schemed, bare)
    )
    return (judged[0], judged[1]) if judged[0] or judged[1] else None


def _token_links(token: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """The links in one token, as (start, end, address), with a scheme and bare. A bare domain
    inside an address with a scheme is that address, not another link."""
    schemed = []
    for match in _SCHEME_URL.finditer(token):
        url = match.group(0).rstrip(".,!?;:")
        schemed.append((match.start(), match.start() + len(url), url))
    tlds = _domains()["bare_link_tlds"]
    bare = []
    for match in _BARE_URL.finditer(token):
        if match.group(1).lower() not in tlds:
            continue
        if any(s <= match.start() < e for s, e, _ in schemed):
            continue
        url = match.group(0).rstrip(".,!?;:")
        bare.append((match.start(), match.start() + len(url), url))
    return schemed, bare


def _labelled_links(text: str) -> Iterator[tuple[tuple[int, int], str, str]]:
    if "](" in text:
        for match in _MARKDOWN.finditer(text):
            yield match.span(), match.group(1), match.group(2)
    if "<a" in text or "<A" in text:
        for match in _HTML.finditer(text):
            yield match.span(), match.group(2), match.group(1)


@functools.lru_cache(maxsize=64)
def _allowed(domains: tuple[str, ...]) -> frozenset[str]:
    """A policy's allowed domains, lower-cased once per policy rather than once per post."""
    return frozenset(d.lower() for d in domains)


# The same few addresses (the organisation's own) come back in post after post.
@functools.lru_cache(maxsize=4096)
def _judge(url: str, allowed: frozenset[str]) -> tuple[Severity, str] | None:
    host, has_userinfo = host_of(url)
    domains = _domains()
    tld = host.rsplit(".", 1)[-1]
    if has_userinfo:
        return Severity.REVIEW, "hides its real destination behind a user name"
    if _IP.match(host):
        return Severity.REVIEW, "points at a bare IP address, a common phishing sign"
    if "xn--" in host or not host.isascii():
        return Severity.REVIEW, "uses non-Latin letters in the domain, which can imitate another"
    if tld in domains["suspicious_tlds"] and not _within(host, allowed):
        return Severity.REVIEW, f"uses '.{tld}', a top-level domain heavily used for abuse"
    if _within(host, domains["shorteners"]):
        return Severity.REVIEW, "is shortened, so readers cannot see where it leads"
    if not _within(host, allowed) and _looks_phishy(host):
        return Severity.REVIEW, "has an address built like a phishing site's"
    if allowed and not _within(host, allowed):
        return Severity.INFO, "goes to a domain that is not on your organisation's list"
    return None


def _looks_phishy(host: str) -> bool:
    name = host.rsplit(".", 1)[0]  # the part the attacker chose, without the top-level domain
    if "-" in name and _PHISHY_WORD.search(name):
        return True
    return bool(_DIGIT_FOR_LETTER.search(name))


def _may_shout(text: str) -> bool:
    """False when small ASCII letters alone make up more than a fifth of the text, so they are
    more than a fifth of its letters and the text cannot be four-fifths capitals. Counting
    them in the UTF-8 bytes is cheap; other scripts' letters are counted only when needed."""
    encoded = text.encode("utf-8", "surrogatepass")
    small = len(encoded) - len(encoded.translate(None, _ASCII_SMALL))
    return small <= (1 - _SHOUTING_RATIO) * len(text) + 1  # the 1 absorbs rounding


def _shouting(text: str) -> bool:
    """Four in five of at least 20 letters with a case are capitals. Letters of scripts with
    no case (Japanese, Chinese, Korean, Arabic) neither shout nor speak softly."""
    letters = _LETTER.findall(text)
    upper = sum(map(str.isupper, letters))
    cased = upper + sum(map(str.islower, letters))
    return cased >= _SHOUTING_MIN_LETTERS and upper >= _SHOUTING_RATIO * cased


class HygieneScanner(BaseScanner):
    # Shouting needs 20 letters, four in five of them capitals: at least 16 capitals.
    gate = Gate(
        original=(_PUNCTUATION_GATE, _BROKEN_TAG_GATE),
        counts=(("original", _NOT_LOWER, 16),),
        across=(("original", "#", r"\w"),),  # "# tag"
    )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        text = document.text
        findings = []
        if _may_shout(text) and _shouting(text):
            findings.append(
                self._info(document, (0, len(text)), "is mostly capitals, which reads as shouting")
            )
        # Every run of excessive punctuation holds one of these pairs.
        if "!!" in text or "??" in text or "!?" in text or "?!" in text or "...." in text:
            for match in _PUNCTUATION.finditer(text):
                findings.append(self._info(document, match.span(), "is excessive punctuation"))
        # The gate's looser pattern starts with "#", which the search skips to quickly.
        if "#" in text and _BROKEN_TAG_GATE.search(text):
            for match in _BROKEN_TAG.finditer(text):
                findings.append(
                    self._info(
                        document,
                        match.span(),
                        "is a broken hashtag: only "
                        "letters, digits and _ join a tag, and not digits alone",
                    )
                )
        return findings

    def _info(self, doc: Document, span: tuple[int, int], what: str) -> Finding:
        return self.finding(
            category="hygiene",
            severity=Severity.INFO,
            score=0.1,
            span=span,
            message=f"{quote(doc, span)} {what}.",
        )
