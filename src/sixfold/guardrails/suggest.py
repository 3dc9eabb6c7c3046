"""Which news items read like a sensitive event, of what kind, and the words posts would use.

An item qualifies by the same rule as the tragedy-and-promotion scanner, over the same
lexicons: one unambiguous word of disaster, death, war, unrest, oppression, crime or terror, or
two different figurative ones ("storm", "crash"); idioms ("price war") never count. Keywords are
the names in the headline (runs of capitalised words) and the tragedy words it uses; a person
reads and edits them before anything enters the register.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from sixfold.guardrails.categories import LEXICON_KINDS
from sixfold.risk import Document, Hit, LexiconIndex
from sixfold.risk.lexicon import IDIOMS, builtin_lexicons
from sixfold.risk.scanners.tragedy import STRONG, WEAK

MAX_KEYWORDS = 10
_WORD = re.compile(r"[^\W\d_][\w'’.-]*[\w]|[^\W\d_]|\d[\w-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Capitalised words that start headlines without naming anything.
_NOT_NAMES = frozenset(
    """a an the in on at after before as for of and or but to by with from over under into
    amid near breaking live update updates latest news watch video photos exclusive opinion
    analysis explainer why how what when where who which is are was were be this that these
    those it its his her their our we you they he she new more most says say said report
    reports dozens hundreds thousands many several some two three four five first last least
    than not no yes all one man woman people police officials local""".split()  # noqa: SIM905 - a word list
)


class _TextOnly(HTMLParser):
    """Keeps the text of an HTML fragment; scripts and styles are dropped with their content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(fragment: str) -> str:
    """An HTML fragment (a feed title may be HTML) as one line of plain text."""
    parser = _TextOnly()
    parser.feed(fragment)
    parser.close()
    return " ".join(_CONTROL.sub(" ", "".join(parser.parts)).split())


@functools.cache
def _tragedy_index() -> LexiconIndex:
    lexicons = builtin_lexicons()
    return LexiconIndex({name: lexicons[name] for name in (*STRONG, WEAK, IDIOMS)})


def _tragic_hits(text: str) -> list[Hit]:
    """Hits that make the text read as tragic (strong words, or two figurative ones)."""
    found = _tragedy_index().find(Document(text))
    strong = [hit for name in STRONG for hit in found.get(name, ())]
    weak = found.get(WEAK, [])
    if not strong and len({hit.term for hit in weak}) < 2:
        return []
    return sorted([*strong, *weak], key=lambda hit: hit.original_start)


def suggestion_for(title: str, summary: str = "") -> tuple[str, list[str]] | None:
    """(kind, keywords) when a news item reads like a sensitive event, otherwise None."""
    hits = _tragic_hits(f"{title}\n{summary}")
    if not hits:
        return None
    in_title = [hit for hit in hits if hit.original_end <= len(title)]
    lexicons = {hit.lexicon for hit in hits}
    kind = next(LEXICON_KINDS[name] for name in LEXICON_KINDS if name in lexicons)
    source = f"{title}\n{summary}"
    terms = [source[h.original_start : h.original_end].lower() for h in in_title or hits]
    return kind, _unique([*names_in(title, in_title), *terms])[:MAX_KEYWORDS]


def names_in(title: str, tragic: list[Hit]) -> list[str]:
    """Runs of capitalised words ("Northern Italy", "Hurricane Mara"), minus headline words;
    punctuation ends a run. A tragedy word joins a run only as part of a name, and only when
    the headline is not written in Title Case, where every word would look like a name."""
    taken = [(h.original_start, h.original_end) for h in tragic]
    words = [(m, m.group(0).rstrip(".")) for m in _WORD.finditer(title)]
    title_case = _is_title_case([word for _, word in words])
    runs: list[list[tuple[str, bool]]] = [[]]
    previous_end = 0
    for match, word in words:
        if title[previous_end : match.start()].strip():
            runs.append([])
        previous_end = match.end()
        is_tragic = any(s <= match.start() < e for s, e in taken)
        if (
            word[:1].isupper()
            and word.casefold() not in _NOT_NAMES
            and not (is_tragic and title_case)
        ):
            runs[-1].append((word, is_tragic))
        else:
            runs.append([])
    names = [run for run in runs if any(not tragic_word for _, tragic_word in run)]
    return [" ".join(word for word, _ in run) for run in names if len(run[0][0]) > 1 or run[1:]]


def _is_title_case(words: list[str]) -> bool:
    long = [word for word in words if len(word) > 3]
    return len(long) >= 3 and sum(word[:1].isupper() for word in long) > 0.7 * len(long)


def _unique(words: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in words:
        key = word.casefold()
        if key not in seen and len(word) <= 100:
            seen.add(key)
            out.append(word)
    return out
