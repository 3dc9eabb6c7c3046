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
  score the threshold (see ``ProfanityModel.reach_of``); the few others are scored from their
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
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sixfold.risk.batch import _MODEL_MARGIN, SEPARATOR
from sixfold.risk.phrases import Phrases, phrases, rarest_word, substrings
from sixfold.risk.wordtable import Seen, Table

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
_TABLES_KEPT = 4
_RULE_BITS = 64
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
        self._tables: OrderedDict[tuple[object, object], Table] = OrderedDict()
        bits = planner._bits()
        # (gate bit, (view, character class, minimum)) of every count gate
        self.counts = [(bit, check) for bit, gate in bits for check in gate.counts]
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
                # Zero-width after the separator, so every word's start is tried.
                re.compile(rf"\x00(?=(?:{start}))") if start else None,
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
        self.lexicon_terms = index.keys_and_prefixes(names) if index is not None else []
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
            table.batches += 1
            seen.used[ids] = table.batches
            joined_at = table.joined(ids, seen)
            crossing, rules_met = table.crossing(ids, seen)
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
        for rule, gate in enumerate(self.rule_gates):
            met = post[crossing[(rules_met >> np.uint64(rule)) & np.uint64(1) == 1]]
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
        seen: Seen,
        table: Table,
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
        seen: Seen,
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
        seen: Seen,
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

    def phrases_of(self, context: Context) -> Phrases:
        """The terms of several words: of the gate lexicons, the register's keywords and the
        policy's confidential terms."""
        terms = [*self.lexicon_terms]
        if self.planner.events_mask and context.events.events:
            terms += context.events._index.keys_and_prefixes()
        if self.planner.terms_mask:
            terms += context.policy.terms_index.keys_and_prefixes()
        return phrases(frozenset(terms))

    def _table(self, context: Context) -> Table:
        # The policy's terms, not the policy: every Context() holds a policy of its own.
        key = (context.events, context.policy.confidential_terms)
        table = self._tables.get(key)
        if table is None or table.full():
            table = self._tables[key] = Table(self, context) if table is None else table.compacted()
            while len(self._tables) > _TABLES_KEPT:
                self._tables.popitem(last=False)
        self._tables.move_to_end(key)
        return table
