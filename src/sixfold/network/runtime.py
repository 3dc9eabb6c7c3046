"""How many threads NetworKit may use for one call.

On small graphs OpenMP's start-up and spin-waiting cost more than the work, and on a busy
2-core machine they cost a great deal more (a 7-level Louvain sweep of email-eu-core: 0.02 s
on one thread, 0.8 s on two). So small graphs run on one thread and large ones on all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import networkit as nk

PARALLEL_FROM_TIES = 200_000


@contextmanager
def threads_for(ties: int) -> Iterator[None]:
    """Run the enclosed NetworKit calls single-threaded below PARALLEL_FROM_TIES ties."""
    before = nk.getMaxNumberOfThreads()
    if ties < PARALLEL_FROM_TIES:
        nk.setNumberOfThreads(1)
    try:
        yield
    finally:
        nk.setNumberOfThreads(before)
