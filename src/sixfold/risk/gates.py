"""Gates: what a scanner declares a post must show before it can find anything in it.

The batch planners (batch.py, wordplan.py) check every post's gates in passes over the whole
batch and run a scanner only on the posts whose gate opened. A gate may open for a post that has
nothing to find; it must never stay shut for one that has. Each gate is therefore looser than
its scanner, and tests check that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (view, character class, minimum): at least ``minimum`` characters of the view match the class.
CharacterCount = tuple[str, re.Pattern[str], int]


@dataclass(frozen=True, slots=True)
class Gate:
    """What a post must show before a scanner can find anything in it (any one suffices)."""

    lexicons: tuple[str, ...] = ()  # a term of one of these lexicons
    pairs: tuple[str, ...] = ()  # two different terms of these lexicons
    squeezed: tuple[re.Pattern[str], ...] = ()  # a match in the squeezed view
    folded: tuple[re.Pattern[str], ...] = ()  # a match in the folded view
    original: tuple[re.Pattern[str], ...] = ()  # a match in the original text
    counts: tuple[CharacterCount, ...] = ()  # enough characters of a class ("original"/"folded")
    runs: tuple[CharacterCount, ...] = ()  # a run of at least that many characters of a class
    events: bool = False  # a keyword of an event active on the posting day
    confidential_terms: bool = False  # a term of the policy's confidential list
    model_threshold: float | None = None  # the profanity model's score at least this
    model_skips: tuple[str, ...] = ()  # lexicons whose words the model does not read
    # Where a pattern of this gate may match across whitespace: (view, what ends one word,
    # what starts the next), as pattern sources. Every other pattern must match inside a word
    # (a run without whitespace), which lets the planner read each distinct word once.
    across: tuple[tuple[str, str, str], ...] = ()
