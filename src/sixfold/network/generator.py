"""Synthetic organisations: departments, a reporting tree, heavy-tailed activity, mostly
internal ties and a few brokers — for the demo and for scale tests.

Everyone keeps a fixed list of regular contacts (mostly their team and department, a few
elsewhere; brokers many elsewhere) and each interaction picks one of them with Zipf-like
preference, which is what makes repeated interactions, and so ties, form as in real mail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from sixfold.network.importers.base import INTERACTION_SCHEMA
from sixfold.network.orgchart import IntArray, OrgChart, Person, build_orgchart

YEAR = 365 * 86_400
START = 1_767_225_600  # 2026-01-01T00:00:00Z
MANAGER_SLOT = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticSpec:
    people: int = 1_000
    interactions: int = 100_000
    mean_department_size: int = 40
    team_size: int = 7
    contacts: int = 24
    broker_share: float = 0.01
    outside_share: float = 0.25  # of an ordinary person's contacts
    broker_outside_share: float = 0.6
    broadcast_messages: int = 20
    broadcast_recipients: int = 40
    events: bool = True  # a silo forms, two departments merge, brokers leave (see _events)
    seed: int = 1


# Days of the year on which the scripted events happen, so the timeline has something to show.
SILO_DAY, MERGE_DAY, LEAVE_DAY = 150, 220, 280
LEAVERS = 3


def generate_organisation(spec: SyntheticSpec) -> tuple[OrgChart, pl.DataFrame]:
    rng = np.random.default_rng(spec.seed)
    department, manager = _structure(spec, rng)
    chart = build_orgchart(
        [
            Person(
                f"p{i:06d}",
                f"Person {i}",
                f"p{i:06d}@example.org",
                "",
                f"Dept {department[i]:04d}",
                "" if manager[i] < 0 else f"p{manager[i]:06d}",
            )
            for i in range(spec.people)
        ]
    )
    contacts, brokers = _contacts(spec, rng, department, manager)
    frame = _interactions(spec, rng, contacts, chart, brokers)
    return chart, frame


def interactions_among(chart: OrgChart, spec: SyntheticSpec) -> pl.DataFrame:
    """Synthetic interactions among the people of an existing org chart (the demo's).

    The people keep their departments and managers; `spec.people` is ignored. The scripted
    events address departments by their position in `chart.departments` (sorted names):
    department 1 becomes a silo, 2 and 3 start working as one.
    """
    # Contacts are drawn per department from contiguous blocks of people.
    ordered = build_orgchart(
        [chart.people[i] for i in np.argsort(chart.department_of, kind="stable")]
    )
    sized = replace(spec, people=ordered.size)
    rng = np.random.default_rng(sized.seed)
    contacts, brokers = _contacts(sized, rng, ordered.department_of, ordered.manager_of)
    return _interactions(sized, rng, contacts, ordered, brokers)


def _structure(spec: SyntheticSpec, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Department of each person and the manager index (-1 for the chief executive)."""
    sizes: list[int] = []
    while sum(sizes) < spec.people - 1:
        sizes.append(max(5, int(rng.lognormal(np.log(spec.mean_department_size), 0.5))))
    sizes[-1] -= sum(sizes) - (spec.people - 1)
    if sizes[-1] < 2 and len(sizes) > 1:
        sizes[-2] += sizes.pop()
    department = np.concatenate([[0], np.repeat(np.arange(len(sizes)), sizes)]).astype(np.int64)
    manager = np.full(spec.people, -1, dtype=np.int64)
    start = 1
    for size in sizes:
        head = start
        manager[head] = 0  # department heads report to the chief executive
        members = np.arange(head + 1, start + size)
        leads = members[:: spec.team_size]
        manager[leads] = head
        team_lead = leads[(members - (head + 1)) // spec.team_size]
        manager[members] = np.where(np.isin(members, leads), head, team_lead)
        start += size
    return department, manager


def _contacts(
    spec: SyntheticSpec, rng: np.random.Generator, department: IntArray, manager: IntArray
) -> tuple[IntArray, IntArray]:
    """Each person's regular contacts (people × slots) and the indices of the brokers."""
    count = spec.people
    first = np.searchsorted(department, department, side="left")
    size = np.bincount(department)[department]
    broker = rng.random(count) < spec.broker_share
    outside = np.where(broker, spec.broker_outside_share, spec.outside_share)
    slots = rng.random((count, spec.contacts))
    inside = first[:, None] + rng.integers(0, 1 << 30, (count, spec.contacts)) % size[:, None]
    anywhere = rng.integers(0, count, (count, spec.contacts))
    contacts = np.where(slots < outside[:, None], anywhere, inside)
    # One of the usual contacts is the manager (or a colleague, for the chief executive);
    # not the very first slot, which Zipf preference would make everyone's favourite.
    contacts[:, MANAGER_SLOT] = np.where(manager >= 0, manager, contacts[:, MANAGER_SLOT])
    return contacts.astype(np.int64), np.flatnonzero(broker)


def _interactions(
    spec: SyntheticSpec,
    rng: np.random.Generator,
    contacts: IntArray,
    chart: OrgChart,
    brokers: IntArray,
) -> pl.DataFrame:
    activity = rng.pareto(1.5, spec.people) + 1.0
    source = rng.choice(spec.people, size=spec.interactions, p=activity / activity.sum())
    rank = np.arange(1, spec.contacts + 1, dtype=np.float64)
    slot = rng.choice(spec.contacts, size=spec.interactions, p=(1 / rank) / (1 / rank).sum())
    target = contacts[source, slot]
    target = np.where(target == source, contacts[source, (slot + 1) % spec.contacts], target)
    day = rng.integers(0, 365, spec.interactions)
    day = np.clip(
        day - np.where((day + 3) % 7 >= 5, rng.integers(1, 3, spec.interactions), 0), 0, 364
    )
    keep = np.ones(spec.interactions, dtype=bool)
    if spec.events:
        target, keep = _events(rng, chart.department_of, source, target, day, brokers)
    source, target, day = source[keep], target[keep], day[keep]
    count = len(source)
    when = START + day * 86_400 + rng.integers(8 * 3600, 18 * 3600, count)
    ids = np.asarray(chart.ids)
    frame = pl.DataFrame(
        {
            "timestamp": when.astype(np.int64),
            "source": ids[source],
            "target": ids[target],
            "kind": rng.choice(
                ["email", "reply", "mention", "meeting"], count, p=[0.5, 0.25, 0.15, 0.1]
            ),
            "weight": np.ones(count),
            "message_id": None,
        },
        schema=INTERACTION_SCHEMA,
    )
    return pl.concat([frame, _broadcasts(spec, rng, ids)])


def _events(
    rng: np.random.Generator,
    department: IntArray,
    source: IntArray,
    target: IntArray,
    day: IntArray,
    brokers: IntArray,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Scripted changes: from SILO_DAY department 1 talks only to itself; from MERGE_DAY
    departments 2 and 3 work as one; from LEAVE_DAY the first brokers have left."""
    target = target.copy()
    members = [np.flatnonzero(department == code) for code in (1, 2, 3)]
    if any(len(group) == 0 for group in members):
        return target, np.ones(len(source), dtype=bool)
    silo = (department[source] == 1) & (day >= SILO_DAY) & (department[target] != 1)
    target[silo] = rng.choice(members[0], int(silo.sum()))
    # The rest of the organisation stops reaching in, too (most of the time).
    shut_out = (
        (department[target] == 1)
        & (department[source] != 1)
        & (day >= SILO_DAY)
        & (rng.random(len(day)) < 0.9)
    )
    for mine, other in ((2, members[2]), (3, members[1])):
        merged = (department[source] == mine) & (day >= MERGE_DAY) & (rng.random(len(day)) < 0.3)
        target[merged] = rng.choice(other, int(merged.sum()))
    leavers = brokers[:LEAVERS]
    gone = (day >= LEAVE_DAY) & (np.isin(source, leavers) | np.isin(target, leavers))
    return target, ~gone & ~shut_out & (target != source)


def _broadcasts(spec: SyntheticSpec, rng: np.random.Generator, ids: np.ndarray) -> pl.DataFrame:
    """All-hands e-mails: many recipients each, so the analysis must set them aside."""
    recipients = min(spec.broadcast_recipients, spec.people - 1)
    rows = spec.broadcast_messages * recipients
    message = np.repeat(np.arange(spec.broadcast_messages), recipients)
    return pl.DataFrame(
        {
            "timestamp": START + rng.integers(0, YEAR, spec.broadcast_messages)[message],
            "source": ids[0],
            "target": ids[1 + np.arange(rows) % (spec.people - 1)],
            "kind": "email",
            "weight": 1.0,
            "message_id": [f"all-hands-{m}" for m in message.tolist()],
        },
        schema=INTERACTION_SCHEMA,
    )


def write_people_csv(chart: OrgChart, path: Path) -> None:
    pl.DataFrame(
        {
            "id": [p.id for p in chart.people],
            "name": [p.name for p in chart.people],
            "email": [p.email for p in chart.people],
            "title": [p.title for p in chart.people],
            "department": [p.department for p in chart.people],
            "manager_id": [p.manager_id for p in chart.people],
        }
    ).write_csv(path)


def write_interactions_csv(frame: pl.DataFrame, path: Path) -> None:
    """ISO 8601 timestamps, as most exports carry them, so imports are timed realistically."""
    frame.with_columns(
        pl.from_epoch("timestamp", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ).write_csv(path)
