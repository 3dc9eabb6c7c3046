"""The engine: one lexicon index and the registry's scanners, applied to posts.

``check_text`` serves live feedback in the composer (one post, lowest latency); ``check_batch``
serves imports and the command line (many posts, one context, optional per-post dates). Both
use a default engine built once on first use from the shipped registry and lexicons; the engine
is immutable afterwards, so sharing it between threads is safe.

A post may carry the descriptions (alt texts) of its images. They are read together with the
text, and a finding made in one of them says so (``Finding.location``) and points into it.

The batch path gives the same verdicts as checking each post alone, faster: see batch.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sixfold.risk.batch import BatchPlanner
from sixfold.risk.document import Document
from sixfold.risk.lexicon import LexiconIndex, builtin_lexicons
from sixfold.risk.model import Context, Finding, Location, Scanner, Verdict, VerdictLevel
from sixfold.risk.registry import build_scanners, load_registry

# A post of a batch as the engine keys it: its text alone when it has no images and no date of
# its own (most posts; a string hashes faster than a tuple), else (text, descriptions, date).
# The last part is the posting time's offset from UTC: two aware times of the same instant in
# different zones compare equal, yet may fall on different posting days.
_Key = str | tuple[str, tuple[str, ...], dt.date | dt.datetime | None, dt.timedelta | None]

# What a post with no findings gets; verdicts are immutable, so one object serves them all.
CLEAN = Verdict(verdict=VerdictLevel.OK, score=0.0, findings=())


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One post of a batch; ``when`` overrides the batch context's posting date and
    ``alt_texts`` are the descriptions of the post's images, in order."""

    text: str
    when: dt.date | dt.datetime | None = None
    alt_texts: tuple[str, ...] = ()


class Engine:
    """Runs every configured scanner over a post and lets the policy decide."""

    def __init__(self, scanners: Sequence[Scanner], index: LexiconIndex | None = None) -> None:
        self.scanners = tuple(scanners)
        self._planner = BatchPlanner(self.scanners, index)

    @classmethod
    def from_registry(cls, registry: Path | str | None = None) -> Engine:
        index = LexiconIndex(builtin_lexicons())
        return cls(build_scanners(load_registry(registry), index), index)

    def findings(
        self, document: Document, context: Context, only: Sequence[Scanner] | None = None
    ) -> list[Finding]:
        """Every finding of the scanners (or of ``only`` those), pointing into the part of the
        post (text or image description) it was found in."""
        disabled = context.policy.disabled_scanners
        found: list[Finding] = []
        for scanner in self.scanners if only is None else only:
            if scanner.name not in disabled:
                found.extend(scanner.scan(document, context))
        return _located(document, found) if document.has_images else found

    def check(self, text: str, context: Context, *, alt_texts: Sequence[str] = ()) -> Verdict:
        document = Document(text, alt_texts)
        return context.policy.decide(self.findings(document, context))

    def check_many(self, items: Iterable[str | BatchItem], context: Context) -> list[Verdict]:
        """Verdicts for many posts, equal to checking each alone. Identical posts (same text,
        images and date) are checked once; cheap passes over the whole batch decide which
        scanners can find anything in each post, and only those run (see batch.py)."""
        keys = [item if isinstance(item, str) else _key(item) for item in items]
        unique = list(dict.fromkeys(keys))
        with _collector_paused():
            verdicts = self._check_unique(unique, context)
        if len(unique) == len(keys):
            return verdicts
        by_key = dict(zip(unique, verdicts, strict=True))
        return [by_key[key] for key in keys]

    def _check_unique(self, posts: list[_Key], context: Context) -> list[Verdict]:
        today = context.date
        texts = [p if isinstance(p, str) else Document.joined(p[0], p[1]) for p in posts]
        days = [today if isinstance(p, str) or p[2] is None else _day(p[2]) for p in posts]
        plan, built = self._planner.plan(texts, days, context)
        verdicts = [CLEAN] * len(posts)
        # compress() picks the posts with a non-empty selection without a Python-level loop
        # over the many posts that have none.
        for i in itertools.compress(range(len(posts)), plan):
            verdicts[i] = self._verdict(posts[i], plan[i], built.get(i), context)
        return verdicts

    def _verdict(
        self, post: _Key, selected: Sequence[Scanner], built: Document | None, context: Context
    ) -> Verdict:
        text, alts, when = (post, (), None) if isinstance(post, str) else post[:3]
        local = context if when is None else context.on(when)
        document = built if built is not None and not alts else Document(text, alts)
        return local.policy.decide(self.findings(document, local, selected))


class _CollectorPause:
    """A batch makes and drops hundreds of thousands of small objects, none in a cycle;
    Python's cycle collector would walk them every few hundred allocations (a tenth of the
    batch's time). Reference counting still frees them; cycles wait until the batch ends.

    The collector's switch is one for the whole process, so batches running in several
    threads share one pause: the first to start turns the collector off, the last to end
    turns it back on if it was on before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._batches == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                if self._batches == 0 and self._was_enabled:
                    gc.enable()


_collector_paused = _CollectorPause()


def _key(item: BatchItem) -> _Key:
    if not item.alt_texts and item.when is None:
        return item.text
    offset = item.when.utcoffset() if isinstance(item.when, dt.datetime) else None
    return (item.text, item.alt_texts, item.when, offset)


def _day(when: dt.date | dt.datetime) -> dt.date:
    return when.date() if isinstance(when, dt.datetime) else when


def _located(document: Document, findings: list[Finding]) -> list[Finding]:
    located = []
    for finding in findings:
        part, start, end = document.locate(finding.start, finding.end)
        if part == 0:
            located.append(dataclasses.replace(finding, start=start, end=end))
        else:
            located.append(
                dataclasses.replace(
                    finding, start=start, end=end, location=Location.ALT_TEXT, image=part - 1
                )
            )
    return located


@functools.cache
def default_engine() -> Engine:
    """The engine built from the shipped registry; built once, then shared."""
    return Engine.from_registry()


def check_text(
    text: str, context: Context | None = None, *, alt_texts: Sequence[str] = ()
) -> Verdict:
    """Check one post (and its image descriptions): the call behind live feedback while the
    author types."""
    return default_engine().check(text, context or Context(), alt_texts=alt_texts)


def check_batch(items: Iterable[str | BatchItem], context: Context | None = None) -> list[Verdict]:
    """Check many posts under one context; a BatchItem's date overrides the context's."""
    return default_engine().check_many(items, context or Context())
