"""Speed of the risk engine, side by side with alt-profanity-check, on 20,000 realistic posts.

Posts are generated from templates of ordinary brand posts (launches, offers, events, support
replies, links, hashtags, emoji, other languages) with a fixed seed, and one in ten carries a risk
(profanity, a tragedy next to a sale, a leak, personal data, a secret).

Everything is warm: each library checks each batch once before it is timed (the engine's first
pass over a batch fills its token caches and the allocator's pools, and runs 20-25% slower).
Each is then timed ``--runs`` times, the two alternating, and the median is shown.

Figures: batch throughput (posts/s, by the wall clock and by this thread's CPU time, which other
processes on a shared machine do not inflate) and single-post latency (p50, p99), for the full
engine and for alt-profanity-check's ``predict_prob`` on the same posts in the same run. The
generated posts repeat (templates): about half are copies, and the engine checks a copy once.
So the batch is also timed on the same posts made distinct, where it cannot.

Run: .venv/bin/python bench/risk_speed.py [--posts N] [--runs N] [--skip-latency]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence

from profanity_check import predict_prob

from sixfold.risk import Context, check_batch, check_text

SEED = 20261121
PRODUCTS = [
    "trail runner",
    "rain shell",
    "oat latte",
    "city bike",
    "face serum",
    "dog biscuits",
    "winter parka",
    "espresso blend",
    "yoga mat",
    "camping stove",
    "phone plan",
    "croissant",
]
OPENERS = [
    "Meet the new",
    "Say hello to our",
    "Back by popular demand: the",
    "Just landed: the",
    "You asked, we listened. The",
    "Fresh from the studio, our",
    "Weekend plans? Try our",
]
CLOSERS = [
    "Link in bio.",
    "Available in stores and online.",
    "While stocks last.",
    "Tag a friend who needs this!",
    "Which colour would you pick?",
    "See you there!",
    "Thanks for being part of our community.",
    "Shop now at example.com/new",
]
OFFERS = [
    "20% off this weekend",
    "free delivery over £40",
    "two for one until Sunday",
    "members get early access",
    "use code AUTUMN15 at checkout",
    "prices from $19",
]
EVENTS = [
    "Join us Saturday at 10am for a community run",
    "Our Leeds store opens on 3 May",
    "Live Q&A with our head roaster on Thursday",
    "Volunteer day at the city farm",
    "Meteor shower viewing party at the rooftop bar",
    "Photo shoot behind the scenes",
]
SUPPORT = [
    "Sorry to hear that, {name}! DM us your order number and we'll sort it.",
    "Hi {name}, our team is on it. Thanks for your patience.",
    "Thanks {name}, glad you loved it! 💚",
    "@{handle} we've sent you a DM.",
]
FOREIGN = [
    "Nouvelle collection disponible en boutique dès aujourd'hui.",
    "Neue Kollektion ab heute im Laden erhältlich.",
    "Nueva colección ya disponible.",
    "Новая коллекция уже в магазинах.",
    "新コレクション、本日発売。",
    "Νέα συλλογή τώρα διαθέσιμη.",
]
TAGS = [
    "#NewIn",
    "#WeekendVibes",
    "#CoffeeTime",
    "#Outdoors",
    "#SmallBatch",
    "#MondayMotivation",
    "#TeamWork",
    "#Sustainability",
]
EMOJI = ["☕", "🚲", "🌧️", "🔥", "✨", "🐶", "🎉", "💚", ""]
NAMES = ["Priya", "Tom", "Aisha", "Lukas", "Mei", "Jordan"]
RISKY = [
    "Hurricane season? Stock up, 30% off all rain gear!",
    "what the f.u.c.k is wrong with this delivery firm",
    "Q3 numbers look great, keep it quiet until the board meets",
    "Customer card 4111 1111 1111 1111 was declined again",
    "staging key AKIAIOSFODNN7EXAMPLE if anyone needs it",
    "so drunk at the launch party lol",
    "Earthquake relief? Nah, earthquake DEALS. Shop now",
    "Vote Republican and get 10% off",
    "That 9-year-old on the talent show is so annoying and ugly",
    "Claim your free jacket: http://bit.ly/3xHRgift",
]


def realistic_posts(count: int, seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    makers: list[Callable[[], str]] = [
        lambda: f"{rng.choice(OPENERS)} {rng.choice(PRODUCTS)}. {rng.choice(CLOSERS)}",
        lambda: f"{rng.choice(PRODUCTS).capitalize()}s: {rng.choice(OFFERS)}! {rng.choice(TAGS)}",
        lambda: f"{rng.choice(EVENTS)}. {rng.choice(CLOSERS)} {rng.choice(EMOJI)}",
        lambda: rng.choice(SUPPORT).format(
            name=rng.choice(NAMES), handle=rng.choice(NAMES).lower()
        ),
        lambda: f"{rng.choice(FOREIGN)} {rng.choice(TAGS)}",
    ]
    posts = []
    for _ in range(count):
        if rng.random() < 0.1:
            posts.append(rng.choice(RISKY))
        else:
            parts = [rng.choice(makers)() for _ in range(rng.choice((1, 1, 2, 3)))]
            posts.append(" ".join(parts))
    return posts


def distinct(posts: Sequence[str]) -> list[str]:
    """The same posts, each made unique by a run of trailing spaces and tabs that spells its
    number in binary: verdicts do not change, but no two posts are equal any more, so the
    engine cannot reuse one post's verdict for another."""
    return [
        post + " " + format(i, "b").replace("0", " ").replace("1", "\t")
        for i, post in enumerate(posts)
    ]


def latencies(call: Callable[[str], object], posts: Sequence[str]) -> list[float]:
    times = []
    for post in posts:
        start = time.perf_counter()
        call(post)
        times.append(time.perf_counter() - start)
    return sorted(times)


def percentile(sorted_times: Sequence[float], fraction: float) -> float:
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * fraction))]


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread): other processes slow the first, not the
    second."""
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return time.perf_counter() - wall, time.thread_time() - cpu


def median_times(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def batch_row(name: str, seconds: tuple[float, float], count: int) -> str:
    wall, cpu = seconds
    return f"| {name} | {count / wall:,.0f} | {count / cpu:,.0f} |"


def latency_row(name: str, times: Sequence[float], count: int) -> str:
    return (
        f"| {name} | {count / sum(times):,.0f} | "
        f"{percentile(times, 0.5) * 1e3:.3f} | {percentile(times, 0.99) * 1e3:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per batch (median)")
    parser.add_argument("--skip-latency", action="store_true", help="batch figures only")
    args = parser.parse_args()
    posts = realistic_posts(args.posts)
    unique = distinct(posts)
    context = Context()
    check_batch(posts[:2000], context)  # warm: lexicons, model, detectors, caches
    predict_prob(posts[:2000])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"posts: {len(posts):,} ({len(set(posts)):,} different)  python "
        f"{platform.python_version()}  cores: {os.cpu_count()}  load average at start: {load:.2f}"
    )
    print(
        f"\n| batch of {len(posts):,}, median of {args.runs} "
        "| posts/s (wall clock) | posts/s (CPU time) |"
    )
    print("| --- | ---: | ---: |")
    for label, batch in (("generated posts", posts), ("the same made distinct", unique)):
        check_batch(batch, context)
        predict_prob(batch)
        engine, model = [], []
        for _ in range(args.runs):
            engine.append(timed(lambda batch=batch: check_batch(batch, context)))
            model.append(timed(lambda batch=batch: predict_prob(batch)))
        print(batch_row(f"sixfold.risk, {label}", median_times(engine), len(batch)))
        print(
            batch_row(f"alt-profanity-check predict_prob, {label}", median_times(model), len(batch))
        )
    if args.skip_latency:
        return
    engine_times = latencies(lambda p: check_text(p, context), posts)
    model_times = latencies(lambda p: predict_prob([p]), posts)
    print("\n| one post at a time | posts/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    print(latency_row("sixfold.risk (all scanners)", engine_times, len(posts)))
    print(latency_row("alt-profanity-check predict_prob", model_times, len(posts)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nmean single-post latency: engine {statistics.fmean(engine_times) * 1e3:.3f} ms, "
        f"predict_prob {statistics.fmean(model_times) * 1e3:.3f} ms; load at end: {load:.2f}"
    )


if __name__ == "__main__":
    main()
