"""Planning a batch word by word: each distinct word is read once, and remembered.

A batch's text is long but its vocabulary is short. The text planner (batch.py) reads every
character of a batch in a dozen passes; 20,000 posts are two million characters, yet they are
made of a few thousand distinct words ("our", "shop", "AUTUMN15", "#MondayMotivation"), most of
which come back in the next batch. The word planner reads each distinct word once with the same
passes, keeps what the gates saw in it, and plans a post from its words:

- a gate pattern or lexicon term found inside a word opens that gate for every post holding the
  word (gate patterns match inside a word, except those a gate declares in ``Gate.across``);
- a count gate ("16 capitals") adds up its words' counts; a run gate ("24 key characters") is
  met inside one word, as whitespace ends every run it counts;
- two different terms of a ``pairs`` lexicon: the terms of a post's words are put together;
- the profanity model: a post whose words' reach is below ``ProfanityModel.reach_needed`` cannot
  score the threshold (see ``ProfanityModel.reach``); the few others are scored from their
  words' model words, as the text planner would score their text.

A "word" is what ``str.split`` cuts out, so it keeps its punctuation and hashtag mark: folding,
leetspeak and the hashtag rules act inside such a run, and the lexicons' word boundaries fall at
its edges just as they do in the post (whitespace, never a letter, is on the other side).

An event's keyword in a word opens the events gate for a post when the event is active on the
post's own day. What one word cannot show is left to the text planner, which reads those posts
whole:
- a lexicon term of several words across whitespace (see phrases.py);
- a letter-by-letter spelling or a gate pattern across whitespace: one word ending and the next
  starting as the spelling or the pattern would;
- a word that folds to nothing (invisible characters, combining marks): its neighbours meet;
- a post the profanity model might score at the threshold, holding a word that may belong to a
  harmless idiom (the scanner leaves idioms out before scoring);
- a post holding the character that separates posts.

Where words repeat (20,000 template posts of a few hundred words) this plans a batch about
twice as fast as the text planner; on posts where one word in nine has not been seen before,
about as fast (bench/results-risk.md).

What the gates saw in a word depends on the policy's confidential terms and the event register,
so the planner keeps one table of words per (register, policy terms) pair, the last few used.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sixfold.risk.batch import (
    _MARKER,
    _MODEL_MARGIN,
    SEPARATOR,
    CharacterCount,
    _active_automaton,
    _Pass,
)
from sixfold.risk.phrases import Phrases, phrases, rarest_word, substrings

if TYPE_CHECKING:
    from sixfold.risk.batch import BatchPlanner
    from sixfold.risk.lexicon import LexiconIndex
    from sixfold.risk.model import Context

# Every character ``str.split`` cuts at (``str.isspace``); a test checks the list is complete.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Posts are joined by this word, which marks where each post's words start.
_BETWEEN = f" {SEPARATOR} "
# A table is dropped and started afresh when it holds this many words.
_WORDS_KEPT = 1 << 17
# ... or this many characters in its words, or this many judged pairs of neighbouring words.
_CHARACTERS_KEPT = 1 << 22
_PAIRS_KEPT = 1 << 18
_TABLES_KEPT = 4
_RULE_BITS = 64
_SPACE = re.compile(" ")
# A letter-by-letter spelling ("f u c k") across whitespace: a lone character ends one word and
# another starts the next (document._SPELLED_OUT; "!" and "|" may be read as letters).
_SPELLED_ACROSS = (
    "folded",
    r"(?<![a-z0-9])[a-z0-9@$!|][.\-_*~]?",
    r"[.\-_*~]?[a-z0-9@$!|](?![a-z0-9])",
)


class WordPlanner:
    """The batch planner's first step: plans the posts that their words decide."""

    def __init__(self, planner: BatchPlanner, index: LexiconIndex | None) -> None:
        self.planner = planner
        self._lock = threading.Lock()
        self._tables: OrderedDict[tuple[object, object], _Table] = OrderedDict()
        bits = planner._bits()
        self.counts = [
            (bit, check) for bit, gate in bits for check in gate.counts
        ]  # (bit, (view, class, minimum))
        # A gate's own rule opens that gate; a spelling across words changes every view, so
        # its posts go to the text planner (bit 0 is that rule's).
        rules = [_SPELLED_ACROSS, *(rule for _, gate in bits for rule in gate.across)]
        self.rule_gates = [0, *(bit for bit, gate in bits for _ in gate.across)]
        # A rule with nothing after the whitespace is met by the whitespace that ends a post
        # too, where no word follows: a word ending so opens the rule's gate by itself.
        self.rules = [
            (
                view,
                re.compile(rf"(?:{end})(?=\x00|\Z)"),
                re.compile(rf"\x00(?:{start})") if start else None,
            )
            for view, end, start in rules
        ]
        classes = [check[1] for _, gate in bits for check in (*gate.counts, *gate.runs)]
        # A class that matched whitespace would count across words; such gates need the text.
        self.usable = len(self.rules) < _RULE_BITS and not any(
            c.search(WHITESPACE) for c in classes
        )
        self.scored = [(bit, g.model_threshold) for bit, g in bits if g.model_threshold]
        self.reach_needed = math.inf
        if self.scored:
            from sixfold.risk.profanity_model import ProfanityModel

            self.model = ProfanityModel.from_package()
            lowest = min(threshold for _, threshold in self.scored)
            self.reach_needed = self.model.reach_needed(lowest - _MODEL_MARGIN)
        names = {*planner._by_lexicon, *planner._by_pair}
        self.phrases = index.keys(names) if index is not None else []
        # Words the scanner may leave out of the model's reading (harmless idioms): a word
        # holding the rarest word of one may be left out, so its posts' scores are not known.
        skipped = index.keys(planner._model_skips) if index is not None else []
        self.idioms = substrings(rarest_word(idiom) for idiom in skipped)

    def plan(
        self, texts: Sequence[str], days: Sequence[dt.date], context: Context, masks: list[int]
    ) -> tuple[list[int], list[int]]:
        """Fills in ``masks`` for the posts that their words decide. Returns, in order, the
        posts the text planner must read whole, and those it must score with the profanity
        model (the rest of their plan is in ``masks``)."""
        count = len(texts)
        if not self.usable:
            return list(range(count)), []
        whole = np.zeros(count, dtype=bool)
        joined = _BETWEEN.join(texts)
        if joined.count(SEPARATOR) >= count:
            held = [i for i, text in enumerate(texts) if SEPARATOR in text]
            whole[held] = True
            texts = ["" if SEPARATOR in text else text for text in texts]
            joined = _BETWEEN.join(texts)
        words = joined.split()
        with self._lock:
            table = self._table(context)
            ids = table.ids(words)
            seen = table.snapshot()
            joined_at = table.joined(ids, seen)
        post = np.cumsum(ids == 0)
        found = np.zeros(count, dtype=np.int64)
        mask = seen.mask[ids]
        at = np.flatnonzero(mask)
        np.bitwise_or.at(found, post[at], mask[at])
        for k, (bit, (_, _, minimum)) in enumerate(self.counts):
            totals = np.bincount(post, weights=seen.counts[k][ids], minlength=count)
            found[totals >= minimum] |= bit
        unscored = np.zeros(count, dtype=bool)
        if self.reach_needed < math.inf:
            self._model(seen, table, ids, post, found, unscored)
        whole[post[seen.whole[ids]]] = True
        both = seen.ends[ids[:-1]] & seen.starts[ids[1:]]
        at = np.flatnonzero(both)
        for rule, gate in enumerate(self.rule_gates):
            met = post[at[(both[at] >> np.uint64(rule)) & np.uint64(1) == 1]]
            if gate:
                found[met] |= gate
            else:
                whole[met] = True
        whole[post[joined_at]] = True
        self._pairs(seen, ids, post, found)
        self._events(seen, ids, post, days, context, found)
        for i, bits in enumerate(found.tolist()):
            masks[i] |= bits
        return np.flatnonzero(whole).tolist(), np.flatnonzero(unscored & ~whole).tolist()

    def _model(
        self,
        seen: _Seen,
        table: _Table,
        ids: npt.NDArray[np.int64],
        post: npt.NDArray[np.int64],
        found: npt.NDArray[np.int64],
        unscored: npt.NDArray[np.bool_],
    ) -> None:
        """The profanity model's gates: most posts are ruled out by their reach; the others
        are scored from their words' model words, unless a word may belong to an idiom the
        scanner leaves out (those are marked in ``unscored``, for the text planner to score
        without the idiom)."""
        count = len(found)
        reach = np.bincount(post, weights=seen.reach[ids], minlength=count)
        near = reach >= self.reach_needed
        if not near.any():
            return
        idiomatic = np.zeros(count, dtype=bool)
        idiomatic[post[seen.idiomatic[ids]]] = True
        unscored |= near & idiomatic
        scored = near & ~idiomatic
        at = np.flatnonzero(scored[post])
        if not len(at):
            return
        texts, columns, counts = table.model_words(seen, ids[at], post[at])
        probability = self.model.probabilities(texts, columns, counts, count)
        for bit, threshold in self.scored:
            found[scored & (probability >= threshold - _MODEL_MARGIN)] |= bit

    def _pairs(
        self,
        seen: _Seen,
        ids: npt.NDArray[np.int64],
        post: npt.NDArray[np.int64],
        found: npt.NDArray[np.int64],
    ) -> None:
        """Opens a ``pairs`` gate for a post whose words hold two different terms of it."""
        at = np.flatnonzero(seen.paired[ids])
        terms: dict[tuple[int, str], set[str]] = {}
        for i, word in zip(post[at].tolist(), ids[at].tolist(), strict=True):
            for lexicon, held in seen.pair_terms[word].items():
                terms.setdefault((i, lexicon), set()).update(held)
        by_pair = self.planner._by_pair
        for (i, lexicon), together in terms.items():
            if len(together) > 1:
                found[i] |= by_pair[lexicon]

    def _events(
        self,
        seen: _Seen,
        ids: npt.NDArray[np.int64],
        post: npt.NDArray[np.int64],
        days: Sequence[dt.date],
        context: Context,
        found: npt.NDArray[np.int64],
    ) -> None:
        """Opens the events gate for a post whose words name an event active on its day."""
        at = np.flatnonzero(seen.named[ids])
        events = context.events.events
        for i, word in set(zip(post[at].tolist(), ids[at].tolist(), strict=True)):
            if any(events[e].is_active(days[i]) for e in seen.events[word]):
                found[i] |= self.planner.events_mask

    def _table(self, context: Context) -> _Table:
        # The policy's terms, not the policy: every Context() holds a policy of its own.
        key = (context.events, context.policy.confidential_terms)
        table = self._tables.get(key)
        if table is None or table.full():
            table = self._tables[key] = _Table(self, context)
            while len(self._tables) > _TABLES_KEPT:
                self._tables.popitem(last=False)
        self._tables.move_to_end(key)
        return table


class _Seen:
    """What the gates saw in each word of a table, by word number (0 is the post boundary)."""

    def __init__(self, capacity: int, counts: int) -> None:
        self.mask = np.zeros(capacity, dtype=np.int64)  # gates opened inside the word
        self.counts = np.zeros((counts, capacity), dtype=np.int64)  # per count gate
        self.reach = np.zeros(capacity, dtype=np.float64)  # the profanity model's reach
        self.whole = np.zeros(capacity, dtype=bool)  # its posts must be read whole
        self.ends = np.zeros(capacity, dtype=np.uint64)  # rules (bits) the word may end
        self.starts = np.zeros(capacity, dtype=np.uint64)  # rules (bits) the word may start
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

    def grown(self, capacity: int) -> _Seen:
        bigger = _Seen(capacity, len(self.counts))
        size = len(self.mask)
        names = ("mask", "reach", "whole", "ends", "starts", "paired", "named", "idiomatic")
        for name in (*names, "pairs_ended", "pairs_started", "model_first", "model_count"):
            getattr(bigger, name)[:size] = getattr(self, name)
        bigger.counts[:, :size] = self.counts
        bigger.pair_terms = self.pair_terms
        bigger.events = self.events
        bigger.ended, bigger.started = self.ended, self.started
        return bigger


class _Table:
    """The words one (register, policy terms) pair has seen, and what the gates saw in them.

    Words are only ever added, and a word's entries never change once written; ``snapshot``
    hands out the arrays as they are, so a batch can read them after the lock is released
    while another batch adds words (into new slots, or new arrays when they grow)."""

    def __init__(self, words: WordPlanner, context: Context) -> None:
        self.words = words
        self.context = context
        self.numbers: dict[str, int] = {SEPARATOR: 0}
        self.size = 1
        self.seen = _Seen(1024, len(words.counts))
        self.phrases = _phrase_rules(words, context)
        self.bigrams: dict[int, bool] = {}  # (word << 32 | next word) -> may join a term
        self.characters = 0
        # Every word's model words (vocabulary column, count), one word after another.
        self.columns = np.zeros(1024, dtype=np.int64)
        self.column_counts = np.zeros(1024, dtype=np.int64)
        self.columns_used = 0

    def snapshot(self) -> _Seen:
        return self.seen

    def full(self) -> bool:
        return (
            self.size > _WORDS_KEPT
            or self.characters > _CHARACTERS_KEPT
            or len(self.bigrams) > _PAIRS_KEPT
        )

    def model_words(
        self, seen: _Seen, ids: npt.NDArray[np.int64], posts: npt.NDArray[np.int64]
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

    def joined(self, ids: npt.NDArray[np.int64], seen: _Seen) -> npt.NDArray[np.int64]:
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

    def __init__(self, table: _Table, words: list[str]) -> None:
        context = table.context
        planner = table.words.planner
        super().__init__(planner, words, [context.date] * len(words), context, [0] * len(words))
        self.table = table
        count = len(words)
        self.totals = [np.zeros(count, dtype=np.int64) for _ in table.words.counts]
        self.reach = np.zeros(count, dtype=np.float64)
        self.whole = np.zeros(count, dtype=bool)
        # (self.starts is the text planner's: where each word starts in the joined text)
        self.rules_ended = np.zeros(count, dtype=np.uint64)
        self.rules_started = np.zeros(count, dtype=np.uint64)
        self.events: dict[int, set[int]] = {}

    def run(self) -> None:
        super().run()
        views = self.views
        rules = self.table.words.rules
        gates = self.table.words.rule_gates
        for bit, (view, end, start) in enumerate(rules):
            text, starts = views[view]
            ended = self._words_matching(end, text, starts)
            if start is None:
                for word in ended.tolist():
                    self.masks[word] |= gates[bit]
                continue
            self.rules_ended[ended] |= np.uint64(1 << bit)
            # The separator before each word starts the pattern, which the search skips to;
            # a match is kept where a word starts right after it.
            begun = np.array([m.start() for m in start.finditer(SEPARATOR + text)], dtype=np.int64)
            words = np.searchsorted(starts, begun)
            kept = words < len(starts)
            words, begun = words[kept], begun[kept]
            self.rules_started[words[np.asarray(starts)[words] == begun]] |= np.uint64(1 << bit)
        # A word that folds to nothing (invisible characters, combining marks) vanishes from
        # the post's views, and its neighbours meet across it: "s \u200b h \u200b i t".
        _, folded_starts = views["folded"]
        ends = [*folded_starts[1:], len(views["folded"][0]) + len(SEPARATOR)]
        vanished = np.flatnonzero(np.subtract(ends, folded_starts) == len(SEPARATOR))
        self.whole[vanished] = True
        joinable = {
            i
            for i, (tag, loose) in enumerate(zip(self.tagged, self.loose, strict=True))
            if tag or loose
        }
        self.ends_pairs, self.starts_pairs = self.table.phrases.mark(*views["squeezed"], joinable)
        text, starts = views["squeezed"]
        self.whole[self._words_matching(_SPACE, text, starts)] = True

    @staticmethod
    def _words_matching(
        pattern: re.Pattern[str], text: str, starts: list[int]
    ) -> npt.NDArray[np.int64]:
        at = [m.start() for m in pattern.finditer(text)]
        found: npt.NDArray[np.int64] = np.searchsorted(starts, at, "right") - 1
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


def _phrase_rules(words: WordPlanner, context: Context) -> Phrases:
    """The terms of several words: of the gate lexicons, the register's keywords and the
    policy's confidential terms."""
    terms = [*words.phrases]
    if words.planner.events_mask and context.events.events:
        terms += context.events._index.keys()
    if words.planner.terms_mask:
        terms += context.policy.terms_index.keys()
    return phrases(frozenset(terms))
