"""Character classes over a whole batch at once: the counts and runs that the batch planner's
gates ask for ("at least six digits", "a run of 24 key characters"), computed with numpy on
the batch joined into one string."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from sixfold.risk.document import fold_char


class Codes:
    """A joined text as code points, with the distinct ones beyond ASCII."""

    def __init__(self, text: str) -> None:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self.top = int(codes.max(initial=0))
        self.high = np.unique(codes[codes >= 128]).tolist() if self.top >= 128 else []
        # numpy converts an index array to intp on every look-up; once is enough.
        self.index = codes.astype(np.intp)

    def flags(
        self, pattern: re.Pattern[str], tables: dict[re.Pattern[str], npt.NDArray[np.bool_]]
    ) -> npt.NDArray[np.bool_]:
        """For each code point, whether its character matches ``pattern``: a table look-up,
        with one test per distinct character beyond ASCII."""
        table = tables.get(pattern)
        if table is None:
            table = np.array([bool(pattern.fullmatch(chr(c))) for c in range(128)], dtype=bool)
            tables[pattern] = table
        if not self.high:
            found: npt.NDArray[np.bool_] = table[self.index]
            return found
        lookup = np.zeros(self.top + 1, dtype=bool)
        lookup[:128] = table
        lookup[self.high] = [bool(pattern.fullmatch(chr(c))) for c in self.high]
        flags: npt.NDArray[np.bool_] = lookup[self.index]
        return flags

    def folded_matches(self, pattern: re.Pattern[str]) -> npt.NDArray[np.uint8]:
        """For each code point, how many characters of its folded form match ``pattern``:
        summed over a post, the count in the post's folded view (each character folds on its
        own), without building that view's code points too."""
        lookup = np.zeros(self.top + 1, dtype=np.uint8)
        for code in [*range(min(self.top + 1, 128)), *self.high]:
            lookup[code] = sum(1 for c in fold_char(chr(code)) if pattern.fullmatch(c))
        found: npt.NDArray[np.uint8] = lookup[self.index]
        return found


def posts_with_run(
    flags: npt.NDArray[np.bool_], begin: npt.NDArray[np.int64], minimum: int
) -> npt.NDArray[np.int64]:
    """The posts holding ``minimum`` flagged characters in a row (the separator between posts
    is never flagged, so no run crosses two posts).

    A run that long covers a whole aligned block of ``minimum // 2`` characters, and such
    blocks are found with one reshape; only their runs are then measured, between the nearest
    unflagged characters on either side. A joined batch has hundreds of thousands of runs
    and very few long ones."""
    block = max(minimum // 2, 1)
    whole = len(flags) // block * block
    full = np.flatnonzero(flags[:whole].reshape(-1, block).all(axis=1)) * block
    if not len(full):
        return np.zeros(0, dtype=np.int64)
    gaps = np.concatenate(([-1], np.flatnonzero(~flags), [len(flags)]))
    before = gaps[np.searchsorted(gaps, full) - 1]
    after = gaps[np.searchsorted(gaps, full + block)]
    long_runs = before[after - before - 1 >= minimum] + 1
    posts: npt.NDArray[np.int64] = np.unique(np.searchsorted(begin, long_runs, "right") - 1)
    return posts


def counts(
    matches: npt.NDArray[np.bool_] | npt.NDArray[np.uint8], begin: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Matches per post, given the matches of each character; ``begin`` holds each post's
    first index. Characters that match are few, so only they are looked at."""
    where = np.flatnonzero(matches)
    posts = np.searchsorted(begin, where, "right") - 1
    found = np.bincount(posts, weights=matches[where], minlength=len(begin))
    return found.astype(np.int64)


# Byte classes for spelled_out_posts, over UTF-8 (a non-ASCII character's bytes are all 0).
_LETTER, _SYMBOL, _SEPARATOR = 1, 2, 3
_SHAPES = bytes(
    _LETTER
    if chr(b).isascii() and (chr(b).islower() or chr(b).isdigit())
    else _SYMBOL
    if chr(b) in "@$"
    else _SEPARATOR
    if chr(b) in ".-_*~ "
    else 0
    for b in range(256)
)


def spelled_out_posts(joined: str, separator: str) -> npt.NDArray[np.int64]:
    """The posts of a folded batch (joined by ``separator``, one ASCII character none holds)
    that may spell a word letter by letter: two lone characters ([a-z0-9@$] not followed by
    [a-z0-9]) each after one or two separators (".-_*~ "), the second right after the first's
    separators. ``document._SPELLED_OUT`` needs three; this is the gate for it, answered with
    array operations instead of a search that stops at every space."""
    encoded = joined.encode("utf-8", "surrogatepass")
    shape = np.frombuffer(encoded.translate(_SHAPES), dtype=np.uint8)
    letter = shape == _LETTER
    space = np.zeros(len(shape) + 1, dtype=bool)
    space[1:] = shape == _SEPARATOR  # space[i]: byte i - 1 is a separator
    lone = (letter | (shape == _SYMBOL)) & space[:-1]
    lone[:-1] &= ~letter[1:]
    # Two lone characters two bytes apart have one separator between them (the second's);
    # three apart, two, if the byte after the first is one as well.
    found = np.flatnonzero(lone[:-2] & lone[2:])
    wider = np.flatnonzero(lone[:-3] & space[2:-2] & lone[3:])
    if not len(found) and not len(wider):
        return np.zeros(0, dtype=np.int64)
    ends = np.flatnonzero(np.frombuffer(encoded, dtype=np.uint8) == ord(separator))
    at = np.concatenate((found, wider))
    posts: npt.NDArray[np.int64] = np.unique(np.searchsorted(ends, at))
    return posts
