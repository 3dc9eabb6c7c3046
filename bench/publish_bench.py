"""Publishing lateness and throughput: 1,000 posts due in the same minute, real workers.

    .venv/bin/python bench/publish_bench.py                  # starts a throwaway PostgreSQL
    .venv/bin/python bench/publish_bench.py --configs sqlite:1 --scenarios minute
    .venv/bin/python bench/publish_bench.py --postgres-url postgresql+psycopg://u@host/postgres

For each configuration (backend and number of `sixfold worker` processes) a fresh database
gets an organisation, an internal-stream channel and the posts, scheduled through the same
services the web app uses. Once the workers have started, the posts' due times are set:

- `minute`: spread uniformly over 60 s (post i due at t0 + i * 60 s / n), the issue's case;
- `burst`: all due at t0, which measures how fast the workers drain a backlog.

Lateness is `confirmed_at - due_at` per publication; throughput is publications divided by
the time from the first due time to the last confirmation. Beside our figures the table shows
a once-a-minute scheduler (Mixpost's, computed for the same due times, not run): each post
waits for the next whole minute.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.db import make_engine, make_sessionmaker, migrate, transaction, utcnow
from sixfold.org import service as org_service
from sixfold.publishing import drafts, schedule
from sixfold.publishing.models import PublishMode
from sixfold.publishing.publisher import Publication

REPO = Path(__file__).resolve().parent.parent
SIXFOLD = str(Path(sys.executable).with_name("sixfold"))
ACTOR = audit.Actor(id=None, label="benchmark")
TARGET_P99_SECONDS = 2.0
# Time between setting the due times and the first of them: the workers are idle by then.
LEAD_SECONDS = 2.0
DRAIN_TIMEOUT_SECONDS = 300
# Seconds over which the posts fall due.
SCENARIOS = {"minute": 60.0, "burst": 0.0}


@dataclass(frozen=True)
class Result:
    backend: str
    workers: int
    scenario: str
    lateness: list[float]
    throughput: float
    # Computed for comparison, not measured.
    reference: bool = False

    def quantile(self, q: float) -> float:
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def seed(factory: sessionmaker[Session], posts: int) -> None:
    """An organisation, an internal stream and `posts` posts scheduled for tomorrow."""
    with transaction(factory) as session:
        org = org_service.ensure_organisation(session, "Bench Org", "bench-org")
        author = org_service.create_person(
            session, org, name="Bench Author", email="author@bench.example", actor=ACTOR
        )
        session.flush()
        auth_service.assign_role(session, author, Role.CONTRIBUTOR, team=None, actor=ACTOR)
        stream = channels.create_channel(session, org, kind="internal", name="Stream", actor=ACTOR)
        tomorrow = utcnow() + timedelta(days=1)
        for n in range(posts):
            data = drafts.DraftInput(
                text=f"Benchmark post {n}: the harbour walk opens on Saturday.",
                channel_ids=[stream.id],
                publish_mode=PublishMode.AT,
                publish_at=tomorrow,
            )
            post = drafts.create_draft(session, org, author, data, actor=ACTOR)
            schedule.schedule_post(session, post, actor=ACTOR)


def set_due_times(factory: sessionmaker[Session], window: float) -> datetime:
    """Make post i due at t0 + i * window / n; return t0."""
    start = utcnow() + timedelta(seconds=LEAD_SECONDS)
    with transaction(factory) as session:
        ids = list(session.scalars(select(Publication.id).order_by(Publication.id)))
        for n, publication_id in enumerate(ids):
            due = start + timedelta(seconds=window * n / len(ids))
            session.execute(
                update(Publication)
                .where(Publication.id == publication_id)
                .values(due_at=due, next_attempt_at=due)
            )
    return start


def wait_until_published(factory: sessionmaker[Session], total: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with factory() as session:
            done = session.scalar(select(func.count()).where(Publication.state == "confirmed"))
        if done == total:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {done} of {total} publications confirmed in time")


def measure(factory: sessionmaker[Session]) -> tuple[list[float], float]:
    with factory() as session:
        rows = session.execute(select(Publication.due_at, Publication.confirmed_at)).all()
    pairs = [(due, confirmed) for due, confirmed in rows if confirmed is not None]
    lateness = [(confirmed - due).total_seconds() for due, confirmed in pairs]
    first_due = min(due for due, _ in pairs)
    last_confirmed = max(confirmed for _, confirmed in pairs)
    return lateness, len(rows) / (last_confirmed - first_due).total_seconds()


@contextlib.contextmanager
def workers(count: int, database_url: str, folder: Path) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXFOLD_")}
    env.update(SIXFOLD_DATABASE_URL=database_url, SIXFOLD_DATA_DIR=str(folder))
    env["SIXFOLD_SECRET_KEY"] = "benchmark-secret-key-" + "b" * 32
    logs = [folder / f"worker-{n}.log" for n in range(count)]
    processes = []
    for log in logs:
        with log.open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [SIXFOLD, "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
                )
            )
    try:
        while not all("started" in log.read_text() for log in logs):
            time.sleep(0.1)
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        problems = [line for log in logs for line in log.read_text().splitlines()]
        problems = [line for line in problems if line.strip() and "started" not in line]
        if problems:
            print("  worker log:", *problems[:10], sep="\n    ")


def run_config(
    engine: Engine, url: str, folder: Path, *, count: int, scenario: str, posts: int
) -> Result:
    factory = make_sessionmaker(engine)
    began = time.monotonic()
    seed(factory, posts)
    print(f"  seeded {posts} posts in {time.monotonic() - began:.1f} s", flush=True)
    with workers(count, url, folder):
        set_due_times(factory, SCENARIOS[scenario])
        wait_until_published(factory, posts)
    lateness, throughput = measure(factory)
    return Result(engine.dialect.name, count, scenario, lateness, throughput)


def minute_scheduler(result: Result, window: float) -> Result:
    """The same due times served by a scheduler that runs once a minute, from t0 on.

    Each post waits for the next run: lateness is (-offset) mod 60 s, which for due times
    spread over a minute is uniform between 0 and 60 s (the work of the run itself is free).
    """
    count = len(result.lateness)
    lateness = [(-(window * i / count)) % 60 for i in range(count)]
    return Result(
        "Mixpost-style, every minute (computed)", 1, result.scenario, lateness, math.nan, True
    )


def fresh_sqlite(folder: Path) -> tuple[Engine, str]:
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    return engine, url


def fresh_postgres(server_url: str) -> tuple[Engine, str]:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "sixfold_publish_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "sixfold_publish_bench"'))
    admin.dispose()
    url = server_url.rsplit("/", 1)[0] + "/sixfold_publish_bench"
    engine = make_engine(url)
    migrate(engine)
    return engine, url


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    sys.path.insert(0, str(REPO))
    pgcluster: Any = importlib.import_module("tests.pgcluster")
    cluster = pgcluster.start_cluster()
    try:
        yield str(cluster.url)
    finally:
        cluster.stop()


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load}"
    )


def report(results: list[Result]) -> None:
    print(
        "\n| backend | workers | scenario | publications | p50 s | p95 s | p99 s | max s "
        "| throughput /s |\n|---|--:|---|--:|--:|--:|--:|--:|--:|"
    )
    for r in results:
        rate = "–" if math.isnan(r.throughput) else f"{r.throughput:.1f}"
        print(
            f"| {r.backend} | {r.workers} | {r.scenario} | {len(r.lateness)} "
            f"| {r.quantile(0.50):.2f} | {r.quantile(0.95):.2f} | {r.quantile(0.99):.2f} "
            f"| {max(r.lateness):.2f} | {rate} |"
        )
    minute = [r for r in results if r.scenario == "minute" and not r.reference]
    if minute:
        worst = max(r.quantile(0.99) for r in minute)
        verdict = "met" if worst < TARGET_P99_SECONDS else "NOT met"
        print(f"\ntarget p99 < {TARGET_P99_SECONDS:.0f} s, minute scenario: worst {worst:.2f} s")
        print(f"target {verdict}")


def run_fresh(backend: str, count: int, scenario: str, posts: int, server: str | None) -> Result:
    with tempfile.TemporaryDirectory(prefix="sixfold-bench-") as folder:
        if backend == "sqlite":
            engine, url = fresh_sqlite(Path(folder))
        elif server is not None:
            engine, url = fresh_postgres(server)
        else:
            raise ValueError(f"unknown backend {backend!r}")
        try:
            return run_config(
                engine, url, Path(folder), count=count, scenario=scenario, posts=posts
            )
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--configs", default="sqlite:1,postgresql:1,postgresql:3")
    parser.add_argument("--scenarios", default="minute,burst")
    parser.add_argument("--postgres-url", help="a server URL; default: start a throwaway one")
    options = parser.parse_args(argv)
    # Stopping the benchmark must still stop the PostgreSQL cluster it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    configs = [(b, int(n)) for b, n in (c.split(":") for c in options.configs.split(","))]
    scenarios = options.scenarios.split(",")
    print(machine())
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        server = options.postgres_url
        if server is None and any(b == "postgresql" for b, _ in configs):
            server = stack.enter_context(throwaway_postgres())
        for scenario in scenarios:
            for backend, count in configs:
                print(f"{backend}, {count} worker(s), {scenario}:", flush=True)
                results.append(run_fresh(backend, count, scenario, options.posts, server))
            if scenario == "minute":
                results.append(minute_scheduler(results[-1], SCENARIOS[scenario]))
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
