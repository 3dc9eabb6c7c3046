"""Credentials and secrets: API keys, tokens, private keys and passwords pasted into a post.

The patterns are detect-secrets' own (each RegexBasedDetector's ``denylist``), run in memory on
the post; this scanner adds span reporting and a cheap gate so posts without any long token,
key header or password word skip the forty-odd regular expressions entirely. A post that passes
the gate runs only the detectors whose mark (a literal, a word or a long run that every match of
theirs holds) it shows: a post with an AWS key id runs three patterns, not forty.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.lexicon import LexiconIndex
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner

CATEGORY = "credential"
_GATE = re.compile(
    # A run of 16 or more token characters, found from its first character only.
    r"(?<![A-Za-z0-9_\-+/=.])[A-Za-z0-9_\-+/=.]{16}|-----BEGIN|pass(?:word|wd|code)|\bpwd\b|\bpin\b|secret|token"
    r"|api[ _-]?key",
    re.IGNORECASE,
)
# detect-secrets' KeywordDetector expects source code; in prose a password is "password: x" or
# "the password is x".
_PASSWORD = re.compile(
    r"\b(?:password|passwd|pwd|passcode|pin)\s*(?:is|:|=)\s*[\"']?(\S{4,})"
    # Without "is" or ":", only a value that looks like a password (letters and digits mixed).
    r"|\b(?:password|passwd|pwd|passcode)\s+[\"']?((?=\S*\d)(?=\S*[a-zA-Z])\S{6,})",
    re.IGNORECASE,
)
# A format detect-secrets 1.5 does not ship: Google API keys.
_EXTRA = (("Google API Key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),)
# Detectors that find things which are not secrets in a social post.
_SKIPPED = frozenset({"IPPublicDetector"})
# What every match of a detector contains. Most keys are long: a run of at least 24 key
# characters holds every GitHub, GitLab, Stripe, Slack-webhook, SendGrid, Google, Twilio,
# Discord, Telegram, Cloudant, IBM and SoftLayer secret (the shortest, Cloudant's, is 24
# letters). The short ones have a literal: an AWS key id, an Artifactory key, a private key
# header, an npm token, a JSON Web Token's "eyJ", a Slack "xox?-" token, user:password@ in an
# address, a password word. A post with none of these cannot match any detector, so the
# scanner stops there; a detector type not listed (a newer detect-secrets) is used whole.
_KEY_CHARACTER = re.compile(r"[A-Za-z0-9_\-+/=\d]")
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_\-+/=\d])[A-Za-z0-9_\-+/=\d]{24}")
_LONG_TYPES = frozenset(
    {
        "Azure Storage Account access key",
        "Cloudant Credentials",
        "Discord Bot Token",
        "GitHub Token",
        "GitLab Token",
        "IBM COS HMAC Credentials",
        "IBM Cloud IAM Key",
        "Mailchimp Access Key",
        "OpenAI Token",
        "PyPI Token",
        "SendGrid API Key",
        "SoftLayer Credentials",
        "Square OAuth Secret",
        "Stripe Access Key",
        "Telegram Bot Token",
        "Twilio API Key",
    }
)
# Each alternative starts with a rare character, so the search skips along quickly.
_SHORT_ANCHORS = {
    "AWS Access Key": r"A(?:3T|BIA|CCA|KIA|SIA)",
    "Artifactory Credentials": r"A(?:KC|P[\dA-F])",
    "Basic Auth Credentials": r"://[^:/?#\[\]@!$&'()*+,;=\s]+:[^:/?#\[\]@!$&'()*+,;=\s]+@",
    "JSON Web Token": r"J(?<=eyJ)",
    "NPM tokens": r"_authToken=",
    "Private Key": r"BEGIN|PuTTY-User-Key-File-2",
}
# Read in the folded (lower-case) view: Slack's "xox?-" tokens and password words.
_FOLDED_TYPES = frozenset({"Slack Token"})
_FOLDED_ANCHORS = re.compile(
    r"xox[abposr]-|p(?:in(?<!\wpin)|wd(?<!\wpwd)|ass(?:word(?<!\wpassword)"
    r"|wd(?<!\wpasswd)|code(?<!\wpasscode)))"
)


# What every match of each detector type's patterns holds, read from the patterns. A post that
# passes the scanner's gate runs only the detectors whose mark it shows; a type not listed here
# (a newer detect-secrets) always runs.
# Case-sensitive patterns: one of these literals.
_LITERAL_MARKS = {
    "AWS Access Key": ("A3T", "ABIA", "ACCA", "AKIA", "ASIA"),  # and "aws", below
    "Artifactory Credentials": ("AKC", "AP"),
    "Azure Storage Account access key": ("AccountKey=",),
    "Basic Auth Credentials": ("://",),
    "JSON Web Token": ("eyJ",),
    "NPM tokens": ("_authToken=",),
    "Private Key": ("BEGIN", "PuTTY-User-Key-File-2"),
    "Square OAuth Secret": ("sq0csp-",),  # its key characters include a backslash
}
# Case-blind patterns: one of these words, searched case-blind too (such a pattern matches
# "K", the Kelvin sign, for "k", so a run of key characters is no mark for it).
_WORD_MARKS = {
    "AWS Access Key": ("aws",),
    "Cloudant Credentials": ("cl",),
    "IBM COS HMAC Credentials": ("secret",),
    "IBM Cloud IAM Key": ("key", "pwd", "pass", "token"),
    "Slack Token": ("xox", "hooks"),
    "SoftLayer Credentials": ("sl", "softlayer"),
}
# Case-sensitive patterns made of key characters only: a run of 24 or more (_LONG_RUN).
_RUN_MARKED = frozenset(
    {
        "Discord Bot Token",
        "GitHub Token",
        "GitLab Token",
        "Mailchimp Access Key",
        "OpenAI Token",
        "PyPI Token",
        "SendGrid API Key",
        "Stripe Access Key",
        "Telegram Bot Token",
        "Twilio API Key",
    }
)
# Every password phrase holds one of these words, read as _PASSWORD reads them.
_PASSWORD_MARK = re.compile(r"pass|pwd|pin", re.IGNORECASE)
_GOOGLE_MARK = "AIza"


@functools.cache
def _by_type() -> dict[str, tuple[re.Pattern[str], ...]]:
    by_type: dict[str, list[re.Pattern[str]]] = {}
    for secret_type, regex in _detectors():
        by_type.setdefault(secret_type, []).append(regex)
    return {secret_type: tuple(patterns) for secret_type, patterns in by_type.items()}


@functools.cache
def _word_marks() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (secret_type, re.compile("|".join(words), re.IGNORECASE))
        for secret_type, words in _WORD_MARKS.items()
    )


@functools.cache
def _unmarked() -> frozenset[str]:
    marked = {*_LITERAL_MARKS, *_WORD_MARKS, *_RUN_MARKED}
    return frozenset(t for t in _by_type() if t not in marked)


def _marked_types(text: str) -> set[str]:
    """The detector types whose mark the text shows, and those without a known mark."""
    types = set(_unmarked())
    for secret_type, literals in _LITERAL_MARKS.items():
        if any(literal in text for literal in literals):
            types.add(secret_type)
    for secret_type, words in _word_marks():
        if secret_type not in types and words.search(text):
            types.add(secret_type)
    if _LONG_RUN.search(text):
        types |= _RUN_MARKED
    return types


@functools.cache
def _detectors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    patterns: list[tuple[str, re.Pattern[str]]] = []
    plugins: dict[str, Any] = get_mapping_from_secret_type_to_class()
    for secret_type, plugin in sorted(plugins.items()):
        if issubclass(plugin, RegexBasedDetector) and plugin.__name__ not in _SKIPPED:
            patterns.extend((secret_type, regex) for regex in plugin().denylist)
    return tuple(patterns)


@functools.cache
def _short_anchors() -> re.Pattern[str]:
    """The literal anchors, plus any detector whose type is not described above."""
    parts = set(_SHORT_ANCHORS.values())
    for secret_type, regex in _detectors():
        described = _LONG_TYPES | _FOLDED_TYPES | frozenset(_SHORT_ANCHORS)
        if secret_type not in described:
            flags = "(?i:" if regex.flags & re.IGNORECASE else "(?:"
            parts.add(flags + regex.pattern + ")")
    return re.compile("|".join(sorted(parts)))


def may_hold_secret(document: Document) -> bool:
    """Whether any detector, the Google key pattern or a password phrase could match."""
    return bool(
        _LONG_RUN.search(document.text)
        or _short_anchors().search(document.text)
        or _FOLDED_ANCHORS.search(document.folded.text)
    )


class SecretScanner(BaseScanner):
    def __init__(self, *, name: str, index: LexiconIndex, options: Mapping[str, Any]) -> None:
        super().__init__(name=name, index=index, options=options)
        self.gate = Gate(
            original=(_short_anchors(),),
            folded=(_FOLDED_ANCHORS,),
            runs=(("original", _KEY_CHARACTER, 24),),
        )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        text = document.text
        if not _GATE.search(text) or not may_hold_secret(document):
            return []
        spans = _detected(text)
        if _GOOGLE_MARK in text:
            for secret_type, regex in _EXTRA:
                spans.extend((m.span(), secret_type) for m in regex.finditer(text))
        if _PASSWORD_MARK.search(text):
            for match in _PASSWORD.finditer(text):
                group = 1 if match.group(1) is not None else 2
                spans.append((match.span(group), "Password"))
        return [self._finding(span, kind) for span, kind in _merge(spans)]

    def _finding(self, span: tuple[int, int], kind: str) -> Finding:
        return self.finding(
            category=CATEGORY,
            severity=Severity.BLOCK,
            score=0.97,
            span=span,
            message=f"this looks like a secret ({kind}); anyone who sees the post can use it, "
            "so remove it and have it revoked.",
        )


def _detected(text: str) -> list[tuple[tuple[int, int], str]]:
    """The detectors' matches, from the detectors whose mark the text shows."""
    by_type = _by_type()
    spans: list[tuple[tuple[int, int], str]] = []
    for secret_type in _marked_types(text):
        for regex in by_type.get(secret_type, ()):
            spans.extend((m.span(), secret_type) for m in regex.finditer(text))
    return spans


def _merge(spans: list[tuple[tuple[int, int], str]]) -> list[tuple[tuple[int, int], str]]:
    """One finding per overlapping group of matches, keeping the first detector's name."""
    merged: list[tuple[tuple[int, int], str]] = []
    for (start, end), kind in sorted(spans):
        if merged and start < merged[-1][0][1]:
            (first, last), first_kind = merged[-1]
            merged[-1] = ((first, max(last, end)), first_kind)
        else:
            merged.append(((start, end), kind))
    return merged
