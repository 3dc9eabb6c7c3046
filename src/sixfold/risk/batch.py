"""The batch path: decide for a whole batch at once which scanners can find anything in each post.

Why batches were slow: the engine built every post's views and ran all scanners on it in
Python, about 130 µs a post, although nine posts in ten have nothing to find. Most of that time
went on per-post regular-expression searches (about fourteen a post), the lexicon look-up with a
Hit object per common word ("you", "shop"), the profanity model word by word, and the scanners'
own set-up, for posts that in the end had no finding at all.

Every scanner therefore declares a ``Gate``: the conditions without which it cannot report
anything (a word of one of its lexicons, a pattern, enough digits or capitals, a keyword of an
event active that day, the profanity model's score). The planner checks the gates of every post
with a few passes over the whole batch joined into one string: one Aho–Corasick pass over the
gate lexicons, one search per pattern, digit and capital counts with numpy, the register's and
the policy's automata, and the profanity model for all posts as array operations. Only the
scanners whose gate opened then run on a post; a post with none gets the clean verdict without
a document ever being built.

These passes first run over the batch's distinct words rather than its posts (wordplan.py): a
post is planned from what its words showed, and only the posts that their words cannot decide
are read whole here.

A gate may open for a post that has nothing to find (the scanner then finds nothing); it must
never stay shut for one that has. Each is therefore looser than its scanner: a lexicon gate
counts a term even inside a longer word when the post could join words (hashtags, spelled-out
letters), and non-ASCII posts open the digit and capital gates. Tests compare the batch path
with checking each post alone.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sixfold.risk.charcounts import Codes, counts, posts_with_run, spelled_out_posts
from sixfold.risk.document import (
    Document,
    deleet_text,
    fold_texts,
)
from sixfold.risk.gates import CharacterCount, Gate

if TYPE_CHECKING:
    from sixfold.risk.events import EventRegister
    from sixfold.risk.lexicon import LexiconIndex
    from sixfold.risk.model import Context, Scanner

# Joins the original and folded texts: no pattern a gate uses can match it or across it.
SEPARATOR = "\x00"
# Joins the squeezed texts; "QQ" is a word for the profanity model's tokeniser that no squeezed
# text can contain, because squeezed texts are lower case.
_SQUEEZED_SEPARATOR = "\x00QQ\x00"
_MARKER = "QQ"
# Probabilities computed in bulk agree with the per-post ones to rounding error; the gate opens
# a little early so no post at the threshold is missed.
_MODEL_MARGIN = 1e-6
_REGISTERS_KEPT = 8
# Inside a lower-case hashtag only terms this long may match mid-word (lexicon._Hashtags).
_MIN_INNER_TAG = 7


class BatchPlanner:
    """Turns the scanners' gates into one plan per batch: which scanners run on which post."""

    def __init__(self, scanners: Sequence[Scanner], index: LexiconIndex | None) -> None:
        self.scanners = tuple(scanners)
        self.gates: tuple[Gate | None, ...] = tuple(getattr(s, "gate", None) for s in scanners)
        self.everything = (1 << len(scanners)) - 1
        self.ungated = sum(1 << i for i, gate in enumerate(self.gates) if gate is None)
        self._by_lexicon: dict[str, int] = {}
        self._by_pair: dict[str, int] = {}
        self._patterns: dict[tuple[str, re.Pattern[str]], int] = {}
        for bit, gate in self._bits():
            for name in gate.lexicons:
                self._by_lexicon[name] = self._by_lexicon.get(name, 0) | bit
            for name in gate.pairs:
                self._by_pair[name] = self._by_pair.get(name, 0) | bit
            for view, patterns in (
                ("squeezed", gate.squeezed),
                ("folded", gate.folded),
                ("original", gate.original),
            ):
                for pattern in patterns:
                    key = (view, pattern)
                    self._patterns[key] = self._patterns.get(key, 0) | bit
        self.events_mask = self._mask(lambda g: g.events)
        self.terms_mask = self._mask(lambda g: g.confidential_terms)
        self._tables: dict[re.Pattern[str], npt.NDArray[np.bool_]] = {}
        self._model_skips = frozenset(name for _, g in self._bits() for name in g.model_skips)
        names = {*self._by_lexicon, *self._by_pair, *self._model_skips}
        self._automaton = index.automaton(names) if index is not None and names else None
        self._selections: dict[int, tuple[Scanner, ...]] = {0: ()}
        from sixfold.risk.wordplan import WordPlanner  # which builds on this module

        self._words = WordPlanner(self, index)

    def _bits(self) -> list[tuple[int, Gate]]:
        return [(1 << i, gate) for i, gate in enumerate(self.gates) if gate is not None]

    def _mask(self, wanted: Any) -> int:
        return sum(bit for bit, gate in self._bits() if wanted(gate))

    def plan(
        self, texts: Sequence[str], days: Sequence[dt.date], context: Context
    ) -> tuple[list[tuple[Scanner, ...]], dict[int, Document]]:
        """For each text, the scanners that may find something in it, in registry order; and
        the documents the plan had to build (by position), for the scanners to reuse."""
        masks = [self.ungated] * len(texts)
        documents: dict[int, Document] = {}
        if self.ungated != self.everything and texts:
            whole, unscored = self._words.plan(texts, days, context, masks)
            if unscored:
                scores = [0] * len(unscored)
                subset = [texts[i] for i in unscored]
                _ModelPass(self, subset, [days[i] for i in unscored], context, scores).run()
                for k, i in enumerate(unscored):
                    masks[i] |= scores[k]
            if whole:
                # The posts whose words alone could not decide are planned on their text.
                chosen = [self.ungated] * len(whole)
                subset = [texts[i] for i in whole]
                planning = _Pass(self, subset, [days[i] for i in whole], context, chosen)
                planning.run()
                for k, i in enumerate(whole):
                    masks[i] = chosen[k]
                documents = {whole[k]: d for k, d in planning.documents.items()}
        return [self._selection(mask) for mask in masks], documents

    def _register_automaton(self, events: EventRegister, days: set[dt.date]) -> Any:
        """The register's keywords of the events active on any of ``days`` (None if none)."""
        active = frozenset(
            str(i) for i, event in enumerate(events.events) if any(map(event.is_active, days))
        )
        return _active_automaton(events, active) if active else None

    def _selection(self, mask: int) -> tuple[Scanner, ...]:
        found = self._selections.get(mask)
        if found is None:
            found = tuple(s for i, s in enumerate(self.scanners) if mask >> i & 1)
            self._selections[mask] = found
        return found


class _Pass:
    """One planning pass over a batch; fills ``masks`` (one bit per scanner) in place."""

    def __init__(
        self,
        planner: BatchPlanner,
        texts: Sequence[str],
        days: Sequence[dt.date],
        context: Context,
        masks: list[int],
    ) -> None:
        self.planner = planner
        self.days = days
        self.context = context
        self.masks = masks
        # A post holding the separator itself is not joined; every scanner reads it.
        self.texts = list(texts)
        self.original, self.starts = _join(self.texts, SEPARATOR)
        if self.original.count(SEPARATOR) >= len(texts):
            for i, text in enumerate(texts):
                if SEPARATOR in text:
                    masks[i], self.texts[i] = planner.everything, ""
            self.original, self.starts = _join(self.texts, SEPARATOR)
        self.documents: dict[int, Document] = {}
        # Per post: whether squeezed offsets equal original ones (ASCII, no spelled-out run),
        # whether it has a hashtag, and whether words may join anywhere (then a gate counts
        # every occurrence of a term).
        self.same_offsets: list[bool] = []  # filled when the texts are folded
        self.tagged = ["#" in t for t in self.texts]
        self.loose = [False] * len(self.texts)
        self.model_open: set[int] = set()
        self.idiom_spans: list[tuple[int, int]] = []
        # (post, lexicon) -> the terms of a ``pairs`` lexicon found in the post
        self.pair_terms: dict[tuple[int, str], set[str]] = {}

    def run(self) -> None:
        views = self.views = self._views()
        for (view, pattern), bit in self.planner._patterns.items():
            text, starts = views[view]
            for i in self._matching(pattern, text, starts):
                self.masks[i] |= bit
        self._lexicons()
        self._events()
        self._terms()
        self._characters(views)
        self._model()

    def _views(self) -> dict[str, tuple[str, list[int]]]:
        """The batch's original, folded and squeezed texts, each joined, with where each
        post starts in them."""
        folded, even = fold_texts(self.texts, SEPARATOR)
        self.same_offsets = even
        joined_folded, folded_starts = _join(folded, SEPARATOR)
        # Reading leetspeak keeps every length, so it runs once over the whole batch.
        deleeted = deleet_text(joined_folded)
        squeezed = deleeted.split(SEPARATOR)
        for i in spelled_out_posts(joined_folded, SEPARATOR).tolist():
            document = self.documents[i] = Document(self.texts[i])
            squeezed[i] = document.squeezed.text
            self.same_offsets[i] = False
            self.loose[i] = bool(document.collapsed)
        joined_squeezed, squeezed_starts = _join(squeezed, _SQUEEZED_SEPARATOR)
        self.squeezed, self.squeezed_starts = joined_squeezed, squeezed_starts
        return {
            "original": (self.original, self.starts),
            "folded": (joined_folded, folded_starts),
            "squeezed": (joined_squeezed, squeezed_starts),
        }

    def _matching(self, pattern: re.Pattern[str], text: str, starts: list[int]) -> list[int]:
        """The posts in which ``pattern`` matches: one search per matching post, resumed at the
        next post, so a match that runs on into a later post cannot hide one inside it."""
        found: list[int] = []
        position, last = 0, len(starts) - 1
        while True:
            match = pattern.search(text, position)
            if match is None:
                return found
            post = bisect.bisect_right(starts, match.start()) - 1
            found.append(post)
            if post >= last:
                return found
            position = starts[post + 1]

    def _hits(self, automaton: Any) -> Iterator[tuple[int, int, int, bool, Any]]:
        """(post, start, end, plain, values) for each automaton match in the squeezed texts that
        ``LexiconIndex.find`` could accept; ``plain`` when it is a whole word."""
        text, starts = self.squeezed, self.squeezed_starts
        post, last, size = 0, len(starts) - 1, len(text)
        for end, values in automaton.iter(text):
            while post < last and starts[post + 1] <= end:
                post += 1
            start, stop = end + 1 - values[0][0], end + 1
            if any(v[3] for v in values):
                while stop < size and text[stop].isalnum():
                    stop += 1
            left = start == 0 or not text[start - 1].isalnum()
            right = stop == size or not text[stop].isalnum()
            if left and right:
                yield post, start, stop, True, values
            elif self.loose[post] or (self.tagged[post] and self._tagged(post, start, stop)):
                yield post, start, stop, False, values

    def _tagged(self, post: int, start: int, stop: int) -> bool:
        """``LexiconIndex``'s hashtag rules: words meet where a hashtag's capitals say so."""
        base = self.squeezed_starts[post]
        original = self.texts[post]
        offsets: Sequence[int] = range(len(original))
        if not self.same_offsets[post]:
            document = self.documents.get(post)
            if document is None:
                document = self.documents[post] = Document(original)
            offsets = document.squeezed.offsets
        left = start == base or not self.squeezed[start - 1].isalnum()
        left = left or _camel(original, offsets[start - base])
        right = stop - base >= len(offsets) or not self.squeezed[stop].isalnum()
        right = right or _camel(original, offsets[stop - base])
        if left and right:
            return True
        return stop - start >= _MIN_INNER_TAG and _inside_tag(self.squeezed, start, stop)

    def _lexicons(self) -> None:
        planner = self.planner
        if planner._automaton is None:
            return
        by_lexicon, by_pair, skips = planner._by_lexicon, planner._by_pair, planner._model_skips
        pairs = self.pair_terms
        for post, start, stop, plain, values in self._hits(planner._automaton):
            for _, lexicon, term, _ in values:
                bit = by_lexicon.get(lexicon)
                if bit is not None:
                    self.masks[post] |= bit
                if lexicon in by_pair:
                    terms = pairs.setdefault((post, lexicon), set())
                    terms.add(term)
                    if len(terms) > 1:
                        self.masks[post] |= by_pair[lexicon]
                if lexicon in skips:
                    if plain:
                        self.idiom_spans.append((start, stop))
                    else:
                        self.model_open.add(post)

    def _events(self) -> None:
        planner = self.planner
        if planner.events_mask:
            events = self.context.events
            automaton = planner._register_automaton(events, set(self.days))
            if automaton is not None:
                for post, _, _, _, values in self._hits(automaton):
                    day = self.days[post]
                    if any(events.events[int(v[1])].is_active(day) for v in values):
                        self.masks[post] |= planner.events_mask

    def _terms(self) -> None:
        planner = self.planner
        if planner.terms_mask:
            automaton = self.context.policy.terms_index.automaton()
            if automaton is not None:
                for post, _, _, _, _ in self._hits(automaton):
                    self.masks[post] |= planner.terms_mask

    def _characters(self, views: dict[str, tuple[str, list[int]]]) -> None:
        # Counts in the folded view are read from the original text's code points (each
        # character folds on its own), so only that text is turned into code points.
        codes: dict[str, Codes] = {}
        begins = {name: np.array(starts, dtype=np.int64) for name, (_, starts) in views.items()}
        for bit, gate in self.planner._bits():
            for kind, checks in (("count", gate.counts), ("run", gate.runs)):
                for view, pattern, minimum in checks:
                    source = "original" if kind == "count" else view
                    if source not in codes:
                        codes[source] = Codes(views[source][0])
                    begin = begins[source]
                    if kind == "run":
                        flags = codes[source].flags(pattern, self.planner._tables)
                        posts = posts_with_run(flags, begin, minimum)
                    else:
                        matches = (
                            codes[source].folded_matches(pattern)
                            if view == "folded"
                            else codes[source].flags(pattern, self.planner._tables)
                        )
                        self._counted(bit, (view, pattern, minimum), counts(matches, begin))
                        continue
                    for i in posts.tolist():
                        self.masks[i] |= bit

    def _counted(self, bit: int, check: CharacterCount, totals: npt.NDArray[np.int64]) -> None:
        """A count gate's totals, one per post."""
        minimum = check[2]
        for i in np.flatnonzero(totals >= minimum).tolist():
            self.masks[i] |= bit

    def _model(self) -> None:
        planner = self.planner
        wanted = [(bit, g.model_threshold) for bit, g in planner._bits() if g.model_threshold]
        if not wanted:
            return
        from sixfold.risk.profanity_model import ProfanityModel

        # The scanner leaves out the words of harmless idioms ("pussy willow"); so does this.
        text = _blanked(self.squeezed, self.idiom_spans)
        model = ProfanityModel.from_package()
        probability = model.batch_probabilities(text, len(self.texts), _MARKER)
        for bit, threshold in wanted:
            for i in np.flatnonzero(probability >= (threshold or 0.0) - _MODEL_MARGIN).tolist():
                self.masks[i] |= bit
            for i in self.model_open:
                self.masks[i] |= bit


class _ModelPass(_Pass):
    """Only what the profanity model's gates need: the squeezed texts, the idioms the scanner
    leaves out of them (and the lexicon gates, found on the way) and the model's scores."""

    def run(self) -> None:
        self.views = self._views()
        self._lexicons()
        self._model()


# A batch usually falls on the same day or days, so the last few are kept (thread-safe).
@functools.lru_cache(maxsize=_REGISTERS_KEPT)
def _active_automaton(events: EventRegister, active: frozenset[str]) -> Any:
    return events._index.automaton(active)


def _camel(original: str, index: int) -> bool:
    """Whether a hashtag's words meet at ``index`` ("#Stay|Safe"), as the lexicon reads them."""
    if not 0 < index < len(original) or not ("A" <= original[index] <= "Z"):
        return False
    if not (original[index - 1].isdigit() or "a" <= original[index - 1] <= "z"):
        return False
    j = index
    while j > 0 and (original[j - 1].isalnum() or original[j - 1] == "_"):
        j -= 1
    return j > 0 and original[j - 1] == "#"


def _inside_tag(text: str, start: int, stop: int) -> bool:
    if not all(c.isalnum() or c == "_" for c in text[start:stop]):
        return False
    j = start
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
        j -= 1
    return j > 0 and text[j - 1] == "#" and j - 1 < start


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces, cursor = [], 0
    for start, stop in sorted(spans):
        start = max(start, cursor)
        pieces += [text[cursor:start], " " * max(stop - start, 0)]
        cursor = max(cursor, stop)
    pieces.append(text[cursor:])
    return "".join(pieces)


def _join(texts: Sequence[str], separator: str) -> tuple[str, list[int]]:
    """The texts joined by ``separator``, and where each starts."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + len(separator)
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return separator.join(texts), starts.tolist()
