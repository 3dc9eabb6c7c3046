"""Credentials and secrets: API keys, tokens, private keys and passwords pasted into a post.

The patterns are detect-secrets' own (each RegexBasedDetector's ``denylist``), run in memory on
the post; this scanner adds span reporting and a cheap gate so posts without any long token,
key header or password word skip the forty-odd regular expressions entirely.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector

from sixfold.risk.document import Document
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner

CATEGORY = "credential"
_GATE = re.compile(
    r"[A-Za-z0-9_\-+/=.]{16,}|-----BEGIN|pass(?:word|wd|code)|\bpwd\b|\bpin\b|secret|token"
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


@functools.cache
def _detectors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    patterns: list[tuple[str, re.Pattern[str]]] = []
    plugins: dict[str, Any] = get_mapping_from_secret_type_to_class()
    for secret_type, plugin in sorted(plugins.items()):
        if issubclass(plugin, RegexBasedDetector) and plugin.__name__ not in _SKIPPED:
            patterns.extend((secret_type, regex) for regex in plugin().denylist)
    return tuple(patterns)


class SecretScanner(BaseScanner):
    def scan(self, document: Document, context: Context) -> list[Finding]:
        text = document.text
        if not _GATE.search(text):
            return []
        spans: list[tuple[tuple[int, int], str]] = []
        for secret_type, regex in _detectors():
            spans.extend((m.span(), secret_type) for m in regex.finditer(text))
        for secret_type, regex in _EXTRA:
            spans.extend((m.span(), secret_type) for m in regex.finditer(text))
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
