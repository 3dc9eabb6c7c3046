"""Benchmark of the org-chart CSV import on SQLite and PostgreSQL.

    .venv/bin/python bench/org_import_bench.py                    # starts a throwaway PostgreSQL
    .venv/bin/python bench/org_import_bench.py --postgres-url postgresql+psycopg://u@host/db
    .venv/bin/python bench/org_import_bench.py --backends sqlite --rows 10000

It generates a realistic chart (a CEO, eight departments with teams and sub-teams, a reporting
tree of spans between four and nine, extra HR columns, rows sorted by name so that many people
come before their managers), then times each phase in a fresh database per repetition and
prints the median and the fastest run. Each import includes its commit.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.db import make_engine, make_sessionmaker, migrate
from sixfold.org.demo import FIRST, LAST
from sixfold.org.importer import ParsedChart, apply_org_chart, parse_org_chart, validate_org_chart
from sixfold.org.models import Organisation

REPO = Path(__file__).resolve().parent.parent
ACTOR = audit.Actor(id=None, label="benchmark")
DEPARTMENTS = {
    "Engineering": [
        "Platform/Runtime",
        "Platform/Storage",
        "Product/Web",
        "Product/Mobile",
        "Data/Analytics",
        "Data/Machine Learning",
        "Security",
    ],
    "Sales": ["EMEA/North", "EMEA/South", "Americas", "APAC", "Solutions"],
    "Marketing": ["Brand", "Content", "Events", "Growth"],
    "Customer Success": ["Support/Tier 1", "Support/Tier 2", "Onboarding"],
    "Finance": ["Accounting", "Planning", "Procurement"],
    "People": ["Talent", "Learning", "Operations"],
    "Operations": ["Facilities", "IT", "Legal"],
    "Research": ["Applied", "Foundations"],
}
LOCATIONS = ["Amsterdam", "Berlin", "Lisbon", "Remote", "Stockholm", "New York", "Singapore"]
TITLES = [
    "Chief Executive",
    "Vice President",
    "Director",
    "Senior Manager",
    "Manager",
    "Team Lead",
    "Senior Specialist",
    "Specialist",
]


def generate_chart(rows: int, seed: int = 2026) -> bytes:
    """A chart of `rows` people as CSV bytes, sorted by name as HR exports often are."""
    rng = random.Random(seed)
    people = [_person(rng, 0, 0, None, "")]
    people += [_person(rng, i + 1, 1, 0, department) for i, department in enumerate(DEPARTMENTS)]
    # Breadth first: each person in turn gets between four and nine reports.
    cursor = 1
    while len(people) < rows:
        manager = people[cursor]
        level, department = int(manager["level"]), manager["department"]
        for _ in range(min(rng.randrange(4, 10), rows - len(people))):
            # Department heads spread their reports over the department's teams.
            team = (
                f"{department}/{rng.choice(DEPARTMENTS[department])}" if level == 1 else department
            )
            people.append(_person(rng, len(people), level + 1, cursor, team))
        cursor += 1
    people.sort(key=lambda person: person["name"])
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(people[0])[:-1], lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(people)
    return buffer.getvalue().encode("utf-8")


def _person(
    rng: random.Random, index: int, level: int, manager: int | None, department: str
) -> dict[str, str]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return {
        "id": f"EMP{100000 + index}",
        "name": name,
        "email": f"{name.split()[0].lower()}.{index}@example.com",
        "title": TITLES[min(level, len(TITLES) - 1)],
        "department": department,
        "manager_id": "" if manager is None else f"EMP{100000 + manager}",
        "location": rng.choice(LOCATIONS),
        "cost_centre": f"CC-{rng.randrange(100, 999)}",
        "employment_type": rng.choice(["permanent", "permanent", "permanent", "contractor"]),
        "start_date": f"20{rng.randrange(10, 26)}-{rng.randrange(1, 13):02d}-01",
        "level": str(level),  # for the generator only, not written to the file
    }


@dataclass
class Timings:
    figures: dict[tuple[str, str], list[float]]

    def add(self, backend: str, phase: str, seconds: float) -> None:
        self.figures.setdefault((backend, phase), []).append(seconds)


@contextmanager
def timed(timings: Timings, backend: str, phase: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings.add(backend, phase, time.perf_counter() - started)


def run_once(
    engine: Engine, backend: str, data: bytes, parsed: ParsedChart, timings: Timings
) -> None:
    factory = make_sessionmaker(engine)
    with factory() as session:
        organisation = Organisation(name="Benchmark", slug="benchmark")
        session.add(organisation)
        session.commit()
        with timed(timings, backend, "validate (no one there yet)"):
            errors = validate_org_chart(session, organisation, parsed)
        assert not errors, errors[:3]
        _import(session, organisation, parsed, timings, backend, "first import", "created")
        with timed(timings, backend, "validate (everyone there)"):
            errors = validate_org_chart(session, organisation, parsed)
        assert not errors, errors[:3]
        _import(
            session, organisation, parsed, timings, backend, "re-import, unchanged", "unchanged"
        )
        changed = parse_org_chart(data.replace(b",Berlin,", b",Berlin Mitte,", 2_000))
        _import(
            session,
            organisation,
            changed,
            timings,
            backend,
            "re-import, 2,000 locations changed",
            "updated",
        )


def _import(
    session: Session,
    organisation: Organisation,
    parsed: ParsedChart,
    timings: Timings,
    backend: str,
    phase: str,
    expect: str,
) -> None:
    with timed(timings, backend, phase):
        result = apply_org_chart(session, organisation, parsed, actor=ACTOR)
        session.commit()
    assert not result.errors, result.errors[:3]
    print(
        f"  {backend:<10} {phase:<34} {timings.figures[(backend, phase)][-1]:6.2f} s  "
        f"({expect}: {getattr(result, expect):,})",
        flush=True,
    )


def sqlite_engines(repeat: int) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="sixfold-bench-") as folder:
        for attempt in range(repeat):
            engine = make_engine(f"sqlite:///{folder}/bench-{attempt}.db")
            migrate(engine)
            yield engine
            engine.dispose()


def postgres_engines(server_url: str, repeat: int) -> Iterator[Engine]:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    for _ in range(repeat):
        with admin.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "sixfold_bench" WITH (FORCE)'))
            connection.execute(text('CREATE DATABASE "sixfold_bench"'))
        engine = make_engine(server_url.rsplit("/", 1)[0] + "/sixfold_bench")
        migrate(engine)
        yield engine
        engine.dispose()
    admin.dispose()


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    sys.path.insert(0, str(REPO))
    pgcluster: Any = importlib.import_module("tests.pgcluster")
    cluster = pgcluster.start_cluster()
    try:
        yield str(cluster.url)
    finally:
        cluster.stop()


def report(timings: Timings, rows: int) -> None:
    print("\n| backend | phase | median s | fastest s | rows/s (median) |\n|---|---|--:|--:|--:|")
    for (backend, phase), values in timings.figures.items():
        median = statistics.median(values)
        print(f"| {backend} | {phase} | {median:.2f} | {min(values):.2f} | {rows / median:,.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", help="a server URL; default: start a throwaway one")
    options = parser.parse_args(argv)
    # Stopping the benchmark must still stop the PostgreSQL cluster it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = [name.strip() for name in options.backends.split(",")]
    timings = Timings({})
    with timed(timings, "-", "generate"):
        data = generate_chart(options.rows)
    print(f"chart: {options.rows:,} rows, {len(data) / 1024 / 1024:.1f} MiB")
    for _ in range(options.repeat):
        with timed(timings, "-", "parse and check rows"):
            parsed = parse_org_chart(data)
    assert not parsed.errors, parsed.errors[:3]
    if "sqlite" in backends:
        _run_backend("sqlite", sqlite_engines(options.repeat), data, parsed, timings)
    if "postgresql" in backends:
        if options.postgres_url:
            engines = postgres_engines(options.postgres_url, options.repeat)
            _run_backend("postgresql", engines, data, parsed, timings)
        else:
            with throwaway_postgres() as url:
                engines = postgres_engines(url, options.repeat)
                _run_backend("postgresql", engines, data, parsed, timings)
    report(timings, options.rows)
    return 0


def _run_backend(
    backend: str, engines: Iterator[Engine], data: bytes, parsed: ParsedChart, timings: Timings
) -> None:
    for engine in engines:
        run_once(engine, backend, data, parsed, timings)


if __name__ == "__main__":
    raise SystemExit(main())
