"""Character classes over a whole batch at once: the counts and runs that the batch planner's
gates ask for ("at least six digits", "a run of 24 key characters"), computed with numpy on
the batch joined into one string."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

# Ends the joined text so the last post's stretch is not empty either (see Codes).
_CLOSING = "\x00"


class Codes:
    """A joined text as code points, with the distinct ones beyond ASCII."""

    def __init__(self, text: str) -> None:
        self.codes = np.frombuffer((text + _CLOSING).encode("utf-32-le"), dtype=np.uint32)
        self.top = int(self.codes.max())
        self.high = np.unique(self.codes[self.codes >= 128]).tolist() if self.top >= 128 else []

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
            found: npt.NDArray[np.bool_] = table[self.codes]
            return found
        lookup = np.zeros(self.top + 1, dtype=bool)
        lookup[:128] = table
        lookup[self.high] = [bool(pattern.fullmatch(chr(c))) for c in self.high]
        flags: npt.NDArray[np.bool_] = lookup[self.codes]
        return flags


def posts_with_run(
    flags: npt.NDArray[np.bool_], begin: npt.NDArray[np.int64], minimum: int
) -> npt.NDArray[np.int64]:
    """The posts holding ``minimum`` flagged characters in a row (the separator between posts
    is never flagged, so no run crosses two posts)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    run_starts, run_ends = edges[0::2], edges[1::2]
    long_starts = run_starts[run_ends - run_starts >= minimum]
    posts: npt.NDArray[np.int64] = np.unique(np.searchsorted(begin, long_starts, "right") - 1)
    return posts


def counts(flags: npt.NDArray[np.bool_], begin: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Flagged characters per post; ``begin`` holds each post's first index. Every post's
    stretch ends with a separator, so the starts strictly increase, as ``reduceat`` needs."""
    found: npt.NDArray[np.int64] = np.add.reduceat(flags, begin, dtype=np.int64)
    return found
