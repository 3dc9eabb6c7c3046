"""The engine: one lexicon index and the registry's scanners, applied to posts.

``check_text`` serves live feedback in the composer (one post, lowest latency); ``check_batch``
serves imports and the command line (many posts, one context, optional per-post dates). Both
use a default engine built once on first use from the shipped registry and lexicons; the engine
is immutable afterwards, so sharing it between threads is safe.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sixfold.risk.document import Document
from sixfold.risk.lexicon import LexiconIndex, builtin_lexicons
from sixfold.risk.model import Context, Finding, Scanner, Verdict
from sixfold.risk.registry import build_scanners, load_registry


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One post of a batch; ``when`` overrides the batch context's posting date."""

    text: str
    when: dt.date | dt.datetime | None = None


class Engine:
    """Runs every configured scanner over a post and lets the policy decide."""

    def __init__(self, scanners: Sequence[Scanner]) -> None:
        self.scanners = tuple(scanners)

    @classmethod
    def from_registry(cls, registry: Path | str | None = None) -> Engine:
        index = LexiconIndex(builtin_lexicons())
        return cls(build_scanners(load_registry(registry), index))

    def findings(self, document: Document, context: Context) -> list[Finding]:
        disabled = context.policy.disabled_scanners
        found: list[Finding] = []
        for scanner in self.scanners:
            if scanner.name not in disabled:
                found.extend(scanner.scan(document, context))
        return found

    def check(self, text: str, context: Context) -> Verdict:
        return context.policy.decide(self.findings(Document(text), context))

    def check_many(self, items: Iterable[str | BatchItem], context: Context) -> list[Verdict]:
        verdicts = []
        for item in items:
            if isinstance(item, str):
                verdicts.append(self.check(item, context))
            else:
                local = context if item.when is None else context.on(item.when)
                verdicts.append(self.check(item.text, local))
        return verdicts


@functools.cache
def default_engine() -> Engine:
    """The engine built from the shipped registry; built once, then shared."""
    return Engine.from_registry()


def check_text(text: str, context: Context | None = None) -> Verdict:
    """Check one post: the call behind live feedback while the author types."""
    return default_engine().check(text, context or Context())


def check_batch(items: Iterable[str | BatchItem], context: Context | None = None) -> list[Verdict]:
    """Check many posts under one context; a BatchItem's date overrides the context's."""
    return default_engine().check_many(items, context or Context())
