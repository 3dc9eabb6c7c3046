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

The templates use only a few hundred distinct words. So a third batch gives the posts a real
vocabulary: a third of their words are replaced by words drawn with their real frequencies (the
document frequencies alt-profanity-check's vectoriser learnt from its training comments, about
13,000 words without the offensive ones, capitalised and punctuated at random), and one word
in ten by a word never seen before (a made-up name, handle, hashtag or typo, or a small
number). Every timed run of that batch is a fresh draw, so nothing the engine remembers from
one run helps the next more than in real use.

Run: .venv/bin/python bench/risk_speed.py [--posts N] [--runs N] [--skip-latency]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence

from profanity_check import predict_prob

from sixfold.risk import Context, check_batch, check_text

SEED = 20261121
OFFENSIVE = 0.5  # a vocabulary word's mean coefficient above which it counts as offensive
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


def vocabulary() -> tuple[list[str], list[float]]:
    """alt-profanity-check's vocabulary and each word's relative document frequency, from its
    inverse document frequency (idf = ln((1 + n) / (1 + df)) + 1). Its training texts are
    abusive comments as much as ordinary ones, so words the classifier leans on as offensive
    (mean coefficient over its folds above 0.5; 9.5% of draws) are left out: brand posts do not
    use them at that rate, and the templates already make one post in ten risky."""
    from profanity_check import profanity_check as packaged

    vectorizer, model = packaged.vectorizer, packaged.model
    folds = [clf.estimator.coef_.ravel() for clf in model.calibrated_classifiers_]
    columns = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    kept = [
        (word, math.exp(1.0 - vectorizer.idf_[column]))
        for word, column in columns
        if statistics.fmean(fold[column] for fold in folds) <= OFFENSIVE
    ]
    return [word for word, _ in kept], [weight for _, weight in kept]


def unseen_word(rng: random.Random) -> str:
    """A word no vocabulary holds: a made-up name, handle or hashtag, a typo, a small number."""
    syllables = "".join(
        rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4))
    )
    kind = rng.random()
    if kind < 0.1:
        return str(rng.randint(0, 2030))
    if kind < 0.2:
        return "@" + syllables + rng.choice(["", "_", str(rng.randint(1, 99))])
    if kind < 0.3:
        return "#" + syllables.capitalize() + rng.choice(["", "Day", "Life"])
    return syllables.capitalize() if kind < 0.5 else syllables


def varied(posts: Sequence[str], seed: int) -> list[str]:
    """The posts with a real vocabulary (see the module docstring), each made distinct."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    cumulative = list(itertools.accumulate(weights))
    marks = ["", "", "", "", ",", ".", "!", "?", ":"]
    out = []
    for i, post in enumerate(posts):
        parts = post.split(" ")
        for k in range(len(parts)):
            roll = rng.random()
            if roll < 0.1:
                parts[k] = unseen_word(rng)
            elif roll < 0.43:
                word = rng.choices(words, cum_weights=cumulative)[0]
                word = word.capitalize() if rng.random() < 0.2 else word
                parts[k] = word + rng.choice(marks)
        out.append(" ".join(parts) + " " + format(i, "b").replace("0", " ").replace("1", "\t"))
    return out


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


def rows(
    label: str, engine: list[tuple[float, float]], model: list[tuple[float, float]], count: int
) -> None:
    print(batch_row(f"sixfold.risk, {label}", median_times(engine), count))
    print(batch_row(f"alt-profanity-check predict_prob, {label}", median_times(model), count))


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
        rows(label, engine, model, len(batch))
    # A real vocabulary: warmed on one draw, then each run on a draw not seen before.
    draws = [varied(posts, SEED + k) for k in range(args.runs + 1)]
    check_batch(draws[0], context)
    predict_prob(draws[0])
    engine, model = [], []
    for batch in draws[1:]:
        words = {w for post in batch for w in post.split()}
        engine.append(timed(lambda batch=batch: check_batch(batch, context)))
        model.append(timed(lambda batch=batch: predict_prob(batch)))
    label = f"a real vocabulary, each run new posts ({len(words):,} distinct words)"
    rows(label, engine, model, len(posts))
    # The same posts again: every word is read by now, so this is what the batch costs
    # beyond reading new words, the part no word table can save.
    again = [timed(lambda: check_batch(draws[-1], context)) for _ in range(args.runs)]
    again_model = [timed(lambda: predict_prob(draws[-1])) for _ in range(args.runs)]
    rows("the last of those again, every word read", again, again_model, len(posts))
    mean_engine = statistics.fmean(cpu for _, cpu in engine)
    mean_model = statistics.fmean(cpu for _, cpu in model)
    print(
        f"\nreal vocabulary, mean of the {args.runs} new draws by CPU time (a full word table is "
        f"compacted on the way): engine {len(posts) / mean_engine:,.0f} posts/s, predict_prob "
        f"{len(posts) / mean_model:,.0f} posts/s ({mean_model / mean_engine:.2f}x)"
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
