"""The word planner's tables: what the gates saw in each distinct word (see wordplan.py).

A table is what one (event register, confidential terms) pair has seen. Words are only ever
added, under the planner's lock; what the gates saw in a word never changes once written, so a
batch reads the arrays it was handed after the lock is released while another batch adds words
(into new slots, or into grown copies). A full table is not changed either: the planner puts a
compacted copy in its place (``Table.compacted``), and batches still holding the old one finish
with it. Only ``Seen.used``, which no batch reads, is written again. ``_WordPass`` reads new
words with the text planner's passes.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sixfold.risk.batch import _MARKER, SEPARATOR, _active_automaton, _Pass
from sixfold.risk.gates import CharacterCount

if TYPE_CHECKING:
    from sixfold.risk.model import Context
    from sixfold.risk.wordplan import WordPlanner

# A table is compacted (Table.compacted) when it holds this many words,
WORDS_KEPT = 1 << 17
# ... or this many characters in its words, or this many judged pairs of neighbouring words.
CHARACTERS_KEPT = 1 << 22
PAIRS_KEPT = 1 << 18
_SPACE = re.compile(" ")


class Seen:
    """What the gates saw in each word of a table, by word number (0 is the post boundary)."""

    # The arrays with one entry per word, besides ``counts`` (one row per count gate).
    ROWS = (
        "mask", "reach", "whole", "ends", "starts", "paired", "pairs_ended", "pairs_started",
        "idiomatic", "model_first", "model_count", "named", "used",
    )  # fmt: skip

    def __init__(self, capacity: int, counts: int) -> None:
        self.mask = np.zeros(capacity, dtype=np.int64)  # gates opened inside the word
        self.counts = np.zeros((counts, capacity), dtype=np.int64)  # per count gate
        self.reach = np.zeros(capacity, dtype=np.float64)  # the profanity model's reach
        self.whole = np.zeros(capacity, dtype=bool)  # its posts must be read whole
        self.ends = np.zeros(capacity, dtype=np.uint64)  # rules (bits) the word may end
        self.starts = np.zeros(capacity, dtype=np.uint64)  # rules (bits) it may start
        self.paired = np.zeros(capacity, dtype=bool)  # holds a term of a ``pairs`` lexicon
        self.pair_terms: dict[int, dict[str, frozenset[str]]] = {}
        self.pairs_ended = np.zeros(capacity, dtype=bool)  # may end a pair of a term's words
        self.pairs_started = np.zeros(capacity, dtype=bool)  # may start one
        self.ended: dict[int, frozenset[int]] = {}  # which pairs
        self.started: dict[int, frozenset[int]] = {}
        self.idiomatic = np.zeros(capacity, dtype=bool)  # may belong to a harmless idiom
        self.model_first = np.zeros(capacity, dtype=np.int64)  # its model words in the table
        self.model_count = np.zeros(capacity, dtype=np.int64)
        self.named = np.zeros(capacity, dtype=bool)  # holds a keyword of the register
        self.events: dict[int, frozenset[int]] = {}  # the events whose keywords it holds
        # The last batch that used the word (the only entry that changes once written; only
        # ever read under the planner's lock, to choose the words a compacted table keeps).
        self.used = np.zeros(capacity, dtype=np.int64)

    def grown(self, capacity: int) -> Seen:
        bigger = Seen(capacity, len(self.counts))
        size = len(self.mask)
        for name in self.ROWS:
            getattr(bigger, name)[:size] = getattr(self, name)
        bigger.counts[:, :size] = self.counts
        bigger.pair_terms = self.pair_terms
        bigger.events = self.events
        bigger.ended, bigger.started = self.ended, self.started
        return bigger

    def taken(self, kept: npt.NDArray[np.int64], capacity: int) -> Seen:
        """The entries of the words ``kept`` (ascending), numbered afresh from 0 in that order.
        ``model_first`` still points into the old table's model words."""
        taken = Seen(capacity, len(self.counts))
        size = len(kept)
        for name in self.ROWS:
            getattr(taken, name)[:size] = getattr(self, name)[kept]
        taken.counts[:, :size] = self.counts[:, kept]
        number = dict(zip(kept.tolist(), range(size), strict=True))
        for name in ("pair_terms", "events", "ended", "started"):
            entries = getattr(self, name)
            setattr(taken, name, {number[w]: v for w, v in entries.items() if w in number})
        return taken


class Table:
    """The words one (register, policy terms) pair has seen, and what the gates saw in them.

    Words are only ever added, and what was seen in a word never changes; ``snapshot``
    hands out the arrays as they are, so a batch can read them after the lock is released
    while another batch adds words (into new slots, or new arrays when they grow)."""

    def __init__(self, words: WordPlanner, context: Context) -> None:
        self.words = words
        self.context = context
        self.numbers: dict[str, int] = {SEPARATOR: 0}
        self.words_read: list[str] = [SEPARATOR]  # by number
        self.size = 1
        self.seen = Seen(1024, len(words.counts))
        self.phrases = words.phrases_of(context)
        self.bigrams: dict[int, bool] = {}  # (word << 32 | next word) -> may join a term
        self.characters = len(SEPARATOR)  # in its words, the post boundary's among them
        # Every word's model words (vocabulary column, count), one word after another.
        self.columns = np.zeros(1024, dtype=np.int64)
        self.column_counts = np.zeros(1024, dtype=np.int64)
        self.columns_used = 0
        self.batches = 0  # planned with this table (or the one it was compacted from)

    def snapshot(self) -> Seen:
        return self.seen

    def compacted(self) -> Table:
        """A table of the words the latest batches used, up to half of what a table keeps,
        with what was read in them: a full table sheds the words it has not met lately
        instead of reading every word of the next batch again."""
        seen, size = self.seen, self.size
        seen.used[0] = seen.used[:size].max()  # the post boundary stays word 0
        latest = np.argsort(-seen.used[:size], kind="stable")[: WORDS_KEPT // 2]
        lengths = np.fromiter(map(len, self.words_read), np.int64, size)[latest]
        within = np.cumsum(lengths) <= CHARACTERS_KEPT // 2
        kept = np.sort(latest[within])
        table = Table(self.words, self.context)
        table.seen = seen.taken(kept, max(len(table.seen.mask), 2 * len(kept)))
        table.words_read = [self.words_read[w] for w in kept.tolist()]
        table.numbers = dict(zip(table.words_read, range(len(kept)), strict=True))
        table.size = len(kept)
        table.characters = int(lengths[within].sum())
        table.batches = self.batches
        # Their model words, packed again.
        counts = seen.model_count[kept]
        total = int(counts.sum())
        firsts = np.cumsum(counts) - counts
        where = np.repeat(seen.model_first[kept] - firsts, counts) + np.arange(total)
        table.columns = self.columns[where]
        table.column_counts = self.column_counts[where]
        table.columns_used = total
        table.seen.model_first[: len(kept)] = firsts
        return table

    def full(self) -> bool:
        return (
            self.size > WORDS_KEPT
            or self.characters > CHARACTERS_KEPT
            or len(self.bigrams) > PAIRS_KEPT
        )

    def model_words(
        self, seen: Seen, ids: npt.NDArray[np.int64], posts: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(post, column, count) for each distinct model word of the posts made of these
        words (``posts`` tells each word's post), as ``ProfanityModel.words_of`` gives them.
        ``seen`` is the snapshot the words were numbered in; the flat columns only grow, and
        a grown copy keeps every entry already written."""
        lengths = seen.model_count[ids]
        total = int(lengths.sum())
        offsets = np.repeat(seen.model_first[ids] - (np.cumsum(lengths) - lengths), lengths)
        where = offsets + np.arange(total)
        width = self.words.model.vocabulary_size
        keys = np.repeat(posts, lengths) * width + self.columns[where]
        distinct, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse, self.column_counts[where]).astype(np.int64)
        return distinct // width, distinct % width, counts

    def crossing(
        self, ids: npt.NDArray[np.int64], seen: Seen
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """The positions in ``ids`` where a word and the next may meet a rule across the
        whitespace between them, and the rules (bits) they meet there."""
        both = seen.ends[ids[:-1]] & seen.starts[ids[1:]]
        at = np.flatnonzero(both)
        return at, both[at]

    def joined(self, ids: npt.NDArray[np.int64], seen: Seen) -> npt.NDArray[np.int64]:
        """The positions in ``ids`` where a word and the next may hold a term of several
        words across the whitespace between them. Word pairs are judged once per table."""
        at = np.flatnonzero(seen.pairs_ended[ids[:-1]] & seen.pairs_started[ids[1:]])
        if not len(at):
            return at
        keys = (ids[at] << 32) | ids[at + 1]
        distinct, where = np.unique(keys, return_inverse=True)
        verdicts = self.bigrams
        judged = []
        for key in distinct.tolist():
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = bool(
                    seen.ended[key >> 32] & seen.started[key & 0xFFFFFFFF]
                )
            judged.append(verdict)
        found: npt.NDArray[np.int64] = at[np.array(judged, dtype=bool)[where]]
        return found

    def ids(self, words: list[str]) -> npt.NDArray[np.int64]:
        """Each word's number, reading the words not seen before."""
        ids = np.fromiter(
            map(self.numbers.get, words, itertools.repeat(-1)), dtype=np.int64, count=len(words)
        )
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            new = [words[i] for i in missing.tolist()]
            self._read(list(dict.fromkeys(new)))
            ids[missing] = np.fromiter(map(self.numbers.__getitem__, new), np.int64, len(new))
        return ids

    def _read(self, words: list[str]) -> None:
        first, last = self.size, self.size + len(words)
        if last > len(self.seen.mask):
            self.seen = self.seen.grown(max(last, 2 * len(self.seen.mask)))
        reading = _WordPass(self, words)
        reading.run()
        seen = self.seen
        seen.mask[first:last] = reading.masks
        for k, totals in enumerate(reading.totals):
            seen.counts[k, first:last] = totals
        seen.reach[first:last] = reading.reach
        seen.whole[first:last] = reading.whole
        seen.ends[first:last] = reading.rules_ended
        seen.starts[first:last] = reading.rules_started
        for marks, flags, sets in (
            (reading.ends_pairs, seen.pairs_ended, seen.ended),
            (reading.starts_pairs, seen.pairs_started, seen.started),
        ):
            for i, pairs in marks.items():
                flags[first + i] = True
                sets[first + i] = frozenset(pairs)
        for i, events in reading.events.items():
            seen.named[first + i] = True
            seen.events[first + i] = frozenset(events)
        for (i, lexicon), terms in reading.pair_terms.items():
            seen.paired[first + i] = True
            seen.pair_terms.setdefault(first + i, {})[lexicon] = frozenset(terms)
        self._keep_model_words(reading, first)
        self.numbers.update(zip(words, range(first, last), strict=True))
        self.words_read += words
        self.characters += sum(map(len, words))
        self.size = last

    def _keep_model_words(self, reading: _WordPass, first: int) -> None:
        texts, columns, counts = reading.model_words
        used, needed = self.columns_used, self.columns_used + len(columns)
        if needed > len(self.columns):
            capacity = max(needed, 2 * len(self.columns))
            for name in ("columns", "column_counts"):
                grown = np.zeros(capacity, dtype=np.int64)
                grown[:used] = getattr(self, name)[:used]
                setattr(self, name, grown)
        self.columns[used:needed] = columns
        self.column_counts[used:needed] = counts
        words = len(reading.texts)
        lengths = np.bincount(texts, minlength=words)
        self.seen.model_count[first : first + words] = lengths
        self.seen.model_first[first : first + words] = used + np.cumsum(lengths) - lengths
        self.seen.idiomatic[first : first + words] = reading.idiomatic
        self.columns_used = needed


class _WordPass(_Pass):
    """The text planner's passes over words instead of posts, keeping what a word holds."""

    def __init__(self, table: Table, words: list[str]) -> None:
        context = table.context
        planner = table.words.planner
        super().__init__(planner, words, [context.date] * len(words), context, [0] * len(words))
        self.table = table
        count = len(words)
        self.totals = [np.zeros(count, dtype=np.int64) for _ in table.words.counts]
        self.reach = np.zeros(count, dtype=np.float64)
        self.whole = np.zeros(count, dtype=bool)
        self.rules_ended = np.zeros(count, dtype=np.uint64)
        self.rules_started = np.zeros(count, dtype=np.uint64)
        self.events: dict[int, set[int]] = {}

    def run(self) -> None:
        super().run()
        views = self.views
        begins = {name: np.asarray(starts, dtype=np.int64) for name, (_, starts) in views.items()}
        gates = self.table.words.rule_gates
        for bit, (view, end, start) in enumerate(self.table.words.rules):
            text, begin = views[view][0], begins[view]
            ended = self._words_matching(end, text, begin)
            if start is None:
                for word in ended.tolist():
                    self.masks[word] |= gates[bit]
            else:
                self.rules_ended[ended] |= np.uint64(1 << bit)
                self.rules_started[self._words_started(start, text, begin)] |= np.uint64(1 << bit)
        # A word that folds to nothing (invisible characters, combining marks) vanishes from
        # the post's views, and its neighbours meet across it: "s \u200b h \u200b i t".
        _, folded_starts = views["folded"]
        ends = [*folded_starts[1:], len(views["folded"][0]) + len(SEPARATOR)]
        vanished = np.flatnonzero(np.subtract(ends, folded_starts) == len(SEPARATOR))
        self.whole[vanished] = True
        # Words where a term may start or end mid-word: with a hashtag, or spelled out.
        joinable = np.flatnonzero(np.array(self.tagged) | np.array(self.loose)).tolist()
        self.ends_pairs, self.starts_pairs = self.table.phrases.mark(*views["squeezed"], joinable)
        self.whole[self._words_matching(_SPACE, views["squeezed"][0], begins["squeezed"])] = True

    @staticmethod
    def _words_matching(
        pattern: re.Pattern[str], text: str, starts: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        at = [m.start() for m in pattern.finditer(text)]
        found: npt.NDArray[np.int64] = np.searchsorted(starts, at, "right") - 1
        return found

    @staticmethod
    def _words_started(
        pattern: re.Pattern[str], text: str, starts: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """The words whose start ``pattern`` (a separator, then a zero-width look ahead)
        matches. One more separator goes before ``text``, for its first word; in that padded
        text the separator before each word sits where the word starts in ``text``."""
        at = np.array([m.start() for m in pattern.finditer(SEPARATOR + text)], dtype=np.int64)
        word = np.searchsorted(starts, at)
        inside = word < len(starts)
        word, at = word[inside], at[inside]
        found: npt.NDArray[np.int64] = word[starts[word] == at]
        return found

    def _events(self) -> None:
        # The events of every day: a post's own day is known only when it is planned.
        events = self.context.events
        if self.planner.events_mask and events.events:
            automaton = _every_event(events)
            for word, _, _, _, values in self._hits(automaton):
                self.events.setdefault(word, set()).update(int(v[1]) for v in values)

    def _counted(self, bit: int, check: CharacterCount, totals: npt.NDArray[np.int64]) -> None:
        self.totals[self.table.words.counts.index((bit, check))] = totals

    def _model(self) -> None:
        words = self.table.words
        count = len(self.texts)
        self.idiomatic = np.zeros(count, dtype=bool)
        empty = np.zeros(0, dtype=np.int64)
        self.model_words = (empty, empty, empty)
        if words.reach_needed < math.inf:
            self.model_words = texts, columns, _ = words.model.words_of(self.squeezed, _MARKER)
            self.reach = words.model.reach_of(texts, columns, count)
            if words.idioms is not None:
                ends = [end for end, _ in words.idioms.iter(self.squeezed)]
                self.idiomatic[np.searchsorted(self.squeezed_starts, ends, "right") - 1] = True


def _every_event(events: Any) -> Any:
    return _active_automaton(events, frozenset(str(i) for i in range(len(events.events))))
