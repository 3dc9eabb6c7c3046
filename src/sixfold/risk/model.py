"""The value types every scanner, the engine and the callers share.

They are frozen dataclasses so a verdict handed to the web composer cannot be changed behind the
engine's back, and so findings can be compared in tests.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sixfold.risk.document import Document
    from sixfold.risk.events import EventRegister
    from sixfold.risk.policy import Policy


class Severity(enum.StrEnum):
    """How much a single finding matters before policy is applied."""

    INFO = "info"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


class VerdictLevel(enum.StrEnum):
    """What should happen to the post as a whole."""

    OK = "ok"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _VERDICT_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.REVIEW: 1, Severity.BLOCK: 2}
_VERDICT_RANK = {VerdictLevel.OK: 0, VerdictLevel.REVIEW: 1, VerdictLevel.BLOCK: 2}


class Location(enum.StrEnum):
    """Which text of the post a finding points into."""

    TEXT = "text"
    ALT_TEXT = "alt_text"  # an image description; ``Finding.image`` says which image


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a scanner noticed, pointing at a span of the ORIGINAL text it was found in.

    ``start`` and ``end`` index the post's text, or, when ``location`` is ``alt_text``, the
    description of image number ``image`` (0-based, in the order the alt texts were given), so
    a page can say "in the image description" and highlight the right words there.
    """

    scanner: str
    category: str
    severity: Severity
    score: float
    start: int
    end: int
    message: str
    location: Location = Location.TEXT
    image: int | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "scanner": self.scanner,
            "category": self.category,
            "severity": self.severity.value,
            "score": round(self.score, 3),
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }
        if self.location is not Location.TEXT:
            data["location"] = self.location.value
            data["image"] = self.image
        return data


@dataclass(frozen=True, slots=True)
class Verdict:
    """The engine's answer for one post."""

    verdict: VerdictLevel
    score: float
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "score": round(self.score, 3),
            "findings": [finding.to_dict() for finding in self.findings],
        }


def _default_policy() -> Policy:
    from sixfold.risk.policy import Policy

    return Policy()


def _default_events() -> EventRegister:
    from sixfold.risk.events import EventRegister

    return EventRegister.builtin()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Context:
    """Everything about a post except its text: when, where, and under which rules."""

    when: dt.datetime = field(default_factory=_now)
    channel: str = ""
    policy: Policy = field(default_factory=_default_policy)
    events: EventRegister = field(default_factory=_default_events)

    @property
    def date(self) -> dt.date:
        return self.when.date()

    def on(self, when: dt.date | dt.datetime) -> Context:
        """The same context at another posting time (used for per-post dates in a batch)."""
        if not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(12, 0), tzinfo=dt.UTC)
        return Context(when=when, channel=self.channel, policy=self.policy, events=self.events)


class Scanner(Protocol):
    """The contract every scanner fulfils; see scanners/ and registry.yaml."""

    name: str

    def scan(self, document: Document, context: Context) -> list[Finding]: ...
