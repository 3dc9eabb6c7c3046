"""A text cut into pieces at the edges of the risk findings, for highlighting on a page.

Offsets count Unicode code points, as Python strings do; the composer's script counts the
same way (`Array.from(text)`), so the page and the live feedback mark the same characters.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SEVERITY_RANK = {"info": 0, "review": 1, "block": 2}


@dataclass(frozen=True)
class Segment:
    text: str
    severity: str | None  # the strongest finding over this piece; None: nothing found
    messages: tuple[str, ...]


def segments(text: str, findings: Iterable[Mapping[str, Any]]) -> list[Segment]:
    spans = [
        (max(0, int(f["start"])), min(len(text), int(f["end"])), f)
        for f in findings
        # A finding in an image description points into that description, not the text.
        if int(f["end"]) > int(f["start"]) and f.get("location", "text") == "text"
    ]
    edges = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    pieces = []
    for start, end in itertools.pairwise(edges):
        if start >= end:
            continue
        over = [f for s, e, f in spans if s <= start and end <= e]
        severity = max((str(f["severity"]) for f in over), key=_rank, default=None)
        messages = tuple(dict.fromkeys(str(f["message"]) for f in over))
        pieces.append(Segment(text[start:end], severity, messages))
    return pieces


def _rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 0)
