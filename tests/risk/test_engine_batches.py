"""Batches in the engine: which posts count as the same, and the shared collector pause."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time

from sixfold.risk import BatchItem, Context, check_batch, check_text
from sixfold.risk.engine import _CollectorPause

TEXT = "Remembering the twin towers today. 20% off everything, shop now!"


def test_the_same_instant_in_two_zones_is_checked_on_each_posting_day() -> None:
    utc = dt.datetime(2001, 9, 11, 23, 30, tzinfo=dt.UTC)
    east = utc.astimezone(dt.timezone(dt.timedelta(hours=2)))  # already 12 September
    context = Context()
    batch = check_batch([BatchItem(TEXT, when=utc), BatchItem(TEXT, when=east)], context)
    alone = [check_text(TEXT, context.on(when)) for when in (utc, east)]
    assert batch == alone


def test_the_collector_stays_off_until_the_last_batch_ends_and_then_comes_back() -> None:
    pause = _CollectorPause()
    assert gc.isenabled()
    first_inside, second_done = threading.Event(), threading.Event()

    def second() -> None:
        first_inside.wait()
        with pause():
            assert not gc.isenabled()
        second_done.set()

    helper = threading.Thread(target=second)
    helper.start()
    with pause():
        first_inside.set()
        second_done.wait(5)
        assert not gc.isenabled()  # the other batch ended; this one still runs
    helper.join()
    assert gc.isenabled()


def test_many_threads_entering_and_leaving_leave_the_collector_on() -> None:
    pause = _CollectorPause()

    def churn() -> None:
        for _ in range(2000):
            with pause():
                pass

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def test_a_very_long_host_name_is_judged_in_linear_time() -> None:
    started = time.perf_counter()
    verdicts = check_batch(["see " + "x" * 50_000 + ".com today"] * 3)
    assert time.perf_counter() - started < 2.0
    assert verdicts[0] == check_text("see " + "x" * 50_000 + ".com today")
